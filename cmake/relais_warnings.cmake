# -Wnull-dereference is left out: GCC 12 reports false positives inside
# Asio's and RapidJSON's headers.
# -Wmismatched-new-delete is turned off for GCC 12: Asio allocates coroutine
# frames with aligned_alloc and frees them through its own operator delete;
# when both are inlined into a coroutine's ramp, GCC reports a mismatch that
# is not one (depending only on how the coroutine is shaped).
# -Wrestrict is turned off for GCC 12 too: at -O3 (Release, the benchmark's
# build) it reports an overlapping memcpy inside libstdc++'s
# `"text" + std::string`, a known false positive of that version (GCC bug
# 105329), in a dozen places.
function(relais_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete -Wno-restrict)
  endif()
endfunction()
