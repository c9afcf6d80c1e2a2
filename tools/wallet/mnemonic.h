#pragma once

// BIP-39 mnemonics with the English word list: entropy <-> words with the checksum, and the
// seed (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase). docs/WALLET.md.
// Every function here is thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/status.h"

namespace civitas::wallet {

// The 2048 words of the BIP-39 English list, in order (embedded at build time from Debian's
// python3-mnemonic; tools/wallet/CMakeLists.txt).
extern const std::array<const char*, 2048> kBip39English;

using Seed = std::array<uint8_t, 64>;

// The mnemonic of 16, 20, 24, 28 or 32 bytes of entropy (12 to 24 words), words separated by
// single spaces. Reason for another size: bad_entropy.
Result<std::string> EntropyToMnemonic(const Bytes& entropy);

// A new mnemonic of `words` words (12, 15, 18, 21 or 24) from the operating system's CSPRNG.
// Reason for another count: bad_mnemonic.
Result<std::string> GenerateMnemonic(int words);

// Checks a mnemonic and returns its entropy. Words may be separated by any whitespace and in any
// letter case. Reason bad_mnemonic, with a message naming the problem: the word count, the
// first word not in the list (and its position), or a checksum that does not match.
Result<Bytes> MnemonicToEntropy(std::string_view mnemonic);

// The canonical spelling of a valid mnemonic (lower case, single spaces).
Result<std::string> NormalizeMnemonic(std::string_view mnemonic);

// BIP-39 seed of a mnemonic, which is checked first (MnemonicToEntropy). The passphrase must be
// ASCII: BIP-39 salts with its NFKD form, which equals the bytes only for ASCII text, so other
// text would give seeds that other wallets do not reproduce (reason bad_passphrase).
Result<Seed> MnemonicToSeed(std::string_view mnemonic, std::string_view passphrase);

}  // namespace civitas::wallet
