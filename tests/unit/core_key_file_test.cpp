#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../fixtures/config/config_test_support.hpp"
#include "core/key_file.hpp"
#include "core/url_encoding.hpp"

namespace relais {
namespace {

std::string error_of(const auto& call) {
    try {
        call();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    return "no error";
}

TEST(CoreKeyFile, CreatedPrivateOnceThenReadBack) {
    const test::TempDir dir;
    const auto file = dir.path() / "k.key";
    const std::string key = load_or_create_key_file(file, 32, "test key");
    EXPECT_EQ(key.size(), 32U);
    struct stat status {};
    ASSERT_EQ(::stat(file.c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600U);
    EXPECT_EQ(load_or_create_key_file(file, 32, "test key"), key);
    EXPECT_EQ(read_key_file(file, 32, "test key"), key);
}

TEST(CoreKeyFile, ConcurrentFirstStartsAgreeOnOneKey) {
    const test::TempDir dir;
    const auto file = dir.path() / "k.key";
    std::vector<std::string> keys(8);
    std::vector<std::thread> threads;
    for (auto& key : keys) {
        threads.emplace_back([&key, &file] { key = load_or_create_key_file(file, 32, "k"); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& key : keys) {
        EXPECT_EQ(key, keys.front());
    }
}

TEST(CoreKeyFile, WrongSizeOrOpenFileIsRefusedWithoutShowingIt) {
    const test::TempDir dir;
    const auto file = dir.path() / "k.key";
    const std::string sixteen = base64_encode(std::vector<unsigned char>(16, 0x41));
    std::ofstream(file) << sixteen << "\n";
    ::chmod(file.c_str(), 0600);
    const std::string message = error_of([&] { read_key_file(file, 32, "test key"); });
    EXPECT_NE(message.find("test key file " + file.string() + " must hold the base64 of 32 bytes"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find(sixteen), std::string::npos);
    ::chmod(file.c_str(), 0644);
    EXPECT_NE(error_of([&] { read_key_file(file, 16, "test key"); }).find("open to other users"),
              std::string::npos);
}

}  // namespace
}  // namespace relais
