#include "tools/wallet/keystore.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/keyfile.h"

namespace civitas::wallet {
namespace {

using nlohmann::json;
using Nonce = std::array<uint8_t, 12>;
using Tag = std::array<uint8_t, 16>;

constexpr std::string_view kAadPrefix = "civitas/keyfile/v1";
constexpr std::string_view kCheckTag = "civitas/keyfile/check/v1";
constexpr uint64_t kMaxScryptMem = uint64_t{1} << 30;

struct Derived {
  Hash32 enc_key{};
  std::array<uint8_t, 16> check{};
  ~Derived() { OPENSSL_cleanse(enc_key.data(), enc_key.size()); }
};

Result<std::unique_ptr<Derived>> DeriveKeys(std::string_view passphrase, const Hash32& salt,
                                            const ScryptParams& p) {
  uint8_t dk[64];
  // OpenSSL wants a memory cap above what the parameters need (128 * N * r plus a little).
  uint64_t maxmem = 128 * p.n * p.r + (uint64_t{16} << 20);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), p.n, p.r, p.p,
                     maxmem, dk, sizeof(dk)) != 1) {
    return Status::Error(Status::Code::kInternal, "crypto", "scrypt failed (out of memory?)");
  }
  auto d = std::make_unique<Derived>();
  std::memcpy(d->enc_key.data(), dk, 32);
  Hash32 c = crypto::TaggedHash(kCheckTag, std::string_view(reinterpret_cast<char*>(dk + 32), 32));
  std::memcpy(d->check.data(), c.data(), d->check.size());
  OPENSSL_cleanse(dk, sizeof(dk));
  return d;
}

std::string Aad(const crypto::PublicKey& pk) {
  return std::string(kAadPrefix) + std::string(AsStringView(pk));
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

bool GcmEncrypt(const Hash32& key, const Nonce& nonce, std::string_view aad, const Hash32& plain,
                Hash32& out, Tag& tag) {
  CipherCtx c;
  int len = 0;
  return c.ctx && EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                             nullptr) == 1 &&
         EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce.data()) == 1 &&
         EVP_EncryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(aad.data()),
                           static_cast<int>(aad.size())) == 1 &&
         EVP_EncryptUpdate(c.ctx, out.data(), &len, plain.data(), 32) == 1 && len == 32 &&
         EVP_EncryptFinal_ex(c.ctx, out.data() + len, &len) == 1 && len == 0 &&
         EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                             tag.data()) == 1;
}

// False when the tag does not authenticate.
bool GcmDecrypt(const Hash32& key, const Nonce& nonce, std::string_view aad, const Hash32& cipher,
                Tag tag, Hash32& out) {
  CipherCtx c;
  int len = 0;
  bool ok = c.ctx && EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                                nullptr) == 1 &&
            EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce.data()) == 1 &&
            EVP_DecryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(c.ctx, out.data(), &len, cipher.data(), 32) == 1 && len == 32 &&
            EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                                tag.data()) == 1 &&
            EVP_DecryptFinal_ex(c.ctx, out.data() + len, &len) == 1;
  if (!ok) OPENSSL_cleanse(out.data(), out.size());
  return ok;
}

template <size_t N>
bool HexField(const json& obj, const char* name, std::array<uint8_t, N>& out) {
  if (!obj.contains(name) || !obj[name].is_string()) return false;
  auto v = FixedFromHex<N>(obj[name].get<std::string>());
  if (!v) return false;
  out = *v;
  return true;
}

// The parsed fields of an encrypted key file.
struct Encrypted {
  KeyFileInfo info;
  Hash32 salt{};
  Nonce nonce{};
  Hash32 ciphertext{};
  Tag tag{};
  std::array<uint8_t, 16> check{};
};

Result<Encrypted> ParseEncrypted(const json& j, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("bad_key_file", name + ": " + why);
  };
  if (!j.contains("version") || !j["version"].is_number_unsigned()) return bad("no version");
  if (j["version"] != 1) {
    return bad("encrypted key file version " + j["version"].dump() +
               " is not supported (this civitas reads version 1)");
  }
  Encrypted e;
  e.info.encrypted = true;
  e.info.version = 1;
  const json& c = j["crypto"];
  if (!c.is_object()) return bad("crypto must be an object");
  auto str = [&](const char* k) {
    return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string();
  };
  if (str("kdf") != "scrypt") return bad("unsupported kdf (expected scrypt)");
  if (str("cipher") != "aes-256-gcm") return bad("unsupported cipher (expected aes-256-gcm)");
  if (!c.contains("kdf_params") || !c["kdf_params"].is_object()) return bad("no kdf_params");
  const json& kp = c["kdf_params"];
  for (const char* k : {"n", "r", "p"}) {
    if (!kp.contains(k) || !kp[k].is_number_unsigned()) return bad(std::string("kdf_params.") + k);
  }
  const uint64_t r = kp["r"].get<uint64_t>(), p = kp["p"].get<uint64_t>();
  if (r > 32 || p > 16) return bad("scrypt r must be in [1, 32] and p in [1, 16]");
  e.info.scrypt = {kp["n"].get<uint64_t>(), static_cast<uint32_t>(r), static_cast<uint32_t>(p)};
  if (Status s = CheckScryptParams(e.info.scrypt); !s.ok()) return bad(s.message());
  if (!HexField(j, "public_key", e.info.public_key)) return bad("public_key must be 64 hex digits");
  if (!HexField(j, "address", e.info.address)) return bad("address must be 40 hex digits");
  if (!HexField(c, "salt", e.salt)) return bad("salt must be 64 hex digits");
  if (!HexField(c, "nonce", e.nonce)) return bad("nonce must be 24 hex digits");
  if (!HexField(c, "ciphertext", e.ciphertext)) return bad("ciphertext must be 64 hex digits");
  if (!HexField(c, "tag", e.tag)) return bad("tag must be 32 hex digits");
  if (!HexField(c, "check", e.check)) return bad("check must be 32 hex digits");
  return e;
}

Result<json> ParseJson(std::string_view text, const std::string& name) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Invalid("bad_key_file", name + " is not a Civitas key file (not a JSON object)");
  }
  return j;
}

}  // namespace

Result<std::string> ReadKeyFileText(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("no key file at " + path);
  if (st.st_mode & 077) {
    return Status::Invalid("bad_key_file", path + " is readable by others; run chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status CheckScryptParams(const ScryptParams& p) {
  if (p.n < 2 || (p.n & (p.n - 1)) != 0 || p.n > (uint64_t{1} << 20)) {
    return Status::Invalid("bad_key_file", "scrypt N must be a power of two in [2, 2^20]");
  }
  if (p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16) {
    return Status::Invalid("bad_key_file", "scrypt r must be in [1, 32] and p in [1, 16]");
  }
  if (128 * p.n * p.r > kMaxScryptMem) {
    return Status::Invalid("bad_key_file", "scrypt parameters need more than 1 GiB of memory");
  }
  return Status::Ok();
}

Result<std::string> EncryptKeyDeterministic(const crypto::SecretKey& key,
                                            std::string_view passphrase, const ScryptParams& params,
                                            const Hash32& salt, const Nonce& nonce) {
  if (passphrase.empty()) return Status::Invalid("bad_passphrase", "the passphrase is empty");
  if (Status s = CheckScryptParams(params); !s.ok()) return s;
  auto derived = DeriveKeys(passphrase, salt, params);
  if (!derived.ok()) return derived.status();
  Hash32 ciphertext;
  Tag tag;
  if (!GcmEncrypt((*derived)->enc_key, nonce, Aad(key.public_key()), key.bytes(), ciphertext,
                  tag)) {
    return Status::Error(Status::Code::kInternal, "crypto", "AES-256-GCM encryption failed");
  }
  json j{{"type", "bip340-secp256k1"},
         {"version", 1},
         {"public_key", ToHex(key.public_key())},
         {"address", ToHex(AddressOf(key.public_key()))},
         {"crypto",
          {{"kdf", "scrypt"},
           {"kdf_params", {{"n", params.n}, {"r", params.r}, {"p", params.p}}},
           {"salt", ToHex(salt)},
           {"cipher", "aes-256-gcm"},
           {"nonce", ToHex(nonce)},
           {"ciphertext", ToHex(ciphertext)},
           {"tag", ToHex(tag)},
           {"check", ToHex((*derived)->check)}}}};
  return j.dump(2) + "\n";
}

Result<std::string> EncryptKey(const crypto::SecretKey& key, std::string_view passphrase,
                               const ScryptParams& params) {
  Hash32 salt;
  Nonce nonce;
  crypto::RandomBytes(salt.data(), salt.size());
  crypto::RandomBytes(nonce.data(), nonce.size());
  return EncryptKeyDeterministic(key, passphrase, params, salt, nonce);
}

Result<crypto::SecretKey> DecryptKey(std::string_view text, std::string_view passphrase,
                                     const std::string& name) {
  auto j = ParseJson(text, name);
  if (!j.ok()) return j.status();
  if (!j->contains("crypto")) {
    return Status::Invalid("bad_key_file", name + " is not encrypted");
  }
  auto e = ParseEncrypted(*j, name);
  if (!e.ok()) return e.status();
  auto derived = DeriveKeys(passphrase, e->salt, e->info.scrypt);
  if (!derived.ok()) return derived.status();
  if (CRYPTO_memcmp((*derived)->check.data(), e->check.data(), e->check.size()) != 0) {
    return Status::Invalid("wrong_passphrase", "wrong passphrase for " + name);
  }
  Hash32 secret;
  if (!GcmDecrypt((*derived)->enc_key, e->nonce, Aad(e->info.public_key), e->ciphertext, e->tag,
                  secret)) {
    return Status::Invalid("tampered_key_file",
                           name +
                               " has been altered or damaged: the passphrase is right but the "
                               "ciphertext, nonce, tag or public key do not authenticate");
  }
  auto key = crypto::SecretKey::FromBytes(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!key.ok()) {
    return Status::Invalid("tampered_key_file", name + ": the decrypted secret key is invalid");
  }
  if (key->public_key() != e->info.public_key || AddressOf(key->public_key()) != e->info.address) {
    return Status::Invalid("tampered_key_file",
                           name + ": public_key or address does not match the secret key");
  }
  return key;
}

Result<KeyFileInfo> InspectKeyFile(const std::string& path) {
  auto text = ReadKeyFileText(path);
  if (!text.ok()) return text.status();
  auto j = ParseJson(*text, path);
  if (!j.ok()) return j.status();
  if (j->contains("crypto")) {
    auto e = ParseEncrypted(*j, path);
    if (!e.ok()) return e.status();
    return e->info;
  }
  auto key = civitas::ReadKeyFile(path);
  if (!key.ok()) return key.status();
  KeyFileInfo info;
  info.public_key = key->public_key();
  info.address = AddressOf(key->public_key());
  return info;
}

Result<crypto::SecretKey> LoadKeyFile(const std::string& path, const PassphraseFn& passphrase) {
  auto text = ReadKeyFileText(path);
  if (!text.ok()) return text.status();
  auto j = ParseJson(*text, path);
  if (!j.ok()) return j.status();
  if (!j->contains("crypto")) return civitas::ReadKeyFile(path);
  auto e = ParseEncrypted(*j, path);  // fail on a malformed file before asking for a passphrase
  if (!e.ok()) return e.status();
  auto pass = passphrase(path);
  if (!pass.ok()) return pass.status();
  auto key = DecryptKey(*text, *pass, path);
  OPENSSL_cleanse(pass->data(), pass->size());
  return key;
}

Status WriteKeyFile(const std::string& path, const crypto::SecretKey& key,
                    std::string_view passphrase, bool overwrite, const ScryptParams& params) {
  std::string text;
  if (!passphrase.empty()) {
    auto t = EncryptKey(key, passphrase, params);
    if (!t.ok()) return t.status();
    text = std::move(*t);
  }
  if (!overwrite) {
    if (passphrase.empty()) return civitas::WriteKeyFile(path, key);
    return WriteNewPrivateFile(path, text);
  }
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  Status s = passphrase.empty() ? civitas::WriteKeyFile(tmp, key) : WriteNewPrivateFile(tmp, text);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IOError("cannot replace " + path);
  }
  return Status::Ok();
}

}  // namespace civitas::wallet
