#pragma once

// The values the consensus protocol exchanges: blocks, certificates and messages.
// Their canonical byte encodings live in consensus/codec.h and are specified in
// docs/CONSENSUS.md. Plain values: copyable, no invariants beyond what the decoder and the
// verifiers in consensus/verify.h check.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "ledger/vote.h"

namespace civitas::consensus {

using Round = uint64_t;
using Epoch = uint64_t;
using Height = uint64_t;
// Index of a validator in the epoch's ordered validator set.
using ReplicaId = uint32_t;

// Signature tags (BIP-340 tagged hashes) and the block id tag. Votes use the ledger's definition
// (ledger/vote.h), so stored certificates and the protocol sign the same bytes.
using civitas::kVoteTag;
inline constexpr char kTimeoutTag[] = "civitas/timeout/v1";
inline constexpr char kProposalTag[] = "civitas/proposal/v1";
inline constexpr std::string_view kBlockIdTag = civitas::kConsensusBlockTag;

// Hard bounds every decoded input meets.
inline constexpr uint32_t kMaxValidators = 1024;
inline constexpr uint32_t kMaxPayloadBytes = 4 << 20;
inline constexpr uint32_t kMaxBlocksPerResponse = 64;
inline constexpr uint32_t kMaxMessageBytes = 8 << 20;

struct SignerSig {
  ReplicaId signer = 0;
  crypto::Signature sig{};
  bool operator==(const SignerSig&) const = default;
};

// 2f+1 votes on (chain id, epoch, round, block id). Signers strictly increasing.
// The genesis QC (round 0, no signatures) certifies the genesis block by definition.
struct QuorumCert {
  Epoch epoch = 0;
  Round round = 0;
  Hash32 block_id{};
  std::vector<SignerSig> sigs;
  bool operator==(const QuorumCert&) const = default;
};

struct TimeoutSig {
  ReplicaId signer = 0;
  Round high_qc_round = 0;
  crypto::Signature sig{};
  bool operator==(const TimeoutSig&) const = default;
};

// 2f+1 timeouts for one round; each signer signed (chain id, epoch, round, its high QC round).
struct TimeoutCert {
  Epoch epoch = 0;
  Round round = 0;
  std::vector<TimeoutSig> sigs;  // signers strictly increasing
  Round MaxHighQcRound() const;
  bool operator==(const TimeoutCert&) const = default;
};

// A block as consensus sees it. `payload` is opaque here: the node puts transactions and the
// certified state root of an executed height in it, and checks it through App::VerifyPayload.
struct Block {
  Epoch epoch = 0;
  Round round = 0;
  Height height = 0;
  Hash32 parent_id{};
  Hash32 payload_digest{};  // SHA-256 of payload; kept equal by MakeBlock and the decoder
  ReplicaId proposer = 0;
  QuorumCert qc;  // certifies parent_id
  Bytes payload;

  // TaggedHash(kBlockIdTag, header bytes); covers the payload through payload_digest.
  Hash32 Id() const;
  bool operator==(const Block&) const = default;
};

// Fills in payload_digest.
Block MakeBlock(Epoch epoch, Round round, Height height, const Hash32& parent_id,
                ReplicaId proposer, QuorumCert qc, Bytes payload);

// The genesis block of an epoch: round 0, no payload, at `height` with parent `parent_id` (the
// last block of the previous epoch; 0 and zeros for the first epoch).
Block GenesisBlock(Epoch epoch, Height height = 0, const Hash32& parent_id = {});
// The QC that certifies GenesisBlock(epoch, height, parent_id).
QuorumCert GenesisQc(Epoch epoch, Height height = 0, const Hash32& parent_id = {});

struct Proposal {
  Block block;
  std::optional<TimeoutCert> tc;  // present when block.qc.round + 1 != block.round
  crypto::Signature sig{};        // proposer's, over ProposalSigningBytes
  bool operator==(const Proposal&) const = default;
};

struct Vote {
  Epoch epoch = 0;
  Round round = 0;
  Hash32 block_id{};
  ReplicaId voter = 0;
  crypto::Signature sig{};
  bool operator==(const Vote&) const = default;
};

struct TimeoutMsg {
  Epoch epoch = 0;
  Round round = 0;
  QuorumCert high_qc;
  std::optional<TimeoutCert> last_tc;  // TC for round - 1, lets laggards enter `round`
  ReplicaId sender = 0;
  crypto::Signature sig{};
  bool operator==(const TimeoutMsg&) const = default;
};

// Block retrieval: the block `block_id` and its ancestors, newest first, at most `max_blocks`,
// stopping above `stop_height` (the requester's committed height).
struct BlockRequest {
  Hash32 block_id{};
  uint32_t max_blocks = 0;
  Height stop_height = 0;
  bool operator==(const BlockRequest&) const = default;
};

struct BlockResponse {
  std::vector<Block> blocks;  // newest first, each the parent of the previous one
  bool operator==(const BlockResponse&) const = default;
};

// A QC announced by the leader of the round after it, which formed it and has nothing to
// propose yet: the others enter that round and commit what the QC commits without waiting for
// a block to carry it. The QC authenticates itself; the message has no signature of its own.
struct QcMsg {
  QuorumCert qc;
  bool operator==(const QcMsg&) const = default;
};

using Message = std::variant<Proposal, Vote, TimeoutMsg, BlockRequest, BlockResponse, QcMsg>;

}  // namespace civitas::consensus
