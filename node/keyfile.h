#pragma once

// Key files: JSON {"type": "bip340-secp256k1", "public_key": hex, "secret_key": hex}, written
// with mode 0600 (docs/PROTOCOL.md, "Key files").

#include <string>

#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas::node {

Status WriteKeyFile(const std::string& path, const crypto::SecretKey& key);
// Refuses files readable by group or others, malformed files and keys whose public part does
// not match the secret. Reason: bad_key_file.
Result<crypto::SecretKey> ReadKeyFile(const std::string& path);

}  // namespace civitas::node
