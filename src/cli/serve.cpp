// Placeholder until the serve command lands; replaced by its owner.
#include "cli/commands.hpp"

namespace relais::cli {

int serve(std::span<char* const>) { return 1; }

}  // namespace relais::cli
