#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <string>

#include "core/url_encoding.hpp"
#include "outbox/crypto.hpp"
#include "outbox/outbox.hpp"
#include "outbox_test_support.hpp"

namespace relais::outbox {
namespace {

using testing::random_key;
using testing::TempDir;

constexpr std::string_view associated = "etat-civil\n0123\nstate-civil\nbirth-certificate";

unsigned mode_of(const std::filesystem::path& path) {
    struct stat status {};
    EXPECT_EQ(::stat(path.c_str(), &status), 0);
    return status.st_mode & 07777;
}

std::string message_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no exception";
    return {};
}

TEST(OutboxCrypto, SealedPayloadOpensWithItsKeyAndAssociatedData) {
    const Key key = random_key();
    const std::string plaintext = R"({"name":"Camille Martin"})";
    const std::string sealed = seal(key, plaintext, associated);
    EXPECT_EQ(sealed.size(), 12 + plaintext.size() + 16);
    EXPECT_EQ(sealed.find("Camille"), std::string::npos);
    EXPECT_EQ(open(key, sealed, associated), plaintext);
    // A fresh nonce each time: the same payload never seals the same way.
    EXPECT_NE(seal(key, plaintext, associated), sealed);
    EXPECT_EQ(open(key, seal(key, "", associated), associated), "");
}

TEST(OutboxCrypto, TamperedPayloadDoesNotOpen) {
    const Key key = random_key();
    const std::string sealed = seal(key, "a demand", associated);
    for (const std::size_t at : {std::size_t{0}, std::size_t{12}, sealed.size() - 1}) {
        std::string tampered = sealed;
        tampered[at] = static_cast<char>(tampered[at] ^ 1);
        EXPECT_EQ(open(key, tampered, associated), std::nullopt) << "byte " << at;
    }
    EXPECT_EQ(open(key, sealed.substr(0, sealed.size() - 1), associated), std::nullopt);
    EXPECT_EQ(open(key, sealed.substr(0, 27), associated), std::nullopt);
    EXPECT_EQ(open(key, "", associated), std::nullopt);
}

TEST(OutboxCrypto, PayloadDoesNotOpenWithOtherAssociatedDataOrKey) {
    const Key key = random_key();
    const std::string sealed = seal(key, "a demand", associated);
    EXPECT_EQ(open(key, sealed, "sante\n0123\nstate-civil\nbirth-certificate"), std::nullopt);
    EXPECT_EQ(open(random_key(), sealed, associated), std::nullopt);
}

TEST(OutboxCrypto, KeyFileIsCreatedPrivateThenReused) {
    const TempDir temp;
    const auto data = temp.path() / "var" / "data";
    const Key created = load_key(std::nullopt, data);
    const auto file = data / "outbox.key";
    EXPECT_EQ(mode_of(data), 0700u);
    EXPECT_EQ(mode_of(file), 0600u);
    const std::string text = testing::read_file(file);
    ASSERT_EQ(text.size(), 45u);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(base64_decode(text.substr(0, 44)),
              std::string(created.bytes.begin(), created.bytes.end()));
    EXPECT_EQ(load_key(std::nullopt, data).bytes, created.bytes);
    // Only the key file is left: the temporary it was written to is gone.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(data),
                            std::filesystem::directory_iterator()),
              1);
}

TEST(OutboxCrypto, LostKeyFileIsNotReplacedWhileMessagesWait) {
    const TempDir temp;
    const Key key = load_key(std::nullopt, temp.path());
    std::filesystem::create_directories(directory(temp.path()));
    {
        FamilyStore store(database_file(directory(temp.path()), "sante"), "sante", &key);
        store.enqueue({Kind::push, "civil", "e", "req", "payload", {}}, Clock::now());
    }
    std::filesystem::remove(temp.path() / "outbox.key");
    const std::string message = message_of([&] { load_key(std::nullopt, temp.path()); });
    EXPECT_NE(message.find("is missing"), std::string::npos) << message;
    EXPECT_NE(message.find("restore the key file"), std::string::npos) << message;
    EXPECT_FALSE(std::filesystem::exists(temp.path() / "outbox.key"));
}

TEST(OutboxCrypto, KeyFileOpenToOthersIsRefused) {
    const TempDir temp;
    load_key(std::nullopt, temp.path());
    const auto file = temp.path() / "outbox.key";
    std::filesystem::permissions(file, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    const std::string text = testing::read_file(file);
    const std::string message = message_of([&] { load_key(std::nullopt, temp.path()); });
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
    EXPECT_EQ(message.find(text.substr(0, 44)), std::string::npos);
}

TEST(OutboxCrypto, KeyFileThatIsNotAKeyIsRefusedWithoutShowingIt) {
    const TempDir temp;
    const auto file = temp.path() / "outbox.key";
    {
        std::ofstream out(file);
        out << "c2VjcmV0LXNlY3JldA==\n";
    }
    std::filesystem::permissions(
        file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const std::string message = message_of([&] { load_key(std::nullopt, temp.path()); });
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("32 bytes"), std::string::npos) << message;
    EXPECT_EQ(message.find("c2VjcmV0"), std::string::npos) << message;
}

TEST(OutboxCrypto, ConfiguredKeyIsUsedAndNoFileIsWritten) {
    const TempDir temp;
    const Key wanted = random_key();
    const Key loaded = load_key(base64_encode(wanted.bytes), temp.path() / "data");
    EXPECT_EQ(loaded.bytes, wanted.bytes);
    EXPECT_FALSE(std::filesystem::exists(temp.path() / "data"));
}

TEST(OutboxCrypto, BadConfiguredKeyIsRefusedWithoutShowingIt) {
    const TempDir temp;
    const std::array<unsigned char, 16> short_key{'s', 'h', 'o', 'r', 't', 'k', 'e', 'y',
                                                  's', 'h', 'o', 'r', 't', 'k', 'e', 'y'};
    const std::string wrong_length = base64_encode(short_key);
    std::string message = message_of([&] { load_key(wrong_length, temp.path()); });
    EXPECT_NE(message.find("outbox.key"), std::string::npos) << message;
    EXPECT_NE(message.find("32 bytes"), std::string::npos) << message;
    EXPECT_EQ(message.find(wrong_length), std::string::npos) << message;
    EXPECT_EQ(message.find("shortkey"), std::string::npos) << message;

    const std::string not_base64 = "secret key that is not base64!";
    message = message_of([&] { load_key(not_base64, temp.path()); });
    EXPECT_NE(message.find("outbox.key is not valid base64"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

}  // namespace
}  // namespace relais::outbox
