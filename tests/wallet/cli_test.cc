// The `civitas` binary's wallet commands as a person runs them: mnemonics, recovery, encrypted
// files, offline signing and the local checks of broadcast. No node is needed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/tx.h"
#include "node/keyfile.h"
#include "tools/wallet/tx_builder.h"

namespace civitas::wallet {
namespace {

namespace fs = std::filesystem;

const char* kAbandon =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

struct Outcome {
  int code;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("civitas-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs `env civitas args < stdin_text` with no terminal and no inherited passphrase.
  Outcome Civitas(const std::string& args, const std::string& env = "",
                  const std::string& stdin_text = "") {
    std::ofstream(Path("stdin")) << stdin_text;
    std::string cmd = "env -u CIVITAS_PASSPHRASE -u CIVITAS_MNEMONIC -u CIVITAS_BIP39_PASSPHRASE " +
                      env + " setsid " + std::string(CIVITAS_CLI) + " " + args + " <" +
                      Path("stdin") + " >" + Path("out") + " 2>" + Path("err");
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(Path("out")), Slurp(Path("err"))};
  }

  fs::path dir_;
};

TEST_F(CliTest, RecoverGivesTheDocumentedKey) {
  auto r = Civitas("-o json keys recover --out " + Path("k.json"), "", kAbandon);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["public_key"], "5b02401d37125385c8cfc116658db1b7f2bda93773c5291bfbdf254819b104db");
  EXPECT_EQ(j["path"], "m/44'/7463'/0'/0'/0'");
  EXPECT_EQ(j["encrypted"], false);
  auto key = node::ReadKeyFile(Path("k.json"));  // a plain file in the node's format
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToHex(key->bytes()),
            "654f932dc8821bca9c96998c76e3d24901d33cb606eb96fa621cb2a72bb94d5b");

  auto idx = Civitas("-o json keys recover --index 1 --out " + Path("k1.json"),
                     std::string("CIVITAS_MNEMONIC='") + kAbandon + "'");
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_EQ(nlohmann::json::parse(idx.out)["public_key"],
            "9cac877aec5205a5e2f1aaf1a7e298429880b2a4bdfeaaf17a7ecf6f15ee2814");
}

TEST_F(CliTest, BadMnemonicsAreExplained) {
  auto r = Civitas("keys recover --out " + Path("k.json"), "",
                   "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                   "abandon abandon abuot");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("word 12 \"abuot\""), std::string::npos) << r.err;
  auto c = Civitas("keys recover --out " + Path("k.json"), "",
                   "about abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                   "abandon abandon");
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.err.find("checksum"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(Path("k.json")));
}

TEST_F(CliTest, NewMnemonicRecoversToTheSameKey) {
  auto r = Civitas("-o json keys new --mnemonic --words 12 --out " + Path("a.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const std::string m = j["mnemonic"];
  EXPECT_EQ(std::count(m.begin(), m.end(), ' '), 11);
  struct stat st;
  ASSERT_EQ(::stat(Path("a.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Civitas("-o json keys recover --out " + Path("b.json"), "", m);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["address"], j["address"]);
  // A second `new` never overwrites.
  EXPECT_EQ(Civitas("keys new --out " + Path("a.json")).code, 1);
}

TEST_F(CliTest, EncryptedKeyFilesSignOfflineLikeSignTx) {
  ASSERT_EQ(Civitas("keys recover --out " + Path("k.json"), "", kAbandon).code, 0);
  std::ofstream(Path("pass")) << "open sesame\n";
  auto enc = Civitas("--passphrase-file " + Path("pass") + " keys encrypt --scrypt-n 1024 --key " +
                     Path("k.json"));
  ASSERT_EQ(enc.code, 0) << enc.err;
  auto show = Civitas("-o json keys show --key " + Path("k.json"));
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["encrypted"], true);
  EXPECT_EQ(Slurp(Path("k.json")).find("654f932d"), std::string::npos) << "secret in clear";

  const std::string to(40, 'a');
  const std::string sign_args = "sign transfer --key " + Path("k.json") +
                                " --chain-id civitas-test --nonce 3 --gas-limit 7000 --to " + to +
                                " --amount 12";
  // No passphrase source and no terminal: a clear refusal.
  auto none = Civitas(sign_args);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("CIVITAS_PASSPHRASE"), std::string::npos) << none.err;
  auto wrong = Civitas(sign_args, "CIVITAS_PASSPHRASE=nope");
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("wrong_passphrase"), std::string::npos) << wrong.err;

  auto signed_tx = Civitas(sign_args, "CIVITAS_PASSPHRASE='open sesame'");
  ASSERT_EQ(signed_tx.code, 0) << signed_tx.err;
  auto tx = ParseEnvelope(signed_tx.out);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  // The same inputs through ledger's SignTx: identical body and key; both signatures valid.
  Hash32 secret =
      *FixedFromHex<32>("654f932dc8821bca9c96998c76e3d24901d33cb606eb96fa621cb2a72bb94d5b");
  auto key = crypto::SecretKey::FromBytes(secret);
  ASSERT_TRUE(key.ok());
  v1::TxBody body;
  body.set_chain_id("civitas-test");
  body.set_nonce(3);
  body.set_gas_limit(7000);
  body.mutable_transfer()->set_to(std::string(20, '\xaa'));
  body.mutable_transfer()->set_amount(12);
  v1::Transaction reference = SignTx(*key, body);
  EXPECT_EQ(ToHex(ToBytes(tx->body())), ToHex(ToBytes(reference.body())));
  EXPECT_EQ(tx->public_key(), reference.public_key());
  auto info = CheckEnvelope(*tx);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_NE(signed_tx.err.find(ToHex(info->tx_id)), std::string::npos) << "tx id on stderr";

  // decrypt restores a plain file with the same key.
  ASSERT_EQ(Civitas("keys decrypt --key " + Path("k.json") + " --out " + Path("plain.json"),
                    "CIVITAS_PASSPHRASE='open sesame'")
                .code,
            0);
  auto plain = node::ReadKeyFile(Path("plain.json"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->bytes(), secret);
}

TEST_F(CliTest, BroadcastRefusesAlteredEnvelopesLocally) {
  ASSERT_EQ(Civitas("keys recover --out " + Path("k.json"), "", kAbandon).code, 0);
  auto s =
      Civitas("-o json sign transfer --key " + Path("k.json") + " --chain-id c --nonce 0 --to " +
              std::string(40, 'b') + " --amount 1 --out " + Path("tx.hex"));
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["file"], Path("tx.hex"));
  auto tx = ParseEnvelope(Slurp(Path("tx.hex")));
  ASSERT_TRUE(tx.ok());
  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(tx->body()));
  body.mutable_transfer()->set_amount(1000);
  tx->set_body(body.SerializeAsString());
  std::ofstream(Path("bad.hex")) << EnvelopeToHex(*tx);
  // The port is closed: the refusal comes from the local check, before any connection.
  auto r = Civitas("--node 127.0.0.1:1 broadcast " + Path("bad.hex"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad_signature"), std::string::npos) << r.err;
  auto g = Civitas("broadcast -", "", "not an envelope");
  EXPECT_EQ(g.code, 1);
  EXPECT_NE(g.err.find("malformed_tx"), std::string::npos) << g.err;
}

}  // namespace
}  // namespace civitas::wallet
