#include "ledger/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace civitas {

Status WriteNewPrivateFile(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return Status::IOError("cannot create key file " + path + " (does it exist already?)");
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IOError("cannot write key file " + path);
  }
  return Status::Ok();
}

Status WriteKeyFile(const std::string& path, const crypto::SecretKey& key) {
  nlohmann::json j{{"type", "bip340-secp256k1"},
                   {"public_key", ToHex(key.public_key())},
                   {"secret_key", ToHex(key.bytes())}};
  return WriteNewPrivateFile(path, j.dump(2) + "\n");
}

Result<crypto::SecretKey> ReadKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("no key file at " + path);
  if (st.st_mode & 077) {
    return Status::Invalid("bad_key_file", path + " is readable by others; run chmod 600 " + path);
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("secret_key") ||
      !j["secret_key"].is_string()) {
    return Status::Invalid("bad_key_file", path + " is not a Civitas key file");
  }
  auto secret = FixedFromHex<32>(j["secret_key"].get<std::string>());
  if (!secret) return Status::Invalid("bad_key_file", path + ": secret_key must be 64 hex digits");
  auto key = crypto::SecretKey::FromBytes(*secret);
  if (!key.ok()) return Status::Invalid("bad_key_file", path + ": " + key.status().message());
  if (j.contains("public_key") && j["public_key"] != ToHex(key->public_key())) {
    return Status::Invalid("bad_key_file", path + ": public_key does not match secret_key");
  }
  return key;
}

}  // namespace civitas
