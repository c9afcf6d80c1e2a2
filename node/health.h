#pragma once

// Faults the chain absorbs but an operator must see (issue 22, docs/OPERATIONS.md, "Readiness"):
// a validator without peers, another process signing with this validator's key, a clock too far
// from the council's. Pure logic, so it is unit-tested without a network or a clock; the
// validator feeds it and /readyz and /metrics read it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/status.h"

namespace civitas::node {

// The free space a node keeps on the file system of its ledger. Below it the node stops
// (reason disk_full) before RocksDB itself runs out: a write that fails inside RocksDB leaves
// a WAL writer on which RocksDB 7.8 asserts when it is used again (docs/STORAGE.md).
inline constexpr uint64_t kMinFreeDiskBytes = 64ull << 20;

// Ok when the file system holding `path` has at least `min_free` bytes available to this
// process; else disk_full, naming the path and both figures. An error of statvfs itself is
// not a full disk: ok.
Status CheckFreeSpace(const std::string& path, uint64_t min_free = kMinFreeDiskBytes);

// The largest distance allowed between a block's time and a validator's clock: a proposal
// dated further ahead is refused (docs/CONSENSUS.md, "Payload").
inline constexpr uint64_t kMaxClockSkewMs = 10'000;

// The offset of this node's clock from its peers', estimated from the proposals it receives:
// each sample is (local wall clock when verifying) − (the block's time, its proposer's clock
// when proposing), so network delay makes it slightly positive. The estimate is the median of
// the last kSamples samples, and none before kMinSamples: one proposer with a wrong clock
// among four does not move it. Not thread-safe.
class ClockOffset {
 public:
  static constexpr size_t kSamples = 15;
  static constexpr size_t kMinSamples = 3;
  void Add(int64_t local_minus_block_ms);
  std::optional<int64_t> EstimateMs() const;

 private:
  std::vector<int64_t> ring_;
  size_t next_ = 0;
};

struct HealthInputs {
  bool validating = false;                 // a validator of the current epoch
  size_t council_size = 0;                 // validators of the current epoch
  size_t peers = 0;                        // validators connected over P2P
  uint64_t own_equivocations = 0;          // blocks of this key this node did not propose
  std::optional<int64_t> clock_offset_ms;  // ClockOffset::EstimateMs
};

// Empty when the node is ready as far as these faults go, else why it is not, one line.
std::string NotReadyReason(const HealthInputs& in);

}  // namespace civitas::node
