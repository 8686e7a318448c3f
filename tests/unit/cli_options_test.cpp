// Options of the subcommands: `--name VALUE`, `--name=VALUE`, `--config`.
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cli/options.hpp"

using relais::cli::config_file_argument;
using relais::cli::option_value;

namespace {

/// An argv-like array over its own copies of the arguments.
class Args {
public:
    Args(std::initializer_list<std::string> args) : texts_(args) {
        for (auto& text : texts_) {
            pointers_.push_back(text.data());
        }
    }
    std::span<char* const> span() const { return pointers_; }

private:
    std::vector<std::string> texts_;
    std::vector<char*> pointers_;
};

/// The value option_value finds at `args[0]`, and where it leaves the index.
using Found = std::pair<std::optional<std::string>, std::size_t>;

Found value_at_start(const Args& args) {
    std::size_t i = 0;
    const auto value = option_value(args.span(), i, "--config");
    return {value ? std::optional<std::string>(*value) : std::nullopt, i};
}

std::optional<std::string> config_file(const Args& args) {
    testing::internal::CaptureStderr();
    auto file = config_file_argument("test", "usage\n", args.span());
    testing::internal::GetCapturedStderr();
    return file;
}

}  // namespace

TEST(CliOptions, ValueAfterTheName) {
    EXPECT_EQ(value_at_start({"--config", "a.yaml"}), Found("a.yaml", 1));
    EXPECT_EQ(value_at_start({"--config", "--help"}), Found("--help", 1));
}

TEST(CliOptions, ValueAfterAnEqualsSign) {
    EXPECT_EQ(value_at_start({"--config=a.yaml", "b"}), Found("a.yaml", 0));
    EXPECT_EQ(value_at_start({"--config="}), Found("", 0));
    EXPECT_EQ(value_at_start({"--config=a=b"}), Found("a=b", 0));
}

TEST(CliOptions, OtherArgumentsHaveNoValue) {
    for (const auto* other : {"--config", "--configx=1", "--conf", "config", "-c", ""}) {
        EXPECT_EQ(value_at_start({other}), Found(std::nullopt, 0)) << other;
    }
}

TEST(CliOptions, ConfigFileIsRequiredAndAlone) {
    EXPECT_EQ(config_file({"--config", "a.yaml"}), "a.yaml");
    EXPECT_EQ(config_file({"--config=a.yaml", "--config", "b.yaml"}), "b.yaml");
    EXPECT_EQ(config_file({}), std::nullopt);
    EXPECT_EQ(config_file({"--config="}), std::nullopt);
    EXPECT_EQ(config_file({"--config"}), std::nullopt);
    EXPECT_EQ(config_file({"--config", "a.yaml", "extra"}), std::nullopt);
}

TEST(CliOptions, UsageErrorsNameTheCommandAndShowTheUsage) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(config_file_argument("test", "usage: relais test\n", Args{"x"}.span()), std::nullopt);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "relais test: unexpected argument 'x'\n\nusage: relais test\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(config_file_argument("test", "usage: relais test\n", Args{}.span()), std::nullopt);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "relais test: --config FILE is required\n\nusage: relais test\n");
}
