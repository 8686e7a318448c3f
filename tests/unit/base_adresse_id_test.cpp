// The opaque ids of addresses and streets, and the file of their key.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "base-adresse/address_id.hpp"
#include "base-adresse/id_key_file.hpp"

using namespace relais::base_adresse;

namespace {

constexpr std::string_view key = "an id key of thirty-two bytes...";

Address palais() {
    return Address{"75104_0318_00008",
                   "8 Boulevard du Palais 75004 Paris",
                   "housenumber",
                   "8",
                   "Boulevard du Palais",
                   "75004",
                   "75104",
                   "Paris",
                   "48.8534",
                   "2.3488"};
}

/// A fresh directory under the system's temporary one, removed at the end.
struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("relais-ban-id-" + std::to_string(::getpid()) + "-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    TempDir() { std::filesystem::remove_all(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST(BaseAdresseId, AddressRoundTripIsDeterministic) {
    const IdCodec codec(key);
    const auto id = codec.encode(palais());
    ASSERT_TRUE(id);
    EXPECT_TRUE(id->starts_with("2."));
    EXPECT_EQ(codec.encode(palais()), id);
    EXPECT_EQ(IdCodec(key).encode(palais()), id);
    EXPECT_EQ(codec.decode_address(*id), palais());
    EXPECT_LE(id->size(), max_id_chars);
    EXPECT_EQ(
        id->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
        std::string::npos);
}

TEST(BaseAdresseId, IdsAreNotReadable) {
    const IdCodec codec(key);
    const std::string id = *codec.encode(palais());
    const auto bytes = base64url_decode(std::string_view(id).substr(2));
    ASSERT_TRUE(bytes);
    for (const std::string& field : {palais().label, palais().road, palais().lat, palais().lon,
                                     palais().ban_id, std::string("Paris")}) {
        EXPECT_EQ(bytes->find(field), std::string::npos) << field;
    }
    // Nearby addresses do not give nearby ids.
    Address next = palais();
    next.house_number = "9";
    next.label = "9 Boulevard du Palais 75004 Paris";
    EXPECT_NE(codec.encode(next)->substr(0, 12), id.substr(0, 12));
}

TEST(BaseAdresseId, StreetRoundTripAndKindsDoNotMix) {
    const IdCodec codec(key);
    const Street street{"75104_0318", "Boulevard du Palais", "75004", "75104", "Paris"};
    const auto id = codec.encode(street);
    ASSERT_TRUE(id);
    EXPECT_EQ(codec.decode_street(*id), street);
    EXPECT_FALSE(codec.decode_address(*id));
    EXPECT_FALSE(codec.decode_street(*codec.encode(palais())));
}

TEST(BaseAdresseId, MinimalAddress) {
    const IdCodec codec(key);
    Address a;
    a.label = "Quelque part";
    a.lat = "0";
    a.lon = "-0.5";
    const auto id = codec.encode(a);
    ASSERT_TRUE(id);
    EXPECT_EQ(codec.decode_address(*id), a);
}

TEST(BaseAdresseId, IdsOfAnotherKeyAreRefused) {
    const IdCodec mine(key);
    const IdCodec other("another key of thirty-two bytes.");
    const auto id = mine.encode(palais());
    ASSERT_TRUE(id);
    EXPECT_NE(id, other.encode(palais()));
    EXPECT_FALSE(other.decode_address(*id));
    EXPECT_FALSE(mine.decode_address(*other.encode(palais())));
    EXPECT_EQ(mine.fingerprint(), IdCodec(key).fingerprint());
    EXPECT_NE(mine.fingerprint(), other.fingerprint());
    EXPECT_THROW(IdCodec(std::string(min_secret_bytes - 1, 'k')), std::invalid_argument);
}

TEST(BaseAdresseId, GarbledIdsAreRefused) {
    const IdCodec codec(key);
    const std::string id = *codec.encode(palais());
    for (std::size_t i = 2; i < id.size(); i += 3) {
        std::string garbled = id;
        garbled[i] = garbled[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(codec.decode_address(garbled)) << i;
    }
    // Every byte of the sealed text, flipped bit by bit.
    const std::string sealed = *base64url_decode(std::string_view(id).substr(2));
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        std::string flipped = sealed;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        EXPECT_FALSE(codec.decode_address("2." + base64url_encode(flipped))) << i;
    }
    EXPECT_FALSE(codec.decode_address("2." + base64url_encode(sealed.substr(0, 16))));
    EXPECT_FALSE(codec.decode_address(id.substr(0, id.size() - 1)));
    EXPECT_FALSE(codec.decode_address(id + "A"));
    EXPECT_FALSE(codec.decode_address("1" + id.substr(1)));
    EXPECT_FALSE(codec.decode_address(""));
    EXPECT_FALSE(codec.decode_address("2."));
    EXPECT_FALSE(codec.decode_address("2.===="));
    EXPECT_FALSE(codec.decode_address("75104_0318_00008"));
    EXPECT_FALSE(codec.decode_address("2." + std::string(5000, 'A')));
}

TEST(BaseAdresseId, InvalidFieldsGetNoId) {
    const IdCodec codec(key);
    Address bad = palais();
    bad.postcode = "7500";
    EXPECT_FALSE(codec.encode(bad));
    bad = palais();
    bad.lat = "91";
    EXPECT_FALSE(codec.encode(bad));
    bad = palais();
    bad.label = std::string(max_label_bytes + 1, 'x');
    EXPECT_FALSE(codec.encode(bad));
    bad = palais();
    bad.city = "Paris\n";
    EXPECT_FALSE(codec.encode(bad));
    bad = palais();
    bad.label.clear();
    EXPECT_FALSE(codec.encode(bad));
}

TEST(BaseAdresseId, Base64Url) {
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
    EXPECT_FALSE(base64url_decode("-_9"));  // unused bits set: not canonical
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("A"));
    EXPECT_EQ(base64url_decode(""), "");
}

TEST(BaseAdresseIdKeyFile, CreatedPrivateThenReused) {
    const TempDir dir;
    const std::filesystem::path data = dir.path / "var";
    const std::string first = load_id_key_file(data);
    EXPECT_EQ(first.size(), min_secret_bytes);
    struct stat status {};
    ASSERT_EQ(::stat((data / id_key_file_name).c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
    EXPECT_EQ(load_id_key_file(data), first);
    std::filesystem::remove(data / id_key_file_name);
    EXPECT_NE(load_id_key_file(data), first);
}

TEST(BaseAdresseIdKeyFile, RefusesFilesOthersCanReadAndWhatIsNotAKey) {
    const TempDir dir;
    const std::filesystem::path file = dir.path / id_key_file_name;
    load_id_key_file(dir.path);
    std::filesystem::permissions(file, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    EXPECT_THROW(load_id_key_file(dir.path), std::runtime_error);
    std::filesystem::remove(file);
    std::ofstream(file) << "c2hvcnQ=\n";
    std::filesystem::permissions(file, std::filesystem::perms::owner_read,
                                 std::filesystem::perm_options::replace);
    EXPECT_THROW(load_id_key_file(dir.path), std::runtime_error);
}
