// civitas keys add | import | list | show | export | delete: the keyring; and
// civitas keys new | recover | show | encrypt | decrypt: single key files (docs/WALLET.md).

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ledger/address.h"
#include "ledger/did.h"
#include "tools/cli/cli.h"
#include "tools/wallet/hd.h"
#include "tools/wallet/keyring.h"
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
    auto* keys = app.add_subcommand("keys", "the keyring and key files: create, recover, protect");
    keys->require_subcommand(1);

    add_ = keys->add_subcommand(
        "add", "add a new key to the keyring, from a new BIP-39 mnemonic (printed once)");
    add_->add_option("name", name_, "the key's name in the keyring")->required();
    auto* no_mnemonic = add_->add_flag("--no-mnemonic", no_mnemonic_,
                                       "a random key without a mnemonic (no paper backup)");
    add_->add_option("--words", words_, "mnemonic length")
        ->check(CLI::IsMember({12, 24}))
        ->capture_default_str()
        ->excludes(no_mnemonic);
    AddDerivationOptions(add_);
    AddKeyringEncryptOptions(add_);

    import_ = keys->add_subcommand(
        "import",
        "add an existing key to the keyring: from a BIP-39 mnemonic (--mnemonic-file, "
        "$CIVITAS_MNEMONIC, standard input or the terminal) or from a key file (--file)");
    import_->add_option("name", name_, "the key's name in the keyring")->required();
    auto* file = import_->add_option("--file", file_, "an existing key file (plain or encrypted)");
    import_->add_option("--mnemonic-file", mnemonic_file_, "file whose first line is the mnemonic")
        ->excludes(file);
    AddDerivationOptions(import_);
    AddKeyringEncryptOptions(import_);

    list_ = keys->add_subcommand("list", "the keys of the keyring: name, address, DID, encrypted");

    export_ = keys->add_subcommand(
        "export", "write a keyring key as an encrypted key file (a plain one is encrypted first)");
    export_->add_option("name", name_, "the key's name in the keyring")->required();
    export_->add_option("--out", out_, "write the file here (mode 0600) instead of stdout");
    export_->add_option("--scrypt-n", scrypt_n_, "scrypt cost N when a plain key is encrypted")
        ->capture_default_str();
    export_->add_flag("--unencrypted-hex", unencrypted_hex_,
                      "print the secret key in hex instead (needs --yes-i-understand and the "
                      "passphrase)");
    export_->add_flag("--yes-i-understand", understood_,
                      "confirm that the secret key may be shown in the clear");

    delete_ = keys->add_subcommand("delete", "delete a key of the keyring (needs --yes)");
    delete_->add_option("name", name_, "the key's name in the keyring")->required();
    delete_->add_flag("--yes", yes_, "really delete it");

    new_ = keys->add_subcommand("new", "create a key file (mode 0600)");
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
    recover_->add_option("--out", out_, "path of the new key file")->required();
    recover_->add_option("--mnemonic-file", mnemonic_file_,
                         "file whose first line is the mnemonic");
    AddDerivationOptions(recover_);
    AddEncryptOptions(recover_);

    show_ = keys->add_subcommand(
        "show", "public key, address and DID of a key file or keyring key (no passphrase needed)");
    auto* target = show_->add_option("key", key_, "key file, or the name of a keyring key");
    show_->add_option("--key", key_, "the same, as an option")->excludes(target);

    encrypt_ = keys->add_subcommand("encrypt", "encrypt a plain key file (in place unless --out)");
    encrypt_->add_option("--key", key_, "plain key file or keyring key")->required();
    encrypt_->add_option("--out", out_, "write the encrypted file here instead");
    encrypt_->add_option("--scrypt-n", scrypt_n_, "scrypt cost N (a power of two)")
        ->capture_default_str();

    decrypt_ =
        keys->add_subcommand("decrypt", "decrypt an encrypted key file (in place unless --out)");
    decrypt_->add_option("--key", key_, "encrypted key file or keyring key")->required();
    decrypt_->add_option("--out", out_, "write the plain file here instead");
  }

  std::optional<int> Run(const Globals& g) override {
    if (*add_) return Add(g);
    if (*import_) return Import(g);
    if (*list_) return List(g);
    if (*export_) return Export(g);
    if (*delete_) return Delete(g);
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
  // Keyring keys are encrypted unless --no-encrypt.
  void AddKeyringEncryptOptions(CLI::App* cmd) {
    cmd->add_flag("--encrypt,!--no-encrypt", ring_encrypt_,
                  "encrypt the key file with a passphrase (the default), or not");
    cmd->add_option("--scrypt-n", scrypt_n_, "scrypt cost N (a power of two)")
        ->capture_default_str();
  }

  Result<wallet::Keyring> OpenKeyring(const Globals& g) const {
    auto dir = wallet::KeyringDir(g.keyring);
    if (!dir.ok()) return dir.status();
    return wallet::Keyring(*dir);
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

  // Writes `key` to a new file at `path` (encrypted with a new passphrase when `encrypt`) and
  // prints what was written, after `warning` on stderr (text output only).
  int WriteAndPrint(const Globals& g, const std::string& path, bool encrypt,
                    const crypto::SecretKey& key, json extra, const std::string& warning = "") {
    std::string pass;
    if (encrypt) {
      auto p =
          wallet::ReadPassphrase(g.passphrase_source(), "new passphrase for " + path + ": ", true);
      if (!p.ok()) return Fail(p.status());
      pass = std::move(*p);
    }
    Status s = wallet::WriteKeyFile(path, key, pass, false, {scrypt_n_, 8, 1});
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key.public_key());
    j["file"] = path;
    j["encrypted"] = encrypt;
    j.update(extra);
    if (!warning.empty() && !g.json()) std::cerr << warning;
    Print(j, g.json());
    return 0;
  }

  static std::string MnemonicWarning(int words) {
    return "Write down these " + std::to_string(words) +
           " words and keep them secret: anyone who has them controls this key, and they are "
           "shown only now.\n";
  }
  json PathJson() const { return {{"path", wallet::FormatPath(wallet::CivitasPath(index_))}}; }

  // A new mnemonic of --words words and its key at --index.
  Result<std::pair<std::string, crypto::SecretKey>> NewMnemonicKey() const {
    auto m = wallet::GenerateMnemonic(words_);
    if (!m.ok()) return m.status();
    auto pass = Bip39Passphrase();
    if (!pass.ok()) return pass.status();
    auto key = wallet::KeyFromMnemonic(*m, *pass, index_);
    if (!key.ok()) return key.status();
    return std::make_pair(std::move(*m), *key);
  }
  // The key of the mnemonic the user gives (ReadMnemonic) at --index.
  Result<crypto::SecretKey> MnemonicKey() const {
    auto m = ReadMnemonic();
    if (!m.ok()) return m.status();
    auto pass = Bip39Passphrase();
    if (!pass.ok()) return pass.status();
    return wallet::KeyFromMnemonic(*m, *pass, index_);
  }

  int New(const Globals& g) {
    if (!mnemonic_) {
      return WriteAndPrint(g, out_, encrypt_flag_, crypto::SecretKey::Generate(), json::object());
    }
    auto mk = NewMnemonicKey();
    if (!mk.ok()) return Fail(mk.status());
    json extra = PathJson();
    extra["mnemonic"] = mk->first;
    return WriteAndPrint(g, out_, encrypt_flag_, mk->second, extra, MnemonicWarning(words_));
  }

  int Recover(const Globals& g) {
    auto key = MnemonicKey();
    if (!key.ok()) return Fail(key.status());
    return WriteAndPrint(g, out_, encrypt_flag_, *key, PathJson());
  }

  // ---- The keyring. ----

  int Add(const Globals& g) {
    auto ring = OpenKeyring(g);
    if (!ring.ok()) return Fail(ring.status());
    auto path = ring->PrepareNew(name_);  // refuse a bad or taken name before anything else
    if (!path.ok()) return Fail(path.status());
    if (no_mnemonic_) {
      return WriteAndPrint(g, *path, ring_encrypt_, crypto::SecretKey::Generate(),
                           {{"name", name_}});
    }
    auto mk = NewMnemonicKey();
    if (!mk.ok()) return Fail(mk.status());
    json extra = PathJson();
    extra["name"] = name_;
    extra["mnemonic"] = mk->first;
    return WriteAndPrint(g, *path, ring_encrypt_, mk->second, extra, MnemonicWarning(words_));
  }

  int Import(const Globals& g) {
    auto ring = OpenKeyring(g);
    if (!ring.ok()) return Fail(ring.status());
    auto path = ring->PrepareNew(name_);
    if (!path.ok()) return Fail(path.status());
    if (file_.empty()) {
      auto key = MnemonicKey();
      if (!key.ok()) return Fail(key.status());
      json extra = PathJson();
      extra["name"] = name_;
      return WriteAndPrint(g, *path, ring_encrypt_, *key, extra);
    }
    if (index_ != 0 || !bip39_passphrase_file_.empty()) {
      return Fail("--index and --bip39-passphrase-file are for a mnemonic, not --file",
                  "bad_request");
    }
    auto info = wallet::InspectKeyFile(file_);
    if (!info.ok()) return Fail(info.status());
    const json extra = {{"name", name_}, {"imported_from", file_}};
    if (!info->encrypted) {
      auto key = LoadSigningKey(file_, g);
      if (!key.ok()) return Fail(key.status());
      return WriteAndPrint(g, *path, ring_encrypt_, *key, extra);
    }
    // An encrypted file is decrypted once, to prove the passphrase and authenticate the public
    // key and address it shows, then kept as it is (same passphrase and KDF).
    auto text = wallet::ReadKeyFileText(file_);
    if (!text.ok()) return Fail(text.status());
    auto pass =
        wallet::ReadPassphrase(g.passphrase_source(), "passphrase for " + file_ + ": ", false);
    if (!pass.ok()) return Fail(pass.status());
    auto key = wallet::DecryptKey(*text, *pass, file_);
    if (!key.ok()) return Fail(key.status());
    if (!ring_encrypt_) return WriteAndPrint(g, *path, false, *key, extra);
    Status s = wallet::WriteNewPrivateFile(*path, *text);
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key->public_key());
    j["file"] = *path;
    j["encrypted"] = true;
    j.update(extra);
    Print(j, g.json());
    return 0;
  }

  int List(const Globals& g) {
    auto ring = OpenKeyring(g);
    if (!ring.ok()) return Fail(ring.status());
    auto entries = ring->List();
    if (!entries.ok()) return Fail(entries.status());
    json keys = json::array();
    for (const auto& e : *entries) {
      json k = {{"name", e.name}, {"file", e.path}};
      if (e.error.ok()) {
        k.update(KeyJson(e.info.public_key));
        k["encrypted"] = e.info.encrypted;
      } else {
        k["error"] = e.error.message() + " [" + e.error.reason() + "]";
      }
      keys.push_back(k);
    }
    if (g.json()) {
      Print({{"keyring", ring->dir()}, {"keys", keys}}, true);
      return 0;
    }
    if (keys.empty()) {
      std::cerr << "no keys in the keyring " << ring->dir() << "\n";
      return 0;
    }
    size_t width = 4;
    for (const auto& k : keys) width = std::max(width, k["name"].get<std::string>().size());
    auto pad = [](std::string text, size_t w) {
      text.resize(std::max(text.size(), w), ' ');
      return text;
    };
    std::cout << pad("NAME", width) << "  " << pad("ADDRESS", 40) << "  ENCRYPTED  DID\n";
    for (const auto& k : keys) {
      std::cout << pad(k["name"].get<std::string>(), width) << "  ";
      if (k.contains("error")) {
        std::cout << "error: " << k["error"].get<std::string>() << "\n";
        continue;
      }
      std::cout << k["address"].get<std::string>() << "  "
                << pad(k["encrypted"].get<bool>() ? "yes" : "no", 9) << "  "
                << k["did"].get<std::string>() << "\n";
    }
    return 0;
  }

  int Export(const Globals& g) {
    auto ring = OpenKeyring(g);
    if (!ring.ok()) return Fail(ring.status());
    auto path = ring->Find(name_);
    if (!path.ok()) return Fail(path.status());
    if (understood_ && !unencrypted_hex_) {
      return Fail("--yes-i-understand goes with --unencrypted-hex", "bad_request");
    }
    if (unencrypted_hex_) return ExportHex(g, *path);
    auto info = wallet::InspectKeyFile(*path);
    if (!info.ok()) return Fail(info.status());
    std::string text;
    if (info->encrypted) {
      auto t = wallet::ReadKeyFileText(*path);
      if (!t.ok()) return Fail(t.status());
      text = std::move(*t);
    } else {
      auto key = LoadSigningKey(*path, g);
      if (!key.ok()) return Fail(key.status());
      auto pass = wallet::ReadPassphrase(g.passphrase_source(),
                                         "new passphrase for the exported " + name_ + ": ", true);
      if (!pass.ok()) return Fail(pass.status());
      auto t = wallet::EncryptKey(*key, *pass, {scrypt_n_, 8, 1});
      if (!t.ok()) return Fail(t.status());
      text = std::move(*t);
    }
    if (out_.empty()) {
      std::cout << text;
      return 0;
    }
    Status s = wallet::WriteNewPrivateFile(out_, text);
    if (!s.ok()) return Fail(s);
    json j = KeyJson(info->public_key);
    j["name"] = name_;
    j["file"] = out_;
    j["encrypted"] = true;
    Print(j, g.json());
    return 0;
  }

  // The secret key in hex, only with --yes-i-understand and (for an encrypted key) the
  // passphrase.
  int ExportHex(const Globals& g, const std::string& path) {
    if (!understood_) {
      return Fail(
          "--unencrypted-hex shows the secret key in the clear: anyone who sees it controls the "
          "key. Add --yes-i-understand if that is what you want",
          "confirmation_needed");
    }
    auto key = LoadSigningKey(path, g);
    if (!key.ok()) return Fail(key.status());
    const std::string hex = ToHex(key->bytes());
    if (!out_.empty()) {
      Status s = wallet::WriteNewPrivateFile(out_, hex + "\n");
      if (!s.ok()) return Fail(s);
    }
    json j = KeyJson(key->public_key());
    j["name"] = name_;
    if (out_.empty()) {
      j["secret_key"] = hex;
    } else {
      j["file"] = out_;
    }
    if (g.json()) {
      Print(j, true);
    } else if (out_.empty()) {
      std::cout << hex << "\n";  // the secret alone on stdout, ready for a pipe
    } else {
      Print(j, false);
    }
    return 0;
  }

  int Delete(const Globals& g) {
    auto ring = OpenKeyring(g);
    if (!ring.ok()) return Fail(ring.status());
    auto path = ring->Find(name_);
    if (!path.ok()) return Fail(path.status());
    if (!yes_) {
      return Fail("deleting '" + name_ + "' destroys " + *path +
                      " for good: without its mnemonic or an export the key is lost. Run again "
                      "with --yes to delete it",
                  "confirmation_needed");
    }
    auto info = wallet::InspectKeyFile(*path);
    Status s = ring->Remove(name_);
    if (!s.ok()) return Fail(s);
    json j = {{"deleted", name_}, {"file", *path}};
    if (info.ok()) j["address"] = ToHex(info->address);
    Print(j, g.json());
    return 0;
  }

  // ---- Single files (or keyring keys by name). ----

  int Show(const Globals& g) {
    if (key_.empty()) return Fail("give a key file or the name of a keyring key", "bad_request");
    auto path = ResolveKeyPath(key_, g);
    if (!path.ok()) return Fail(path.status());
    auto info = wallet::InspectKeyFile(*path);
    if (!info.ok()) return Fail(info.status());
    json j = KeyJson(info->public_key);
    j["encrypted"] = info->encrypted;
    if (*path != key_) {
      j["name"] = key_;
      j["file"] = *path;
    }
    if (info->encrypted) {
      j["version"] = info->version;
      j["kdf"] = {
          {"name", "scrypt"}, {"n", info->scrypt.n}, {"r", info->scrypt.r}, {"p", info->scrypt.p}};
    }
    Print(j, g.json());
    return 0;
  }

  int Encrypt(const Globals& g) {
    auto path = ResolveKeyPath(key_, g);
    if (!path.ok()) return Fail(path.status());
    auto info = wallet::InspectKeyFile(*path);
    if (!info.ok()) return Fail(info.status());
    if (info->encrypted) return Fail(*path + " is already encrypted", "already_encrypted");
    auto key = LoadSigningKey(*path, g);
    if (!key.ok()) return Fail(key.status());
    const std::string dest = out_.empty() ? *path : out_;
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
    auto path = ResolveKeyPath(key_, g);
    if (!path.ok()) return Fail(path.status());
    auto info = wallet::InspectKeyFile(*path);
    if (!info.ok()) return Fail(info.status());
    if (!info->encrypted) return Fail(*path + " is not encrypted", "not_encrypted");
    auto key = LoadSigningKey(*path, g);
    if (!key.ok()) return Fail(key.status());
    const std::string dest = out_.empty() ? *path : out_;
    Status s = wallet::WriteKeyFile(dest, *key, "", out_.empty());
    if (!s.ok()) return Fail(s);
    json j = KeyJson(key->public_key());
    j["file"] = dest;
    j["encrypted"] = false;
    Print(j, g.json());
    return 0;
  }

  CLI::App* add_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* delete_ = nullptr;
  CLI::App* new_ = nullptr;
  CLI::App* recover_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* encrypt_ = nullptr;
  CLI::App* decrypt_ = nullptr;
  std::string name_, out_, key_, file_, mnemonic_file_, bip39_passphrase_file_;
  bool mnemonic_ = false, encrypt_flag_ = false, ring_encrypt_ = true, no_mnemonic_ = false;
  bool unencrypted_hex_ = false, understood_ = false, yes_ = false;
  int words_ = 24;
  uint32_t index_ = 0;
  uint64_t scrypt_n_ = wallet::ScryptParams{}.n;
};

}  // namespace

std::unique_ptr<Commands> KeysCommands() { return std::make_unique<Keys>(); }

}  // namespace civitas::cli
