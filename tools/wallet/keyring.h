#pragma once

// A keyring: a folder of named key files (docs/WALLET.md, "Keyring").
//
//   DIR/NAME.json   one key, in keystore.h's format (plain or encrypted), mode 0600
//
// DIR is --keyring, else $CIVITAS_KEYRING, else $HOME/.civitas/keys. It is created with mode
// 0700 (and any missing parent with it) when the first key is added, and refused when group or
// others may use it. NAME is 1 to 64 characters of [A-Za-z0-9_.-]: with no "/" and the fixed
// ".json" suffix a name can never reach outside DIR. Nothing else is stored; listing reads what
// each file says about itself.

#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "tools/wallet/keystore.h"

namespace civitas::wallet {

inline constexpr const char* kKeyringEnv = "CIVITAS_KEYRING";

// The keyring folder: `flag` when not empty, else $CIVITAS_KEYRING, else $HOME/.civitas/keys.
// Reason no_keyring when none of them is set.
Result<std::string> KeyringDir(const std::string& flag);

// True for 1 to 64 characters of [A-Za-z0-9_.-].
bool IsKeyName(std::string_view name);

struct KeyringEntry {
  std::string name;
  std::string path;
  KeyFileInfo info;  // valid when `error` is ok
  Status error;      // why the file could not be read (bad mode, malformed)
};

// The keyring at one folder. Cheap to copy; every call looks at the folder afresh.
class Keyring {
 public:
  explicit Keyring(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // DIR/NAME.json, whether or not it exists. Reason bad_key_name for an invalid name.
  Result<std::string> PathOf(std::string_view name) const;
  // True when `name` is valid and its file exists.
  bool Contains(std::string_view name) const;
  // The file of an existing key. Reasons bad_key_name, not_found (naming the keyring),
  // bad_keyring (DIR open to group or others).
  Result<std::string> Find(std::string_view name) const;
  // The path a new key `name` is to be written to (then with WriteKeyFile or
  // WriteNewPrivateFile, which refuse an existing file). Creates DIR with mode 0700 when it is
  // missing. Reasons bad_key_name, key_exists, bad_keyring, io_error.
  Result<std::string> PrepareNew(std::string_view name) const;
  // Every NAME.json, in name order; a file that cannot be read is listed with its error. An
  // absent folder is an empty keyring. Reasons bad_keyring, io_error.
  Result<std::vector<KeyringEntry>> List() const;
  // Deletes NAME.json. Reasons bad_key_name, not_found, bad_keyring, io_error.
  Status Remove(std::string_view name) const;

 private:
  // Ok when DIR is absent or a folder that only its owner may use.
  Status CheckDir() const;

  std::string dir_;
};

}  // namespace civitas::wallet
