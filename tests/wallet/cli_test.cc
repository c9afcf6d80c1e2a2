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

#include "ledger/keyfile.h"
#include "ledger/tx.h"
#include "tools/wallet/keystore.h"
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
    // HOME is the test's folder, so the default keyring is never the real one.
    std::string cmd =
        "env -u CIVITAS_PASSPHRASE -u CIVITAS_MNEMONIC -u CIVITAS_BIP39_PASSPHRASE "
        "-u CIVITAS_KEYRING HOME=" +
        dir_.string() + " " + env + " setsid " + std::string(CIVITAS_CLI) + " " + args + " <" +
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
  auto key = civitas::ReadKeyFile(Path("k.json"));  // a plain file in the node's format
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
  auto plain = civitas::ReadKeyFile(Path("plain.json"));
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

// ---- The keyring (keys add|import|list|show|export|delete). ----

class KeyringCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    std::ofstream(Path("pass")) << "open sesame\n";
    std::ofstream(Path("wrong")) << "open barley\n";
  }
  // civitas with the test keyring and the passphrase file `pass`.
  Outcome Ring(const std::string& args, const std::string& stdin_text = "",
               const std::string& pass = "pass") {
    return Civitas(
        "-o json --keyring " + Path("ring") + " --passphrase-file " + Path(pass) + " " + args, "",
        stdin_text);
  }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }
  static nlohmann::json Json(const Outcome& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
};

TEST_F(KeyringCliTest, AddListShowExportImportRoundTrip) {
  auto added = Ring("keys add alice --words 12 --scrypt-n 1024");
  ASSERT_EQ(added.code, 0) << added.err;
  auto alice = Json(added);
  EXPECT_EQ(alice["name"], "alice");
  EXPECT_EQ(alice["encrypted"], true);  // encrypted unless --no-encrypt
  const std::string mnemonic = alice["mnemonic"];
  EXPECT_EQ(std::count(mnemonic.begin(), mnemonic.end(), ' '), 11);
  EXPECT_EQ(Mode(Path("ring")), 0700u);
  EXPECT_EQ(Mode(Path("ring/alice.json")), 0600u);
  EXPECT_EQ(Slurp(Path("ring/alice.json")).find("secret_key"), std::string::npos);
  EXPECT_EQ(Slurp(Path("ring/alice.json")).find(mnemonic), std::string::npos);

  auto bob = Ring("keys import bob --no-encrypt", kAbandon);
  ASSERT_EQ(bob.code, 0) << bob.err;
  EXPECT_EQ(Json(bob)["public_key"],
            "5b02401d37125385c8cfc116658db1b7f2bda93773c5291bfbdf254819b104db");
  EXPECT_EQ(Json(bob)["encrypted"], false);
  EXPECT_EQ(Mode(Path("ring/bob.json")), 0600u);

  auto list = Ring("keys list");
  ASSERT_EQ(list.code, 0) << list.err;
  auto keys = Json(list)["keys"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["name"], "alice");
  EXPECT_EQ(keys[0]["address"], alice["address"]);
  EXPECT_EQ(keys[0]["did"], alice["did"]);
  EXPECT_EQ(keys[0]["encrypted"], true);
  EXPECT_EQ(keys[1]["name"], "bob");
  EXPECT_EQ(keys[1]["encrypted"], false);
  auto text = Civitas("--keyring " + Path("ring") + " keys list");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("alice  " + alice["address"].get<std::string>() + "  yes"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("bob    "), std::string::npos) << text.out;

  // show takes a name (as an argument or --key) or a file; no passphrase needed.
  auto shown = Civitas("-o json --keyring " + Path("ring") + " keys show alice");
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(Json(shown)["address"], alice["address"]);
  EXPECT_EQ(Json(shown)["file"], Path("ring/alice.json"));
  auto by_file = Civitas("-o json keys show --key " + Path("ring/alice.json"));
  ASSERT_EQ(by_file.code, 0) << by_file.err;
  EXPECT_EQ(Json(by_file)["address"], alice["address"]);

  // export → import gives the same key, encrypted file or not.
  auto exported = Ring("keys export alice --out " + Path("alice-backup.json"));
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(Mode(Path("alice-backup.json")), 0600u);
  EXPECT_EQ(Slurp(Path("alice-backup.json")), Slurp(Path("ring/alice.json")));
  auto carol = Ring("keys import carol --file " + Path("alice-backup.json"));
  ASSERT_EQ(carol.code, 0) << carol.err;
  EXPECT_EQ(Json(carol)["address"], alice["address"]);
  EXPECT_EQ(Json(carol)["encrypted"], true);
  // A plain key is exported encrypted (to stdout here) with a new passphrase.
  auto bob_out = Ring("keys export bob --scrypt-n 1024");
  ASSERT_EQ(bob_out.code, 0) << bob_out.err;
  EXPECT_NE(bob_out.out.find("\"crypto\""), std::string::npos) << bob_out.out;
  EXPECT_EQ(bob_out.out.find("654f932d"), std::string::npos) << "secret in clear";
  ASSERT_TRUE(WriteNewPrivateFile(Path("bob-backup.json"), bob_out.out).ok());
  auto dave = Ring("keys import dave --file " + Path("bob-backup.json"));
  ASSERT_EQ(dave.code, 0) << dave.err;
  EXPECT_EQ(Json(dave)["address"], Json(bob)["address"]);
  // And the mnemonic printed once re-creates alice.
  auto again = Ring("keys import erin --scrypt-n 1024", mnemonic);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Json(again)["address"], alice["address"]);

  // The secret in hex only with --yes-i-understand, and with the passphrase.
  auto refused = Ring("keys export bob --unencrypted-hex");
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("--yes-i-understand"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out.find("654f932d"), std::string::npos);
  auto hex = Civitas("--keyring " + Path("ring") +
                     " keys export bob --unencrypted-hex "
                     "--yes-i-understand");
  ASSERT_EQ(hex.code, 0) << hex.err;
  EXPECT_EQ(hex.out, "654f932dc8821bca9c96998c76e3d24901d33cb606eb96fa621cb2a72bb94d5b\n");
  auto dave_hex = Ring("keys export dave --unencrypted-hex --yes-i-understand");
  ASSERT_EQ(dave_hex.code, 0) << dave_hex.err;
  EXPECT_EQ(Json(dave_hex)["secret_key"],
            "654f932dc8821bca9c96998c76e3d24901d33cb606eb96fa621cb2a72bb94d5b");

  // Refused: a taken name (the file is untouched) and an existing --out.
  const std::string before = Slurp(Path("ring/alice.json"));
  auto taken = Ring("keys add alice --no-mnemonic --scrypt-n 1024");
  EXPECT_EQ(taken.code, 1);
  EXPECT_NE(taken.err.find("key_exists"), std::string::npos) << taken.err;
  EXPECT_EQ(Slurp(Path("ring/alice.json")), before);
  EXPECT_EQ(Ring("keys import alice", kAbandon).code, 1);
  EXPECT_EQ(Ring("keys export alice --out " + Path("alice-backup.json")).code, 1);
}

TEST_F(KeyringCliTest, KeysSignByName) {
  auto citizen = Ring("keys import citizen --scrypt-n 1024", kAbandon);
  ASSERT_EQ(citizen.code, 0) << citizen.err;
  const std::string sign = "sign transfer --key citizen --chain-id c --nonce 0 --to " +
                           std::string(40, 'b') + " --amount 1";
  auto by_flag = Ring(sign);
  ASSERT_EQ(by_flag.code, 0) << by_flag.err;
  EXPECT_EQ(Json(by_flag)["sender"], Json(citizen)["address"]);
  // The keyring from $CIVITAS_KEYRING, the passphrase from $CIVITAS_PASSPHRASE.
  auto by_env =
      Civitas(sign, "CIVITAS_KEYRING=" + Path("ring") + " CIVITAS_PASSPHRASE='open sesame'");
  ASSERT_EQ(by_env.code, 0) << by_env.err;
  // An unknown name: the error names both places looked in.
  auto missing = Ring("sign transfer --key nobody --chain-id c --nonce 0 --to " +
                      std::string(40, 'b') + " --amount 1");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no key file at nobody and no key of that name in the keyring " +
                             Path("ring")),
            std::string::npos)
      << missing.err;
  // The default keyring is ~/.civitas/keys (HOME is the test folder), created 0700.
  auto home = Civitas("-o json --passphrase-file " + Path("pass") +
                      " keys add mine --no-mnemonic --scrypt-n 1024");
  ASSERT_EQ(home.code, 0) << home.err;
  EXPECT_EQ(Json(home)["file"], Path(".civitas/keys/mine.json"));
  EXPECT_EQ(Mode(Path(".civitas")), 0700u);
  EXPECT_EQ(Mode(Path(".civitas/keys")), 0700u);
  EXPECT_EQ(Mode(Path(".civitas/keys/mine.json")), 0600u);
}

TEST_F(KeyringCliTest, DeleteNeedsYes) {
  ASSERT_EQ(Ring("keys import alice --no-encrypt", kAbandon).code, 0);
  auto no = Ring("keys delete alice");
  EXPECT_EQ(no.code, 1);
  EXPECT_NE(no.err.find("--yes"), std::string::npos) << no.err;
  EXPECT_NE(no.err.find("confirmation_needed"), std::string::npos) << no.err;
  EXPECT_TRUE(fs::exists(Path("ring/alice.json")));
  auto yes = Ring("keys delete alice --yes");
  ASSERT_EQ(yes.code, 0) << yes.err;
  EXPECT_EQ(Json(yes)["deleted"], "alice");
  EXPECT_FALSE(fs::exists(Path("ring/alice.json")));
  EXPECT_TRUE(Json(Ring("keys list"))["keys"].empty());
  auto gone = Ring("keys delete alice --yes");
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("not_found"), std::string::npos) << gone.err;
}

TEST_F(KeyringCliTest, BadNamesAreRefused) {
  fs::create_directories(Path("ring"));
  fs::permissions(Path("ring"), fs::perms(0700));
  ASSERT_EQ(Ring("keys import ok --no-encrypt", kAbandon).code, 0);
  const std::vector<std::string> bad = {"../escape",          "a/b",    "'a b'",   "'a;b'", "''",
                                        std::string(65, 'k'), "..%2Fx", "/tmp/abs"};
  for (const std::string& name : bad) {
    for (const std::string& cmd : {"keys add " + name + " --no-mnemonic --no-encrypt",
                                   "keys import " + name + " --no-encrypt",
                                   "keys delete " + name + " --yes", "keys export " + name}) {
      auto r = Ring(cmd, kAbandon);
      EXPECT_EQ(r.code, 1) << cmd;
      EXPECT_NE(r.err.find("bad_key_name"), std::string::npos) << cmd << ": " << r.err;
    }
  }
  EXPECT_FALSE(fs::exists(Path("escape.json")));
  EXPECT_FALSE(fs::exists("/tmp/abs.json"));
  // Only `ok` is in the folder.
  EXPECT_EQ(std::distance(fs::directory_iterator(Path("ring")), fs::directory_iterator()), 1);
  EXPECT_EQ(Ring("keys add " + std::string(64, 'k') + " --no-mnemonic --no-encrypt").code, 0);
  // A keyring others may use is refused with the fix.
  fs::permissions(Path("ring"), fs::perms(0755));
  auto open = Ring("keys list");
  EXPECT_EQ(open.code, 1);
  EXPECT_NE(open.err.find("chmod 700"), std::string::npos) << open.err;
}

TEST_F(KeyringCliTest, WrongPassphraseChangesNothing) {
  ASSERT_EQ(Ring("keys import alice --scrypt-n 1024", kAbandon).code, 0);
  const std::string before = Slurp(Path("ring/alice.json"));

  auto hex = Ring("keys export alice --unencrypted-hex --yes-i-understand --out " + Path("hex"), "",
                  "wrong");
  EXPECT_EQ(hex.code, 1);
  EXPECT_NE(hex.err.find("wrong passphrase for " + Path("ring/alice.json") + " [wrong_passphrase]"),
            std::string::npos)
      << hex.err;
  EXPECT_FALSE(fs::exists(Path("hex")));

  auto decrypt = Ring("keys decrypt --key alice", "", "wrong");
  EXPECT_EQ(decrypt.code, 1);
  EXPECT_NE(decrypt.err.find("wrong_passphrase"), std::string::npos) << decrypt.err;

  // Importing an encrypted file proves its passphrase first.
  ASSERT_EQ(Ring("keys export alice --out " + Path("backup.json")).code, 0);
  auto import = Ring("keys import copy --file " + Path("backup.json"), "", "wrong");
  EXPECT_EQ(import.code, 1);
  EXPECT_NE(import.err.find("wrong_passphrase"), std::string::npos) << import.err;
  EXPECT_FALSE(fs::exists(Path("ring/copy.json")));

  auto sign = Ring("sign transfer --key alice --chain-id c --nonce 0 --to " + std::string(40, 'b') +
                       " --amount 1",
                   "", "wrong");
  EXPECT_EQ(sign.code, 1);
  EXPECT_NE(sign.err.find("wrong_passphrase"), std::string::npos) << sign.err;

  EXPECT_EQ(Slurp(Path("ring/alice.json")), before);
  EXPECT_EQ(Json(Ring("keys list"))["keys"].size(), 1u);
}

}  // namespace
}  // namespace civitas::wallet
