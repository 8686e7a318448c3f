#pragma once
// Boost.Regex with a bounded amount of work per match. Patterns run on I/O
// threads: Boost's default allows 100 million matcher states, about a second
// on a hostile value; a million states refuses a catastrophic pattern in
// milliseconds while leaving room for any sane pattern on 64 KiB.
// Include this header, never <boost/regex.hpp>, so that every use agrees on
// the limit. It is a system header only so that Boost's own old-style cast of
// the limit does not warn here.
#pragma GCC system_header

#define BOOST_REGEX_MAX_STATE_COUNT 1000000
#include <boost/regex.hpp>
