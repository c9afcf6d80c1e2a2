// libFuzzer target: key files, plain (ledger/keyfile.h) and encrypted (tools/wallet/keystore.h),
// which users copy between machines. The input is written to a private temporary file and read
// as the node and the wallet read it. Never crash; a plain file that loads writes back to a file
// that loads the same key; an encrypted file is decrypted with the passphrase "fuzz" (seeds use
// it) when its scrypt cost is small, and a key it yields re-encrypts and decrypts to itself.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/keyfile.h"
#include "tests/fuzz/fuzz_util.h"
#include "tools/wallet/keystore.h"

namespace {

using civitas::fuzz::Require;
constexpr std::string_view kPassphrase = "fuzz";

const std::string& Dir() {
  // Never destroyed: the atexit handler below runs after static destructors.
  static const std::string& dir = *new std::string([] {
    // Key files are written with fsync: on tmpfs that costs nothing, elsewhere it halves the
    // fuzzer's speed.
    std::string tmpl = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/civitas-keyfile-fuzz-XXXXXX"
                                                       : "/tmp/civitas-keyfile-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) civitas::fuzz::Fail("mkdtemp");
    std::atexit([] {
      for (const char* f : {"/key.json", "/copy.json"}) ::unlink((Dir() + f).c_str());
      ::rmdir(Dir().c_str());
    });
    return tmpl;
  }());
  return dir;
}

// The fuzzer runs millions of inputs: only scrypt with N * r * p up to 2^10 is worth deriving.
bool CheapScrypt(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("crypto") || !j["crypto"].is_object()) return false;
  const auto& c = j["crypto"];
  if (!c.contains("kdf_params") || !c["kdf_params"].is_object()) return false;
  const auto& kp = c["kdf_params"];
  uint64_t cost = 1;
  for (const char* k : {"n", "r", "p"}) {
    if (!kp.contains(k) || !kp[k].is_number_unsigned()) return false;
    uint64_t v = kp[k].get<uint64_t>();
    if (v > 1024) return false;
    cost *= v;
  }
  return cost <= 1024;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = civitas::fuzz::AsView(data, size);
  const std::string path = Dir() + "/key.json";
  const std::string copy = Dir() + "/copy.json";
  ::unlink(path.c_str());
  ::unlink(copy.c_str());
  Require(civitas::wallet::WriteNewPrivateFile(path, text).ok(), "write input");

  (void)civitas::wallet::InspectKeyFile(path);
  auto plain = civitas::ReadKeyFile(path);
  if (plain.ok()) {
    Require(civitas::WriteKeyFile(copy, *plain).ok(), "write plain copy");
    auto again = civitas::ReadKeyFile(copy);
    Require(again.ok() && again->bytes() == plain->bytes(), "plain key file round trip");
  }

  if (!CheapScrypt(text)) return 0;
  auto key = civitas::wallet::DecryptKey(text, kPassphrase);
  if (!key.ok()) return 0;
  auto info = civitas::wallet::InspectKeyFile(path);
  Require(info.ok() && info->encrypted && info->public_key == key->public_key(),
          "inspect disagrees with decrypt");
  civitas::Hash32 salt{};
  std::array<uint8_t, 12> nonce{};
  auto encrypted =
      civitas::wallet::EncryptKeyDeterministic(*key, kPassphrase, info->scrypt, salt, nonce);
  Require(encrypted.ok(), "re-encrypt");
  auto again = civitas::wallet::DecryptKey(*encrypted, kPassphrase);
  Require(again.ok() && again->bytes() == key->bytes(), "encrypted key file round trip");
  return 0;
}
