#include "node/backup.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ledger/block.h"
#include "ledger/crypto.h"
#include "ledger/keyfile.h"
#include "ledger/store.h"
#include "node/home.h"

namespace civitas::node {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxAdminLine = 4096;
constexpr int kAdminReadMs = 5'000;
// A checkpoint flushes the memtables and links (or copies) every table file.
constexpr int kBackupAnswerMs = 600'000;
constexpr char kManifest[] = "manifest.json";
constexpr char kLedger[] = "ledger";
constexpr char kManifestFormat[] = "civitas-backup-1";

Status BadBackup(const std::string& msg) { return Status::Invalid("bad_backup", msg); }

// SHA-256 and size of a file, read in 1 MiB pieces.
Result<std::pair<std::string, uint64_t>> HashFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + p.string());
  crypto::Sha256Hasher h;
  std::string buf(1 << 20, '\0');
  uint64_t size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    h.Update(std::string_view(buf.data(), n));
    size += n;
  }
  if (in.bad()) return Status::IOError("cannot read " + p.string());
  return std::pair{ToHex(h.Finish()), size};
}

// The ledger folder's regular files, by name, with size and SHA-256.
Result<nlohmann::json> FileList(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) return BadBackup(e.path().string() + " is not a regular file");
    names.push_back(e.path().filename().string());
  }
  if (ec) return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  nlohmann::json files = nlohmann::json::array();
  for (const auto& n : names) {
    auto h = HashFile(dir / n);
    if (!h.ok()) return h.status();
    files.push_back({{"name", n}, {"size", h->second}, {"sha256", h->first}});
  }
  return files;
}

Result<nlohmann::json> ReadManifest(const fs::path& from) {
  std::ifstream in(from / kManifest);
  if (!in) return BadBackup("no " + (from / kManifest).string() + ": not a civitasd backup");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kManifestFormat ||
      !j.contains("files") || !j["files"].is_array() || !j.contains("height") ||
      !j["height"].is_number_unsigned() || !j.contains("state_root") ||
      !j["state_root"].is_string()) {
    return BadBackup((from / kManifest).string() + " is not a " + kManifestFormat + " manifest");
  }
  return j;
}

// The abstract socket address of `name` (a leading NUL, then the name; no file).
socklen_t AbstractAddress(const std::string& name, sockaddr_un* addr) {
  *addr = sockaddr_un{};
  addr->sun_family = AF_UNIX;
  const size_t n = std::min(name.size(), sizeof(addr->sun_path) - 1);
  std::memcpy(addr->sun_path + 1, name.data(), n);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

// Sends `line` to the admin socket `name`; the answer line, or nullopt when no node listens.
Result<std::optional<std::string>> AdminCall(const std::string& name, const std::string& line) {
  sockaddr_un addr;
  const socklen_t len = AbstractAddress(name, &addr);
  const std::string path = "@" + name;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == ENOENT || err == ECONNREFUSED) return std::optional<std::string>();
    return Status::IOError("cannot reach the node's admin socket " + path + ": " +
                           std::strerror(err));
  }
  const std::string req = line + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return Status::IOError("cannot write to the admin socket " + path);
  }
  std::string answer;
  char buf[512];
  while (answer.find('\n') == std::string::npos && answer.size() < kMaxAdminLine) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kBackupAnswerMs) != 1) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const auto nl = answer.find('\n');
  if (nl == std::string::npos) return Status::IOError("no answer from the node's admin socket");
  return std::optional<std::string>(answer.substr(0, nl));
}

}  // namespace

std::string AdminSocketPath(const Config& config) {
  std::error_code ec;
  fs::path home = fs::weakly_canonical(fs::absolute(config.home, ec), ec);
  if (ec) home = config.home;
  return "civitas-admin-" + ToHex(crypto::Sha256(home.string())).substr(0, 32);
}

Result<LedgerCopyInfo> VerifyLedgerCopy(const std::string& path, const Genesis& genesis) {
  if (!fs::is_directory(path)) return BadBackup(path + " is not a ledger folder");
  auto store = Store::Open(path, genesis, Store::Mode::kReadOnly);
  if (!store.ok()) return store.status();
  Status s = (*store)->VerifyChecksums();
  if (!s.ok()) return s;
  LedgerCopyInfo info;
  info.height = (*store)->height();
  if (info.height == 0) {
    auto root = (*store)->StateRoot(0);
    if (!root.ok()) return root.status();
    info.state_root = *root;
    return info;
  }
  auto block = (*store)->GetBlock(info.height);
  if (!block.ok()) return block.status();
  const auto& h = block->block().header();
  info.state_height = h.state_height();
  auto root = (*store)->StateRoot(info.state_height);
  if (!root.ok()) return root.status();
  if (ToBytes(h.state_root()) != Bytes(root->begin(), root->end())) {
    return BadBackup("the state root of height " + std::to_string(info.state_height) + " in " +
                     path + " is " + ToHex(*root) + ", but block " + std::to_string(info.height) +
                     " certifies " + ToHex(ToBytes(h.state_root())));
  }
  info.state_root = *root;
  return info;
}

Result<std::string> BackupHome(const std::string& home, const std::string& out) {
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return loaded.status();
  std::error_code ec;
  const fs::path dir = fs::absolute(out, ec);
  if (ec || out.empty()) return Status::Invalid("bad_flags", "--out '" + out + "' is not a path");
  if (fs::exists(dir, ec)) {
    return Status::Error(Status::Code::kAlreadyExists, "exists",
                         dir.string() + " exists; a backup goes into a new folder");
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir.string() + ": " + ec.message());
  const std::string ledger = (dir / kLedger).string();
  auto answer = AdminCall(AdminSocketPath(loaded->config), "backup " + ledger);
  if (!answer.ok()) return answer.status();
  bool online = false;
  if (answer->has_value()) {
    online = true;
    if (**answer != "ok") {
      return Status::IOError("the node refused the backup: " + (*answer)->substr(0, 512));
    }
  } else {
    // No node answers: checkpoint the ledger here. A read-write open takes the ledger's lock,
    // so a node that is starting meanwhile is refused, not corrupted.
    auto store = Store::Open(loaded->config.DataPath(), loaded->genesis, Store::Mode::kReadWrite,
                             StoreOptions{loaded->config.state_history});
    if (!store.ok()) return store.status();
    Status s = (*store)->Checkpoint(ledger);
    if (!s.ok()) return s;
  }
  auto info = VerifyLedgerCopy(ledger, loaded->genesis);
  if (!info.ok()) return info.status();
  auto files = FileList(ledger);
  if (!files.ok()) return files.status();
  nlohmann::json m{{"format", kManifestFormat},
                   {"chain_id", loaded->genesis.chain_id},
                   {"height", info->height},
                   {"state_height", info->state_height},
                   {"state_root", ToHex(info->state_root)},
                   {"online", online},
                   {"files", *files}};
  const std::string text = m.dump(2) + "\n";
  std::ofstream f(dir / kManifest, std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Status::IOError("cannot write " + (dir / kManifest).string());
  return text;
}

Result<std::string> RestoreHome(const std::string& from, const std::string& home) {
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return loaded.status();
  const fs::path src(from);
  auto manifest = ReadManifest(src);
  if (!manifest.ok()) return manifest.status();
  if (manifest->value("chain_id", "") != loaded->genesis.chain_id) {
    return Status::Invalid("foreign_data_dir", "the backup at " + from + " is of chain '" +
                                                   manifest->value("chain_id", "") + "', " + home +
                                                   " of '" + loaded->genesis.chain_id + "'");
  }
  const std::string data = loaded->config.DataPath();
  std::error_code ec;
  if (fs::exists(data, ec)) {
    return Status::Error(
        Status::Code::kAlreadyExists, "exists",
        data + " exists: move it away first (a restore never overwrites a ledger)");
  }
  // Every file as the manifest lists it, and nothing else.
  auto files = FileList(src / kLedger);
  if (!files.ok()) return files.status();
  if (*files != (*manifest)["files"]) {
    return BadBackup("the files of " + (src / kLedger).string() +
                     " differ from its manifest (a file changed, missing or added)");
  }
  auto info = VerifyLedgerCopy((src / kLedger).string(), loaded->genesis);
  if (!info.ok()) return info.status();
  if (info->height != (*manifest)["height"].get<uint64_t>() ||
      ToHex(info->state_root) != (*manifest)["state_root"].get<std::string>()) {
    return BadBackup("the ledger of " + from + " is not at the height and state root its " +
                     "manifest names");
  }
  // A validator's safety data in the backup is older than its last vote.
  auto key = ReadKeyFile(loaded->config.ValidatorKeyPath());
  if (!key.ok()) return key.status();
  {
    auto copy = Store::Open((src / kLedger).string(), loaded->genesis, Store::Mode::kReadOnly);
    if (!copy.ok()) return copy.status();
    for (const auto& epoch : (*copy)->Epochs()) {
      if (epoch.validators.Contains(key->public_key())) {
        return Status::Error(
            Status::Code::kFailedPrecondition, "unsafe_validator_restore",
            "the validator key of " + home + " is in the council of epoch " +
                std::to_string(epoch.number) +
                " of this backup: restored, its safety data would be older than its last vote "
                "and it could sign twice (docs/STORAGE.md, \"Backups\"). Let it sync from its "
                "peers instead, or restore into the home of a node that is not a validator");
      }
    }
  }
  const fs::path staging = data + ".restoring";
  fs::remove_all(staging, ec);
  fs::copy(src / kLedger, staging, fs::copy_options::recursive, ec);
  if (ec)
    return Status::IOError("cannot copy the backup into " + staging.string() + ": " + ec.message());
  // The copy is checked again where it lies before it becomes the ledger; a failed one is
  // removed.
  Status installed = [&]() -> Status {
    auto again = FileList(staging);
    if (!again.ok()) return again.status();
    if (*again != (*manifest)["files"]) {
      return Status::IOError("the copy in " + staging.string() + " differs from the backup");
    }
    auto check = VerifyLedgerCopy(staging.string(), loaded->genesis);
    if (!check.ok()) return check.status();
    fs::rename(staging, data, ec);
    if (ec) return Status::IOError("cannot rename " + staging.string() + ": " + ec.message());
    return Status::Ok();
  }();
  if (!installed.ok()) {
    fs::remove_all(staging, ec);
    return installed;
  }
  return manifest->dump(2) + "\n";
}

AdminServer::AdminServer(std::function<std::string(const std::string&)> handle)
    : handle_(std::move(handle)) {}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start(const std::string& name) {
  sockaddr_un addr;
  const socklen_t len = AbstractAddress(name, &addr);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 4) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    const std::string err = std::strerror(errno);
    Stop();
    return Status::IOError("cannot listen on the admin socket @" + name + ": " + err);
  }
  path_ = name;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void AdminServer::Stop() {
  if (thread_.joinable()) {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  path_.clear();
}

void AdminServer::Run() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // An abstract socket has no file permissions: only this process's user and root may ask.
    ucred peer{};
    socklen_t peer_len = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 ||
        (peer.uid != ::geteuid() && peer.uid != 0)) {
      const std::string refused = "error forbidden: only the node's user may use this socket\n";
      (void)::send(fd, refused.data(), refused.size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    std::string line;
    char buf[512];
    bool complete = false;
    while (!complete && line.size() <= kMaxAdminLine) {
      pollfd c[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(c, 2, kAdminReadMs) != 1 || c[1].revents) break;
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
      complete = line.find('\n') != std::string::npos;
    }
    std::string answer;
    if (!complete || line.find('\n') > kMaxAdminLine) {
      answer = "error bad_request: one line of at most 4096 bytes within 5 s";
    } else {
      answer = handle_(line.substr(0, line.find('\n')));
    }
    answer += "\n";
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
}

}  // namespace civitas::node
