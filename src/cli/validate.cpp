// Placeholder until the validate command lands; replaced by its owner.
#include "cli/commands.hpp"

namespace relais::cli {

int validate(std::span<char* const>) { return 1; }

}  // namespace relais::cli
