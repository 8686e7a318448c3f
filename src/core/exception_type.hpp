#pragma once
/// @file
/// Naming an exception in a log line without its message, which may quote
/// request values.

#include <string>

namespace relais {

/// The demangled dynamic type of the exception being handled; call it
/// inside a catch block ("unknown" outside one).
std::string current_exception_type();

}  // namespace relais
