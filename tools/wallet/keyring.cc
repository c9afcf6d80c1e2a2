#include "tools/wallet/keyring.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace civitas::wallet {
namespace {

constexpr std::string_view kSuffix = ".json";
constexpr size_t kMaxName = 64;

Status BadName(std::string_view name) {
  return Status::Invalid("bad_key_name", "'" + std::string(name) +
                                             "' is not a key name: use 1 to 64 letters, digits, "
                                             "'_', '.' or '-'");
}

// Creates `dir` and its missing parents with mode 0700.
Status MakeDirs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::IOError(dir + " exists and is not a folder");
    return Status::Ok();
  }
  if (auto slash = dir.find_last_of('/'); slash != std::string::npos && slash != 0) {
    if (Status s = MakeDirs(dir.substr(0, slash)); !s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create the keyring folder " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> KeyringDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv(kKeyringEnv); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.civitas/keys";
  }
  return Status::Invalid(
      "no_keyring", "no keyring: pass --keyring DIR, set " + std::string(kKeyringEnv) + " or HOME");
}

bool IsKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Status Keyring::CheckDir() const {
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISDIR(st.st_mode)) {
    return Status::Invalid("bad_keyring", "the keyring " + dir_ + " is not a folder");
  }
  if (st.st_mode & 077) {
    return Status::Invalid("bad_keyring", "the keyring " + dir_ +
                                              " is open to group or others; run chmod 700 " + dir_);
  }
  return Status::Ok();
}

Result<std::string> Keyring::PathOf(std::string_view name) const {
  if (!IsKeyName(name)) return BadName(name);
  return dir_ + "/" + std::string(name) + std::string(kSuffix);
}

bool Keyring::Contains(std::string_view name) const {
  auto path = PathOf(name);
  struct stat st;
  return path.ok() && ::lstat(path->c_str(), &st) == 0;
}

Result<std::string> Keyring::Find(std::string_view name) const {
  auto path = PathOf(name);
  if (!path.ok()) return path.status();
  if (Status s = CheckDir(); !s.ok()) return s;
  struct stat st;
  if (::lstat(path->c_str(), &st) != 0) {
    return Status::NotFound("no key named '" + std::string(name) + "' in the keyring " + dir_);
  }
  return path;
}

Result<std::string> Keyring::PrepareNew(std::string_view name) const {
  auto path = PathOf(name);
  if (!path.ok()) return path.status();
  if (Status s = CheckDir(); !s.ok()) return s;
  struct stat st;
  if (::lstat(path->c_str(), &st) == 0) {
    return Status::Error(Status::Code::kAlreadyExists, "key_exists",
                         "the keyring " + dir_ + " already has a key named '" + std::string(name) +
                             "' (delete it first, or choose another name)");
  }
  if (Status s = MakeDirs(dir_); !s.ok()) return s;
  return path;
}

Result<std::vector<KeyringEntry>> Keyring::List() const {
  if (Status s = CheckDir(); !s.ok()) return s;
  std::vector<KeyringEntry> out;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return Status::IOError("cannot read the keyring " + dir_ + ": " + std::strerror(errno));
  }
  while (const dirent* e = ::readdir(d)) {
    std::string_view file = e->d_name;
    if (!file.ends_with(kSuffix)) continue;
    std::string_view name = file.substr(0, file.size() - kSuffix.size());
    if (!IsKeyName(name)) continue;
    KeyringEntry entry;
    entry.name = std::string(name);
    entry.path = dir_ + "/" + std::string(file);
    auto info = InspectKeyFile(entry.path);
    if (info.ok()) {
      entry.info = *info;
    } else {
      entry.error = info.status();
    }
    out.push_back(std::move(entry));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const KeyringEntry& a, const KeyringEntry& b) { return a.name < b.name; });
  return out;
}

Status Keyring::Remove(std::string_view name) const {
  auto path = Find(name);
  if (!path.ok()) return path.status();
  if (::unlink(path->c_str()) != 0) {
    return Status::IOError("cannot delete " + *path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace civitas::wallet
