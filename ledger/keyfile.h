#pragma once

// Key files: JSON {"type": "bip340-secp256k1", "public_key": hex, "secret_key": hex}, written
// with mode 0600 (docs/PROTOCOL.md, "Key files"). A primitive: the node, the wallet (which adds
// encrypted files, tools/wallet/keystore.h) and the tools read and write them.

#include <string>
#include <string_view>

#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas {

// Writes `text` to a new file with mode 0600 and syncs it; refuses an existing path (io_error).
// A file it could not write whole is removed, so no half-written key is left behind.
Status WriteNewPrivateFile(const std::string& path, std::string_view text);

// Writes `key` as a plain key file through WriteNewPrivateFile.
Status WriteKeyFile(const std::string& path, const crypto::SecretKey& key);
// Refuses files readable by group or others, malformed files and keys whose public part does
// not match the secret. Reason: bad_key_file.
Result<crypto::SecretKey> ReadKeyFile(const std::string& path);

}  // namespace civitas
