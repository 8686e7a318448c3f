#include "cli/options.hpp"

#include <cstdio>

namespace relais::cli {

std::optional<std::string_view> option_value(std::span<char* const> args, std::size_t& i,
                                             std::string_view name) {
    const std::string_view arg(args[i]);
    if (arg == name && i + 1 < args.size()) {
        return std::string_view(args[++i]);
    }
    if (arg.starts_with(name) && arg.substr(name.size()).starts_with('=')) {
        return arg.substr(name.size() + 1);
    }
    return std::nullopt;
}

int usage_error(std::string_view command, std::string_view message, std::string_view usage) {
    std::string text = "relais ";
    text += command;
    text += ": ";
    text += message;
    text += "\n\n";
    text += usage;
    std::fputs(text.c_str(), stderr);
    return 2;
}

std::optional<std::string> config_file_argument(std::string_view command, std::string_view usage,
                                                std::span<char* const> args) {
    std::string file;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (const auto value = option_value(args, i, "--config")) {
            file = *value;
        } else {
            usage_error(command, "unexpected argument '" + std::string(args[i]) + "'", usage);
            return std::nullopt;
        }
    }
    if (file.empty()) {
        usage_error(command, "--config FILE is required", usage);
        return std::nullopt;
    }
    return file;
}

}  // namespace relais::cli
