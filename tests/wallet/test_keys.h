#pragma once

// Fixed keys of the wallet tests.

#include "ledger/crypto.h"

namespace civitas::wallet::testing {

// The secret key 0x00..03, whose BIP-340 public key is one of the BIP-340 test vectors'.
inline crypto::SecretKey KeyThree() {
  Hash32 s{};
  s[31] = 3;
  return *crypto::SecretKey::FromBytes(s);
}

}  // namespace civitas::wallet::testing
