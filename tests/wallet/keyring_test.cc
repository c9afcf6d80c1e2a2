// The keyring folder (tools/wallet/keyring.h): names that cannot leave the folder, modes 0700
// and 0600, no overwriting, listing and deleting.
#include "tools/wallet/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace civitas::wallet {
namespace {

namespace fs = std::filesystem;

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("civitas-keyring-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static unsigned Mode(const fs::path& p) {
    struct stat st;
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }

  fs::path root_;
};

TEST(KeyName, OnlyShortNamesOfSafeCharacters) {
  for (const char* ok : {"alice", "A", "key-1", "my_key.v2", "..", ".hidden", "0"}) {
    EXPECT_TRUE(IsKeyName(ok)) << ok;
  }
  EXPECT_TRUE(IsKeyName(std::string(64, 'k')));
  for (const char* bad :
       {"", "a/b", "../alice", "/etc/passwd", "a b", "a\\b", "émile", "a\n", "a:b", "~alice"}) {
    EXPECT_FALSE(IsKeyName(bad)) << bad;
  }
  EXPECT_FALSE(IsKeyName(std::string(65, 'k')));
}

TEST_F(KeyringTest, NamesStayInsideTheFolder) {
  Keyring ring((root_ / "ring").string());
  EXPECT_EQ(*ring.PathOf("alice"), (root_ / "ring" / "alice.json").string());
  // ".." is a valid name, but with the suffix it is the file "...json" inside the folder.
  EXPECT_EQ(*ring.PathOf(".."), (root_ / "ring" / "...json").string());
  for (const char* bad : {"../alice", "a/b", ""}) {
    auto p = ring.PrepareNew(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().reason(), "bad_key_name");
  }
  EXPECT_FALSE(fs::exists(root_ / "ring")) << "a refused name creates nothing";
}

TEST_F(KeyringTest, CreatedPrivateAndNeverOverwritten) {
  Keyring ring((root_ / "home" / ".civitas" / "keys").string());
  auto path = ring.PrepareNew("alice");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(Mode(root_ / "home"), 0700u);
  EXPECT_EQ(Mode(root_ / "home" / ".civitas"), 0700u);
  EXPECT_EQ(Mode(root_ / "home" / ".civitas" / "keys"), 0700u);
  EXPECT_FALSE(ring.Contains("alice"));
  ASSERT_TRUE(WriteKeyFile(*path, crypto::SecretKey::Generate(), "", false).ok());
  EXPECT_EQ(Mode(*path), 0600u);
  EXPECT_TRUE(ring.Contains("alice"));
  auto again = ring.PrepareNew("alice");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().reason(), "key_exists");
}

TEST_F(KeyringTest, AFolderOthersMayUseIsRefused) {
  fs::create_directories(root_ / "open");
  fs::permissions(root_ / "open", fs::perms(0755));
  Keyring ring((root_ / "open").string());
  auto p = ring.PrepareNew("alice");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().reason(), "bad_keyring");
  EXPECT_NE(p.status().message().find("chmod 700"), std::string::npos);
  EXPECT_EQ(ring.List().status().reason(), "bad_keyring");
}

TEST_F(KeyringTest, ListsInNameOrderAndRemoves) {
  Keyring ring((root_ / "ring").string());
  auto empty = ring.List();  // no folder yet: an empty keyring
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  const crypto::SecretKey bob = crypto::SecretKey::Generate();
  ASSERT_TRUE(WriteKeyFile(*ring.PrepareNew("bob"), bob, "", false).ok());
  ASSERT_TRUE(WriteKeyFile(*ring.PrepareNew("alice"), crypto::SecretKey::Generate(), "pw", false,
                           {1024, 8, 1})
                  .ok());
  // Not keys: another suffix, an invalid name, and a damaged key file listed with its error.
  std::ofstream(root_ / "ring" / "notes.txt") << "x";
  std::ofstream(root_ / "ring" / "bad name.json") << "{}";
  ASSERT_TRUE(WriteNewPrivateFile((root_ / "ring" / "broken.json").string(), "not json").ok());

  auto list = ring.List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "alice");
  EXPECT_TRUE((*list)[0].error.ok());
  EXPECT_TRUE((*list)[0].info.encrypted);
  EXPECT_EQ((*list)[1].name, "bob");
  EXPECT_FALSE((*list)[1].info.encrypted);
  EXPECT_EQ((*list)[1].info.address, AddressOf(bob.public_key()));
  EXPECT_EQ((*list)[2].name, "broken");
  EXPECT_EQ((*list)[2].error.reason(), "bad_key_file");

  ASSERT_TRUE(ring.Remove("bob").ok());
  EXPECT_FALSE(ring.Contains("bob"));
  EXPECT_EQ(ring.Remove("bob").reason(), "not_found");
  EXPECT_EQ(ring.Remove("../ring/alice").reason(), "bad_key_name");
  EXPECT_TRUE(ring.Contains("alice"));
}

TEST(KeyringDirTest, FlagThenEnvironmentThenHome) {
  const char* saved_ring = std::getenv(kKeyringEnv);
  const std::string saved_ring_value = saved_ring ? saved_ring : "";
  const char* saved_home = std::getenv("HOME");
  const std::string saved_home_value = saved_home ? saved_home : "";

  ::setenv("HOME", "/home/citizen", 1);
  ::unsetenv(kKeyringEnv);
  EXPECT_EQ(*KeyringDir(""), "/home/citizen/.civitas/keys");
  ::setenv(kKeyringEnv, "/srv/ring", 1);
  EXPECT_EQ(*KeyringDir(""), "/srv/ring");
  EXPECT_EQ(*KeyringDir("/tmp/flag"), "/tmp/flag");
  ::unsetenv(kKeyringEnv);
  ::unsetenv("HOME");
  EXPECT_EQ(KeyringDir("").status().reason(), "no_keyring");

  if (saved_ring) ::setenv(kKeyringEnv, saved_ring_value.c_str(), 1);
  if (saved_home) ::setenv("HOME", saved_home_value.c_str(), 1);
}

}  // namespace
}  // namespace civitas::wallet
