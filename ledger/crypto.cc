#include "ledger/crypto.h"

#include <atomic>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace civitas::crypto {
namespace {

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One context for the whole process: after creation and randomization libsecp256k1 contexts
// are safe to use from many threads at once for signing and verifying.
const secp256k1_context* Ctx() {
  static const secp256k1_context* ctx = [] {
    secp256k1_selftest();
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    unsigned char seed[32];
    RandomBytes(seed, sizeof(seed));
    if (!secp256k1_context_randomize(c, seed)) std::abort();
    return c;
  }();
  return ctx;
}

}  // namespace

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || !EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr))
    std::abort();
}
Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Sha256Hasher& Sha256Hasher::Update(const uint8_t* data, size_t size) {
  if (size > 0 && !EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size)) std::abort();
  return *this;
}
Sha256Hasher& Sha256Hasher::Update(std::string_view data) {
  return Update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}
Hash32 Sha256Hasher::Finish() {
  Hash32 out;
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  if (!EVP_DigestFinal_ex(ctx, out.data(), &len) || len != 32) std::abort();
  if (!EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr)) std::abort();
  return out;
}

Hash32 Sha256(std::string_view data) {
  thread_local Sha256Hasher hasher;
  return hasher.Update(data).Finish();
}

Hash32 TaggedHash(std::string_view tag, std::string_view msg) {
  thread_local Sha256Hasher hasher;
  Hash32 tag_hash = hasher.Update(tag).Finish();
  return hasher.Update(tag_hash).Update(tag_hash).Update(msg).Finish();
}

void RandomBytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) std::abort();
}

Result<SecretKey> SecretKey::FromBytes(const Hash32& secret) {
  SecretKey key;
  secp256k1_keypair kp;
  if (!secp256k1_keypair_create(Ctx(), &kp, secret.data())) {
    return Status::Invalid("bad_secret_key", "secret key is zero or not below the curve order");
  }
  secp256k1_xonly_pubkey xonly;
  if (!secp256k1_keypair_xonly_pub(Ctx(), &xonly, nullptr, &kp) ||
      !secp256k1_xonly_pubkey_serialize(Ctx(), key.public_key_.data(), &xonly)) {
    return Status::Error(Status::Code::kInternal, "internal", "cannot derive public key");
  }
  key.secret_ = secret;
  static_assert(sizeof(kp) == 96);
  std::memcpy(key.keypair_.data(), &kp, sizeof(kp));
  return key;
}

SecretKey SecretKey::Generate() {
  for (;;) {
    Hash32 secret;
    RandomBytes(secret.data(), secret.size());
    auto key = FromBytes(secret);
    if (key.ok()) return std::move(key).value();
  }
}

Signature SecretKey::Sign(const Hash32& msg, const Hash32* aux_rand) const {
  Hash32 aux;
  if (aux_rand) {
    aux = *aux_rand;
  } else {
    RandomBytes(aux.data(), aux.size());
  }
  secp256k1_keypair kp;
  std::memcpy(&kp, keypair_.data(), sizeof(kp));
  Signature sig;
  if (!secp256k1_schnorrsig_sign32(Ctx(), sig.data(), msg.data(), &kp, aux.data())) std::abort();
  return sig;
}

namespace {
std::atomic<uint64_t> verify_count{0};
}  // namespace

uint64_t VerifyCount() { return verify_count.load(std::memory_order_relaxed); }

namespace {

// Parsed public keys. Parsing an x-only key lifts it onto the curve, a square root that is
// about a tenth of a verification; senders sign many transactions and validators many votes,
// so verifications keep the parsed keys they met last. Only valid keys are kept. Sharded by
// the key's first byte so the verifying threads rarely meet on one lock; a full shard starts
// over (bounded memory, no bookkeeping per hit).
class ParsedKeys {
 public:
  bool Parse(const PublicKey& pk, secp256k1_xonly_pubkey* out) {
    Shard& shard = shards_[pk[0] % kShards];
    {
      std::lock_guard lock(shard.mu);
      if (auto it = shard.keys.find(pk); it != shard.keys.end()) {
        *out = it->second;
        return true;
      }
    }
    if (!secp256k1_xonly_pubkey_parse(Ctx(), out, pk.data())) return false;
    std::lock_guard lock(shard.mu);
    if (shard.keys.size() >= kPerShard) shard.keys.clear();
    shard.keys.emplace(pk, *out);
    return true;
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = 4096;  // 64 Ki keys in all, about 8 MB
  struct Shard {
    std::mutex mu;
    std::unordered_map<PublicKey, secp256k1_xonly_pubkey, UniformKeyHash> keys;
  };
  std::array<Shard, kShards> shards_;
};

ParsedKeys& Keys() {
  static ParsedKeys* keys = new ParsedKeys;  // never destroyed: verifying threads may outlive main
  return *keys;
}

// Counts one verification; a key that did not parse fails it.
bool VerifyParsed(bool parsed, const secp256k1_xonly_pubkey& xonly, std::string_view msg,
                  const Signature& sig) {
  verify_count.fetch_add(1, std::memory_order_relaxed);
  return parsed && secp256k1_schnorrsig_verify(Ctx(), sig.data(),
                                               reinterpret_cast<const unsigned char*>(msg.data()),
                                               msg.size(), &xonly) == 1;
}

}  // namespace

bool Verify(const PublicKey& pk, std::string_view msg, const Signature& sig) {
  secp256k1_xonly_pubkey xonly;
  const bool parsed = Keys().Parse(pk, &xonly);
  return VerifyParsed(parsed, xonly, msg, sig);
}

bool VerifyUncached(const PublicKey& pk, std::string_view msg, const Signature& sig) {
  secp256k1_xonly_pubkey xonly;
  const bool parsed = secp256k1_xonly_pubkey_parse(Ctx(), &xonly, pk.data()) == 1;
  return VerifyParsed(parsed, xonly, msg, sig);
}

bool IsValidPublicKey(const PublicKey& pk) {
  secp256k1_xonly_pubkey xonly;
  return secp256k1_xonly_pubkey_parse(Ctx(), &xonly, pk.data()) == 1;
}

}  // namespace civitas::crypto
