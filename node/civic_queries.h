#pragma once

// Reading the nation for the node's API (gRPC, the HTTP DID resolver and the explorer): the
// committed state at a past height, DID resolution at a height, a version or a time, and the
// treasury's movements (docs/NATION.md).
//
// Chain strings are arbitrary bytes: every JSON text made here from chain data is dumped with
// invalid UTF-8 replaced by U+FFFD, so no answer throws (nlohmann::json::dump would).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "genesis/nation_answers.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "node/http_server.h"

namespace civitas::node {

// The committed state as it was after block `height` (0: genesis), read through
// Store::GetProven: the store keeps every version, so every key is read at that one height and
// a multi-key answer is consistent even while blocks commit. `store` must outlive the reader;
// `height` must not exceed store.height(). Safe for concurrent readers.
class StateAt final : public StateReader {
 public:
  StateAt(const Store& store, uint64_t height) : store_(store), height_(height) {}
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  uint64_t height() const { return height_; }

 private:
  const Store& store_;
  uint64_t height_;
};

// The height of the latest block whose header time is at or before `time_ms`; 0 (genesis) if
// none. Block times never decrease, so this is a binary search.
Result<uint64_t> HeightAtTime(const Store& store, uint64_t time_ms);

// Which state a DID is resolved in: at most one of these is non-zero; none: the latest.
struct DidQuery {
  uint64_t at_height = 0;
  uint64_t version_id = 0;       // the height of this versionId of the DID
  uint64_t version_time_ms = 0;  // the latest block at or before this time
};

using DidAnswer = nation::DidAnswer;  // genesis/nation_answers.h

// Resolves `did` as `query` says. Resolution errors are in the answer (`error` and the result's
// didResolutionMetadata); the call fails only for a bad query (reason invalid_request: more
// than one option; out_of_range: a height above the tip) or a storage failure.
Result<DidAnswer> ResolveDidAt(const Store& store, std::string_view did, const DidQuery& query);

// GET /1.0/identifiers/{did} (DID Resolution's HTTP binding): 200 with the resolution result
// as application/ld+json;profile="https://w3id.org/did-resolution"; 400 for an invalid DID, 404
// for one not found (or an unknown version), 410 for a deactivated one (with its result), each
// with the result's didResolutionMetadata.error; 500 for a storage failure.
HttpReply ResolveDidOverHttp(const Store& store, const DidRequest& request);

// One movement of tokens into or out of the treasury, as the receipts of a block show it.
struct TreasuryMovement {
  uint64_t height = 0;
  std::string kind;          // "fees" (the block's fees, summed), "in" or "out" (a transfer)
  std::string tx_id;         // 32 bytes; empty for "fees"
  std::string counterparty;  // 20-byte address; empty for "fees"
  uint64_t amount = 0;
  uint64_t proposal_id = 0;  // an "out" paid by a governance decision (treasury.spent); else 0
};

struct TreasuryMovements {
  std::vector<TreasuryMovement> movements;  // by height, then transaction; a block's fees last
  // The last height the scan covered (`to` when from > to); below `to` when `max_blocks` cut it.
  uint64_t scanned_to = 0;
};

// The most blocks one API call scans for treasury movements (gRPC pages, the explorer refuses).
inline constexpr uint64_t kMaxTreasuryScanBlocks = 1000;

// The treasury's movements in blocks [from, min(to, from + max_blocks - 1)], read from their
// receipts (there is no index: the cost is that of reading the blocks' receipts). `from` 0 is
// read as 1, `to` above the tip as the tip, `max_blocks` 0 as 1. Fails only for a storage
// failure. Safe to call from any thread concurrently with commits.
Result<TreasuryMovements> ScanTreasuryMovements(const Store& store, uint64_t from, uint64_t to,
                                                uint64_t max_blocks);

}  // namespace civitas::node
