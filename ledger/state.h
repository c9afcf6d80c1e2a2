#pragma once

// The state's logical key layout and the overlay that execution writes into.
// Layout: docs/PROTOCOL.md, "State keys". The tree key of a logical key is SHA-256 of it.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/address.h"
#include "ledger/smt.h"
#include "ledger/status.h"

namespace civitas {

enum class KeySpace : uint8_t {
  kAccount = 0x01,     // || address(20)            -> AccountState (16 bytes)
  kCodeHash = 0x02,    // || address(20)            -> SHA-256 of the contract's code (32 bytes)
  kCode = 0x03,        // || code hash(32)          -> code bytes
  kStorage = 0x04,     // || address(20) || key     -> contract storage value
  kParam = 0x05,       // || name                   -> parameter value
  kValidators = 0x06,  // (alone)                 -> the council's validator keys (epoch.h)
};

std::string AccountKey(const Address& a);
std::string CodeHashKey(const Address& a);
std::string CodeKey(const Hash32& code_hash);
std::string StorageKey(const Address& contract, std::string_view key);

// Balance and nonce, encoded as balance u64 || nonce u64, big-endian.
struct AccountState {
  uint64_t balance = 0;
  uint64_t nonce = 0;
};
std::string EncodeAccount(const AccountState& a);
Result<AccountState> DecodeAccount(std::string_view bytes);

inline Hash32 TreeKey(std::string_view logical_key) { return crypto::Sha256(logical_key); }

// Read access to a committed state. Implementations are safe for concurrent readers.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // The value under `key`, or nullopt; an error only when storage fails.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
};

// A reader that passes reads to `base` and remembers which keys were read, in order of first
// read: what an answer was built from, to prove it. `base` must outlive it. Not thread-safe.
class RecordingReader final : public StateReader {
 public:
  explicit RecordingReader(const StateReader& base) : base_(base) {}
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  const StateReader& base_;
  mutable std::set<std::string, std::less<>> seen_;
  mutable std::vector<std::string> keys_;
};

// Ordered writes of a block: key -> new value, or nullopt for a deletion.
using StateWrites = std::map<std::string, std::optional<std::string>, std::less<>>;

// A write overlay over a StateReader with nested snapshots, so a failed transaction or contract
// call is rolled back exactly. Single-threaded.
class StateOverlay : public StateReader {
 public:
  // `base` must outlive the overlay.
  explicit StateOverlay(const StateReader& base) : base_(base) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override;
  void Set(std::string_view key, std::string value);
  void Delete(std::string_view key);

  Result<AccountState> GetAccount(const Address& a) const;
  void SetAccount(const Address& a, const AccountState& s);

  // Snapshot() returns a mark; RevertTo(mark) undoes every write made after it.
  size_t Snapshot() const { return journal_.size(); }
  void RevertTo(size_t mark);
  // Keeps every write so far for good: marks taken before are void. A block's executor calls it
  // between transactions, so the undo journal holds one transaction's writes, not a block's.
  void Settle() { journal_.clear(); }

  const StateWrites& writes() const { return writes_; }
  StateWrites TakeWrites() && { return std::move(writes_); }

 private:
  void Write(std::string_view key, std::optional<std::string> value);

  const StateReader& base_;
  StateWrites writes_;
  // Previous overlay entry of each write: nullopt = key was not in the overlay.
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>> journal_;
};

// Applies `writes` to the tree at `root`: values are hashed under their tree keys.
Result<Hash32> ApplyWrites(const smt::Tree& tree, const Hash32& root, const StateWrites& writes,
                           smt::NodeBatch* new_nodes, std::vector<Hash32>* removed = nullptr);

}  // namespace civitas
