#include "core/exception_type.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>

namespace relais {

std::string current_exception_type() {
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (type == nullptr) {
        return "unknown";
    }
    int status = 0;
    char* demangled = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
    std::string name = (status == 0 && demangled != nullptr) ? demangled : type->name();
    std::free(demangled);
    return name;
}

}  // namespace relais
