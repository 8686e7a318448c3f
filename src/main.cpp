#include "cli/commands.hpp"

int main(int argc, char** argv) { return relais::cli::run(argc, argv); }
