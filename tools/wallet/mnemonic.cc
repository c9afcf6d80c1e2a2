#include "tools/wallet/mnemonic.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "ledger/crypto.h"

namespace civitas::wallet {
namespace {

int WordIndex(std::string_view word) {
  // The list is sorted, so a binary search finds a word.
  auto it = std::lower_bound(kBip39English.begin(), kBip39English.end(), word,
                             [](const char* a, std::string_view b) { return a < b; });
  if (it == kBip39English.end() || std::string_view(*it) != word) return -1;
  return static_cast<int>(it - kBip39English.begin());
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

bool ValidWordCount(size_t n) { return n >= 12 && n <= 24 && n % 3 == 0; }

}  // namespace

Result<std::string> EntropyToMnemonic(const Bytes& entropy) {
  const size_t ent_bits = entropy.size() * 8;
  if (entropy.size() < 16 || entropy.size() > 32 || entropy.size() % 4 != 0) {
    return Status::Invalid(
        "bad_entropy",
        "BIP-39 entropy must be 16, 20, 24, 28 or 32 bytes, not " + std::to_string(entropy.size()));
  }
  const size_t cs_bits = ent_bits / 32;
  Hash32 check = crypto::Sha256(entropy);
  auto bit = [&](size_t i) -> int {
    if (i < ent_bits) return (entropy[i / 8] >> (7 - i % 8)) & 1;
    i -= ent_bits;
    return (check[i / 8] >> (7 - i % 8)) & 1;
  };
  std::string out;
  const size_t words = (ent_bits + cs_bits) / 11;
  for (size_t w = 0; w < words; ++w) {
    int index = 0;
    for (size_t b = 0; b < 11; ++b) index = (index << 1) | bit(w * 11 + b);
    if (w > 0) out.push_back(' ');
    out += kBip39English[static_cast<size_t>(index)];
  }
  return out;
}

Result<std::string> GenerateMnemonic(int words) {
  if (words < 12 || words > 24 || words % 3 != 0) {
    return Status::Invalid(
        "bad_mnemonic", "a mnemonic has 12, 15, 18, 21 or 24 words, not " + std::to_string(words));
  }
  Bytes entropy(static_cast<size_t>(words) / 3 * 4);
  crypto::RandomBytes(entropy.data(), entropy.size());
  auto m = EntropyToMnemonic(entropy);
  std::fill(entropy.begin(), entropy.end(), 0);
  return m;
}

Result<Bytes> MnemonicToEntropy(std::string_view mnemonic) {
  std::vector<std::string> words = SplitWords(mnemonic);
  if (!ValidWordCount(words.size())) {
    return Status::Invalid(
        "bad_mnemonic",
        "a mnemonic has 12, 15, 18, 21 or 24 words; this one has " + std::to_string(words.size()));
  }
  std::vector<int> indexes;
  for (size_t i = 0; i < words.size(); ++i) {
    int index = WordIndex(words[i]);
    if (index < 0) {
      return Status::Invalid("bad_mnemonic", "word " + std::to_string(i + 1) + " \"" + words[i] +
                                                 "\" is not in the BIP-39 English word list");
    }
    indexes.push_back(index);
  }
  const size_t total_bits = words.size() * 11;
  const size_t cs_bits = total_bits / 33;
  const size_t ent_bits = total_bits - cs_bits;
  std::vector<uint8_t> bits(total_bits);
  for (size_t w = 0; w < indexes.size(); ++w) {
    for (size_t b = 0; b < 11; ++b) bits[w * 11 + b] = (indexes[w] >> (10 - b)) & 1;
  }
  Bytes entropy(ent_bits / 8, 0);
  for (size_t i = 0; i < ent_bits; ++i) {
    entropy[i / 8] = static_cast<uint8_t>(entropy[i / 8] | (bits[i] << (7 - i % 8)));
  }
  Hash32 check = crypto::Sha256(entropy);
  for (size_t i = 0; i < cs_bits; ++i) {
    if (((check[i / 8] >> (7 - i % 8)) & 1) != bits[ent_bits + i]) {
      return Status::Invalid("bad_mnemonic",
                             "the mnemonic's checksum does not match: a word is wrong, missing or "
                             "out of order (all " +
                                 std::to_string(words.size()) + " words are in the list)");
    }
  }
  return entropy;
}

Result<std::string> NormalizeMnemonic(std::string_view mnemonic) {
  auto entropy = MnemonicToEntropy(mnemonic);
  if (!entropy.ok()) return entropy.status();
  return EntropyToMnemonic(*entropy);
}

Result<Seed> MnemonicToSeed(std::string_view mnemonic, std::string_view passphrase) {
  auto normalized = NormalizeMnemonic(mnemonic);
  if (!normalized.ok()) return normalized.status();
  for (char c : passphrase) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Status::Invalid("bad_passphrase",
                             "the BIP-39 passphrase must be ASCII (docs/WALLET.md explains why)");
    }
  }
  std::string salt = "mnemonic" + std::string(passphrase);
  Seed seed;
  if (PKCS5_PBKDF2_HMAC(normalized->data(), static_cast<int>(normalized->size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), 2048, EVP_sha512(),
                        static_cast<int>(seed.size()), seed.data()) != 1) {
    return Status::Error(Status::Code::kInternal, "crypto", "PBKDF2-HMAC-SHA512 failed");
  }
  return seed;
}

}  // namespace civitas::wallet
