#pragma once

// Key files, plain and encrypted. docs/WALLET.md specifies the encrypted format:
//
//   {"type": "bip340-secp256k1", "version": 1, "public_key": hex32, "address": hex20,
//    "crypto": {"kdf": "scrypt", "kdf_params": {"n": N, "r": R, "p": P}, "salt": hex32,
//               "cipher": "aes-256-gcm", "nonce": hex12, "ciphertext": hex32, "tag": hex16,
//               "check": hex16}}
//
//   dk         = scrypt(passphrase, salt, N, r, p, 64 bytes)
//   ciphertext = AES-256-GCM(key dk[0:32], nonce, secret key, aad "civitas/keyfile/v1" ||
//   public_key) check      = TaggedHash("civitas/keyfile/check/v1", dk[32:64])[0:16]
//
// `check` tells a wrong passphrase from a damaged or altered file: it depends only on the
// passphrase and the KDF inputs, while the GCM tag also covers the nonce, ciphertext and
// public key. Plain files are ledger/keyfile.h's format and keep working everywhere.
// Every file is created with mode 0600; files readable by group or others are refused.

#include <functional>
#include <string>
#include <string_view>

#include "ledger/address.h"
#include "ledger/crypto.h"
#include "ledger/keyfile.h"
#include "ledger/status.h"

namespace civitas::wallet {

struct ScryptParams {
  uint64_t n = 1u << 17;  // 128 MiB with r = 8
  uint32_t r = 8;
  uint32_t p = 1;
};
// The largest parameters a key file may ask for (so a hostile file cannot exhaust memory):
// N <= 2^20, r <= 32, p <= 16, 128 * N * r <= 1 GiB.
Status CheckScryptParams(const ScryptParams& params);

// The public part of a key file, read without the passphrase. For an encrypted file these are
// the file's claims, verified only when it is decrypted.
struct KeyFileInfo {
  bool encrypted = false;
  int version = 0;  // 0 for plain files
  crypto::PublicKey public_key{};
  Address address{};
  ScryptParams scrypt;  // when encrypted
};

// The JSON text of an encrypted key file. Reasons: bad_passphrase (empty), bad_key_file (params).
Result<std::string> EncryptKey(const crypto::SecretKey& key, std::string_view passphrase,
                               const ScryptParams& params = {});
// The same with the given salt and nonce: only for test vectors. Never reuse a salt or nonce.
Result<std::string> EncryptKeyDeterministic(const crypto::SecretKey& key,
                                            std::string_view passphrase, const ScryptParams& params,
                                            const Hash32& salt,
                                            const std::array<uint8_t, 12>& nonce);
// Decrypts the JSON text of an encrypted key file; `name` names it in messages. Reasons:
// wrong_passphrase, tampered_key_file (fails authentication, or the public key or address does
// not match the secret), bad_key_file (malformed, unsupported version, KDF or cipher).
Result<crypto::SecretKey> DecryptKey(std::string_view text, std::string_view passphrase,
                                     const std::string& name = "key file");

// Reads what a key file claims about itself, plain or encrypted. Reasons: not_found,
// bad_key_file (including a mode readable by group or others).
Result<KeyFileInfo> InspectKeyFile(const std::string& path);

// Supplies the passphrase of an encrypted file when one is met (called at most once).
using PassphraseFn = std::function<Result<std::string>(const std::string& path)>;
// Reads a plain or encrypted key file; asks `passphrase` only for an encrypted one.
Result<crypto::SecretKey> LoadKeyFile(const std::string& path, const PassphraseFn& passphrase);

// The text of a key file, unparsed. Reasons: not_found, bad_key_file (a mode readable by group
// or others), io_error.
Result<std::string> ReadKeyFileText(const std::string& path);
// The one private-file writer (ledger/keyfile.h): mode 0600, synced, an existing path refused,
// a half-written file removed.
using civitas::WriteNewPrivateFile;

// Writes a key file with mode 0600: encrypted when `passphrase` is non-empty, else plain.
// Without `overwrite`, refuses an existing path; with it, replaces the file atomically (a
// temporary file in the same folder, fsync, rename).
Status WriteKeyFile(const std::string& path, const crypto::SecretKey& key,
                    std::string_view passphrase, bool overwrite, const ScryptParams& params = {});

}  // namespace civitas::wallet
