// Key files: encrypted round trip, wrong passphrase, tampering, permissions, plain files.
#include "tools/wallet/keystore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/keyfile.h"
#include "test_keys.h"

namespace civitas::wallet {
namespace {

namespace fs = std::filesystem;

// Small scrypt parameters keep the tests fast; the format and code path are the same.
const ScryptParams kFast{1024, 8, 1};

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("civitas-wallet-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Rewrite(const std::string& path, const nlohmann::json& j) {
    std::ofstream(path, std::ios::trunc) << j.dump(2);
  }
  static PassphraseFn Pass(std::string p) {
    return [p](const std::string&) -> Result<std::string> { return p; };
  }
  static mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 0777;
  }

  fs::path dir_;
};

using testing::KeyThree;

TEST_F(KeystoreTest, EncryptedRoundTripWithMode0600) {
  auto key = crypto::SecretKey::Generate();
  const std::string path = Path("k.json");
  ASSERT_TRUE(WriteKeyFile(path, key, "hunter2 hunter2", false, kFast).ok());
  EXPECT_EQ(Mode(path), 0600u);
  // The secret is not in the file, the public parts are.
  std::string text = Read(path);
  EXPECT_EQ(text.find(ToHex(key.bytes())), std::string::npos);
  auto info = InspectKeyFile(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->encrypted);
  EXPECT_EQ(info->version, 1);
  EXPECT_EQ(info->public_key, key.public_key());
  EXPECT_EQ(info->address, AddressOf(key.public_key()));
  EXPECT_EQ(info->scrypt.n, 1024u);

  auto loaded = LoadKeyFile(path, Pass("hunter2 hunter2"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->bytes(), key.bytes());
  // A second encryption of the same key uses a fresh salt and nonce.
  auto again = EncryptKey(key, "hunter2 hunter2", kFast);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, text);
}

TEST_F(KeystoreTest, DefaultParametersWork) {
  auto key = crypto::SecretKey::Generate();
  auto text = EncryptKey(key, "pass");
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["crypto"]["kdf_params"]["n"], 131072);
  auto back = DecryptKey(*text, "pass");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->bytes(), key.bytes());
}

TEST_F(KeystoreTest, WrongPassphraseIsNamed) {
  const std::string path = Path("k.json");
  ASSERT_TRUE(WriteKeyFile(path, crypto::SecretKey::Generate(), "right", false, kFast).ok());
  auto r = LoadKeyFile(path, Pass("wrong"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "wrong_passphrase");
  EXPECT_NE(r.status().message().find("wrong passphrase"), std::string::npos);
}

TEST_F(KeystoreTest, TamperingIsDetected) {
  auto key = crypto::SecretKey::Generate();
  auto text = EncryptKey(key, "pass", kFast);
  ASSERT_TRUE(text.ok());
  const auto original = nlohmann::json::parse(*text);
  auto flip = [](std::string hex) {
    hex[0] = hex[0] == '0' ? '1' : '0';
    return hex;
  };
  for (const char* field : {"ciphertext", "tag", "nonce"}) {
    SCOPED_TRACE(field);
    auto j = original;
    j["crypto"][field] = flip(j["crypto"][field]);
    auto r = DecryptKey(j.dump(), "pass");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "tampered_key_file");
  }
  {
    // Another key's public part swapped in: GCM's associated data no longer matches.
    auto j = original;
    auto other = crypto::SecretKey::Generate();
    j["public_key"] = ToHex(other.public_key());
    j["address"] = ToHex(AddressOf(other.public_key()));
    auto r = DecryptKey(j.dump(), "pass");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "tampered_key_file");
  }
  {
    auto j = original;
    j["address"] = ToHex(Address{});
    auto r = DecryptKey(j.dump(), "pass");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "tampered_key_file");
  }
  EXPECT_TRUE(DecryptKey(original.dump(), "pass").ok());
}

TEST_F(KeystoreTest, MalformedAndHostileFilesAreRefused) {
  auto text = EncryptKey(crypto::SecretKey::Generate(), "pass", kFast);
  ASSERT_TRUE(text.ok());
  const auto original = nlohmann::json::parse(*text);
  std::vector<std::pair<std::string, nlohmann::json>> cases;
  auto with = [&](const std::string& what, auto edit) {
    auto j = original;
    edit(j);
    cases.emplace_back(what, j);
  };
  with("version 2", [](auto& j) { j["version"] = 2; });
  with("no version", [](auto& j) { j.erase("version"); });
  with("kdf", [](auto& j) { j["crypto"]["kdf"] = "pbkdf2"; });
  with("kdf type", [](auto& j) { j["crypto"]["kdf"] = 7; });
  with("cipher", [](auto& j) { j["crypto"]["cipher"] = "aes-128-ctr"; });
  with("huge N", [](auto& j) { j["crypto"]["kdf_params"]["n"] = uint64_t{1} << 30; });
  with("N not a power of two", [](auto& j) { j["crypto"]["kdf_params"]["n"] = 1000; });
  with("huge r", [](auto& j) { j["crypto"]["kdf_params"]["r"] = uint64_t{1} << 33; });
  with("short salt", [](auto& j) { j["crypto"]["salt"] = "0102"; });
  with("tag not hex", [](auto& j) { j["crypto"]["tag"] = "zz"; });
  for (const auto& [what, j] : cases) {
    auto r = DecryptKey(j.dump(), "pass");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().reason(), "bad_key_file") << what << ": " << r.status().ToString();
  }
  EXPECT_EQ(DecryptKey("not json", "pass").status().reason(), "bad_key_file");
}

TEST_F(KeystoreTest, FilesReadableByOthersAreRefused) {
  const std::string path = Path("k.json");
  ASSERT_TRUE(WriteKeyFile(path, crypto::SecretKey::Generate(), "pass", false, kFast).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto r = LoadKeyFile(path, Pass("pass"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_key_file");
  EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos);
  EXPECT_FALSE(InspectKeyFile(path).ok());
}

TEST_F(KeystoreTest, PlainNodeKeyFilesKeepWorking) {
  auto key = crypto::SecretKey::Generate();
  const std::string path = Path("plain.json");
  ASSERT_TRUE(civitas::WriteKeyFile(path, key).ok());
  bool asked = false;
  auto loaded = LoadKeyFile(path, [&](const std::string&) -> Result<std::string> {
    asked = true;
    return std::string("unused");
  });
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->bytes(), key.bytes());
  EXPECT_FALSE(asked) << "a plain file needs no passphrase";
  auto info = InspectKeyFile(path);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->encrypted);
  EXPECT_EQ(info->address, AddressOf(key.public_key()));
}

TEST_F(KeystoreTest, EncryptAndDecryptInPlace) {
  auto key = crypto::SecretKey::Generate();
  const std::string path = Path("k.json");
  ASSERT_TRUE(WriteKeyFile(path, key, "", false).ok());  // plain
  EXPECT_FALSE(WriteKeyFile(path, key, "", false).ok()) << "refuses to overwrite";
  ASSERT_TRUE(WriteKeyFile(path, key, "pass", true, kFast).ok());  // encrypt in place
  EXPECT_EQ(Mode(path), 0600u);
  auto info = InspectKeyFile(path);
  ASSERT_TRUE(info.ok() && info->encrypted);
  ASSERT_TRUE(WriteKeyFile(path, key, "", true).ok());  // decrypt in place
  auto plain = civitas::ReadKeyFile(path);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->bytes(), key.bytes());
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeystoreTest, EmptyPassphraseIsRefused) {
  EXPECT_EQ(EncryptKey(crypto::SecretKey::Generate(), "", kFast).status().reason(),
            "bad_passphrase");
}

// docs/WALLET.md's test vector, computed independently with Python's hashlib.scrypt and the
// `cryptography` package's AES-GCM.
TEST_F(KeystoreTest, DocumentedVector) {
  Hash32 salt;
  salt.fill(0x01);
  std::array<uint8_t, 12> nonce;
  nonce.fill(0x02);
  auto text =
      EncryptKeyDeterministic(KeyThree(), "correct horse battery staple", kFast, salt, nonce);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["public_key"], "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
  EXPECT_EQ(j["address"], "1eb9fec63c1ae2c75f4115a47eeceff3132225be");
  EXPECT_EQ(j["crypto"]["ciphertext"],
            "0a6c99104b71e5ad63d50e51fe07ea497205d68d979ffd70e8801de1c268fbe1");
  EXPECT_EQ(j["crypto"]["tag"], "63f089736be990aad685a8353f0c41e4");
  EXPECT_EQ(j["crypto"]["check"], "7f1f0212a4415dacf4d2a0a64ae8d487");
  auto back = DecryptKey(*text, "correct horse battery staple");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->bytes(), KeyThree().bytes());
}

}  // namespace
}  // namespace civitas::wallet
