// civitas keys new | recover | show | encrypt | decrypt (docs/WALLET.md).

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ledger/address.h"
#include "ledger/did.h"
#include "tools/cli/cli.h"
#include "tools/wallet/hd.h"
#include "tools/wallet/keystore.h"
#include "tools/wallet/mnemonic.h"

namespace civitas::cli {
namespace {

constexpr const char* kMnemonicEnv = "CIVITAS_MNEMONIC";
constexpr const char* kBip39PassphraseEnv = "CIVITAS_BIP39_PASSPHRASE";

json KeyJson(const crypto::PublicKey& pk) {
  return {{"public_key", ToHex(pk)}, {"address", ToHex(AddressOf(pk))}, {"did", DeriveDid(pk)}};
}

std::string FirstLine(const std::string& path, bool* ok) {
  std::ifstream in(path);
  std::string line;
  *ok = static_cast<bool>(in);
  if (in) std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

class Keys : public Commands {
 public:
  void Register(CLI::App& app) override {
    auto* keys = app.add_subcommand("keys", "create, recover and protect key files");
    keys->require_subcommand(1);

    new_ = keys->add_subcommand("new", "create a key file (mode 0600)");
    new_->alias("add");
    new_->add_option("--out", out_, "path of the new key file")->required();
    new_->add_flag("--mnemonic", mnemonic_,
                   "derive the key from a new BIP-39 mnemonic (printed once: write it down)");
    new_->add_option("--words", words_, "mnemonic length")
        ->check(CLI::IsMember({12, 24}))
        ->capture_default_str();
    AddDerivationOptions(new_);
    AddEncryptOptions(new_);

    recover_ =
        keys->add_subcommand("recover",
                             "re-create a key file from a BIP-39 mnemonic (from --mnemonic-file, "
                             "$CIVITAS_MNEMONIC, standard input, or the terminal without echo)");
    recover_->alias("import");
    recover_->add_option("--out", out_, "path of the new key file")->required();
    recover_->add_option("--mnemonic-file", mnemonic_file_,
                         "file whose first line is the mnemonic");
    AddDerivationOptions(recover_);
    AddEncryptOptions(recover_);

    show_ = keys->add_subcommand(
        "show", "public key, address and DID of a key file (no passphrase needed)");
    show_->add_option("--key", key_, "key file")->required();

    encrypt_ = keys->add_subcommand("encrypt", "encrypt a plain key file (in place unless --out)");
    encrypt_->add_option("--key", key_, "plain key file")->required();
    encrypt_->add_option("--out", out_, "write the encrypted file here instead");
    encrypt_->add_option("--scrypt-n", scrypt_n_, "scrypt cost N (a power of two)")
        ->capture_default_str();

    decrypt_ =
        keys->add_subcommand("decrypt", "decrypt an encrypted key file (in place unless --out)");
    decrypt_->add_option("--key", key_, "encrypted key file")->required();
    decrypt_->add_option("--out", out_, "write the plain file here instead");
  }

  std::optional<int> Run(const Globals& g) override {
    if (*new_) return New(g);
    if (*recover_) return Recover(g);
    if (*show_) return Show(g);
    if (*encrypt_) return Encrypt(g);
    if (*decrypt_) return Decrypt(g);
    return std::nullopt;
  }

 private:
  void AddDerivationOptions(CLI::App* cmd) {
    cmd->add_option("--index", index_, "account index in m/44'/7463'/0'/0'/index'")
        ->capture_default_str();
    cmd->add_option("--bip39-passphrase-file", bip39_passphrase_file_,
                    "optional BIP-39 passphrase (first line; default $CIVITAS_BIP39_PASSPHRASE "
                    "or none)");
  }
  void AddEncryptOptions(CLI::App* cmd) {
    cmd->add_flag("--encrypt", encrypt_flag_, "encrypt the key file with a passphrase");
    cmd->add_option("--scrypt-n", scrypt_n_, "scrypt cost N for --encrypt (a power of two)")
        ->capture_default_str();
  }

  Result<std::string> Bip39Passphrase() const {
    if (!bip39_passphrase_file_.empty()) {
      bool ok = false;
      std::string p = FirstLine(bip39_passphrase_file_, &ok);
      if (!ok) return Status::Invalid("bad_passphrase", "cannot read " + bip39_passphrase_file_);
      return p;
    }
    const char* env = std::getenv(kBip39PassphraseEnv);
    return std::string(env ? env : "");
  }

  Result<std::string> ReadMnemonic() const {
    if (!mnemonic_file_.empty()) {
      bool ok = false;
      std::string m = FirstLine(mnemonic_file_, &ok);
      if (!ok) return Status::Invalid("bad_mnemonic", "cannot read " + mnemonic_file_);
      return m;
    }
    if (const char* env = std::getenv(kMnemonicEnv)) return std::string(env);
    if (!wallet::StdinIsTerminal()) {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      return ss.str();
    }
    return wallet::ReadSecretFromTerminal("mnemonic (words separated by spaces): ");
  }

  // Writes `key` to --out, encrypted with --encrypt, and prints what was written.
  int WriteAndPrint(const Globals& g, const crypto::SecretKey& key, json extra) {
    std::string pass;
    if (encrypt_flag_) {
      auto p =
          wallet::ReadPassphrase(g.passphrase_source(), "new passphrase for " + out_ + ": ", true);
      if (!p.ok()) return Fail(p.status());
      pass = std::move(*p);
    }
    Status s = wallet::WriteKeyFile(out_, key, pass, false, {scrypt_n_, 8, 1});
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key.public_key());
    j["file"] = out_;
    j["encrypted"] = encrypt_flag_;
    j.update(extra);
    Print(j, g.json());
    return 0;
  }

  int New(const Globals& g) {
    if (!mnemonic_) return WriteAndPrint(g, crypto::SecretKey::Generate(), json::object());
    auto m = wallet::GenerateMnemonic(words_);
    if (!m.ok()) return Fail(m.status());
    auto pass = Bip39Passphrase();
    if (!pass.ok()) return Fail(pass.status());
    auto key = wallet::KeyFromMnemonic(*m, *pass, index_);
    if (!key.ok()) return Fail(key.status());
    if (!g.json()) {
      std::cerr << "Write down these " << words_
                << " words and keep them secret: anyone who has them controls this key, and "
                   "they are shown only now.\n";
    }
    return WriteAndPrint(
        g, *key, {{"mnemonic", *m}, {"path", wallet::FormatPath(wallet::CivitasPath(index_))}});
  }

  int Recover(const Globals& g) {
    auto m = ReadMnemonic();
    if (!m.ok()) return Fail(m.status());
    auto pass = Bip39Passphrase();
    if (!pass.ok()) return Fail(pass.status());
    auto key = wallet::KeyFromMnemonic(*m, *pass, index_);
    if (!key.ok()) return Fail(key.status());
    return WriteAndPrint(g, *key, {{"path", wallet::FormatPath(wallet::CivitasPath(index_))}});
  }

  int Show(const Globals& g) {
    auto info = wallet::InspectKeyFile(key_);
    if (!info.ok()) return Fail(info.status());
    json j = KeyJson(info->public_key);
    j["encrypted"] = info->encrypted;
    if (info->encrypted) {
      j["version"] = info->version;
      j["kdf"] = {
          {"name", "scrypt"}, {"n", info->scrypt.n}, {"r", info->scrypt.r}, {"p", info->scrypt.p}};
    }
    Print(j, g.json());
    return 0;
  }

  int Encrypt(const Globals& g) {
    auto info = wallet::InspectKeyFile(key_);
    if (!info.ok()) return Fail(info.status());
    if (info->encrypted) return Fail(key_ + " is already encrypted", "already_encrypted");
    auto key = LoadSigningKey(key_, g);
    if (!key.ok()) return Fail(key.status());
    const std::string dest = out_.empty() ? key_ : out_;
    auto pass =
        wallet::ReadPassphrase(g.passphrase_source(), "new passphrase for " + dest + ": ", true);
    if (!pass.ok()) return Fail(pass.status());
    Status s = wallet::WriteKeyFile(dest, *key, *pass, out_.empty(), {scrypt_n_, 8, 1});
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key->public_key());
    j["file"] = dest;
    j["encrypted"] = true;
    Print(j, g.json());
    return 0;
  }

  int Decrypt(const Globals& g) {
    auto info = wallet::InspectKeyFile(key_);
    if (!info.ok()) return Fail(info.status());
    if (!info->encrypted) return Fail(key_ + " is not encrypted", "not_encrypted");
    auto key = LoadSigningKey(key_, g);
    if (!key.ok()) return Fail(key.status());
    const std::string dest = out_.empty() ? key_ : out_;
    Status s = wallet::WriteKeyFile(dest, *key, "", out_.empty());
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key->public_key());
    j["file"] = dest;
    j["encrypted"] = false;
    Print(j, g.json());
    return 0;
  }

  CLI::App* new_ = nullptr;
  CLI::App* recover_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* encrypt_ = nullptr;
  CLI::App* decrypt_ = nullptr;
  std::string out_, key_, mnemonic_file_, bip39_passphrase_file_;
  bool mnemonic_ = false, encrypt_flag_ = false;
  int words_ = 24;
  uint32_t index_ = 0;
  uint64_t scrypt_n_ = wallet::ScryptParams{}.n;
};

}  // namespace

std::unique_ptr<Commands> KeysCommands() { return std::make_unique<Keys>(); }

}  // namespace civitas::cli
