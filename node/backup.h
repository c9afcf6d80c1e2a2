#pragma once

// Online backup and restore of a node's ledger (docs/OPERATIONS.md, "Backup and restore";
// docs/STORAGE.md, "Backups"). A running node holds its RocksDB ledger exclusively, so
// `civitasd backup` asks it, over its admin socket (AdminSocketPath: an abstract Unix socket,
// so no file is left behind by a crash; only the node's user and root are served), to write a
// RocksDB checkpoint; a stopped node's ledger is
// checkpointed by the command itself. A backup is a folder: `ledger/` (the checkpoint) and
// `manifest.json` (chain, height, certified state root, every file's size and SHA-256).

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "ledger/genesis.h"
#include "ledger/status.h"
#include "node/config.h"

namespace civitas::node {

// What a verified copy of a ledger holds.
struct LedgerCopyInfo {
  uint64_t height = 0;        // newest block
  uint64_t state_height = 0;  // the height whose state root that block certifies
  Hash32 state_root{};        // that root, equal to the one the copy computes
};

// Checks the ledger copy at `path`: it opens read-only as a ledger of `genesis` (reasons
// foreign_data_dir, corruption), every block of every table file has its checksum, and the
// state root its newest block certifies equals the root the copy holds for that height.
// Reason bad_backup when the roots differ.
Result<LedgerCopyInfo> VerifyLedgerCopy(const std::string& path, const Genesis& genesis);

// `civitasd backup`: writes a verified backup of HOME's ledger into `out`, which must not
// exist. Through the running node when its admin socket answers, else directly (the node
// stopped). Returns the manifest's JSON text.
Result<std::string> BackupHome(const std::string& home, const std::string& out);

// `civitasd restore`: checks the backup at `from` (every file against the manifest, then the
// ledger as VerifyLedgerCopy does), and installs its ledger as HOME/data, which must not exist
// (reason exists). Refuses (reason unsafe_validator_restore) when HOME's validator key is a
// council member in any epoch the backup holds: its safety data would be older than its last
// vote (docs/STORAGE.md, "Backups"). Returns the manifest's JSON text.
Result<std::string> RestoreHome(const std::string& from, const std::string& home);

// The name of the admin socket of the home `config.home`, in Linux's abstract namespace:
// "civitas-admin-" and the first 32 hex digits of the SHA-256 of the home's canonical path.
std::string AdminSocketPath(const Config& config);

// The node's admin socket: one connection at a time, from a process of the node's user or root
// (SO_PEERCRED; others get "error forbidden: ..."), one request line of at most 4 KiB read
// within 5 s, one answer line. `handle` gets the line without its newline and returns the
// answer without its newline. Runs its own thread between Start and Stop.
class AdminServer {
 public:
  explicit AdminServer(std::function<std::string(const std::string&)> handle);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds the abstract socket `name` (AdminSocketPath); fails if another process holds it.
  Status Start(const std::string& name);
  void Stop();

 private:
  void Run();
  std::function<std::string(const std::string&)> handle_;
  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace civitas::node
