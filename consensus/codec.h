#pragma once

// Canonical byte encodings of consensus values (wire format and signing bytes).
// Integers are big-endian; variable-length fields carry a u32 length or count first.
// The format is specified, with test vectors, in docs/CONSENSUS.md. Every decoder rejects
// truncated input, trailing bytes, counts above the limits in consensus/types.h, non-increasing
// signer lists and unknown tags with Status::Invalid("bad_encoding", ...).

#include <string_view>

#include "consensus/replica.h"
#include "consensus/types.h"
#include "ledger/status.h"

namespace civitas::consensus {

// Message kinds, the first byte of an encoded Message.
enum class MessageKind : uint8_t {
  kProposal = 1,
  kVote = 2,
  kTimeout = 3,
  kBlockRequest = 4,
  kBlockResponse = 5,
  kQc = 6,
};

void EncodeQc(Bytes& out, const QuorumCert& qc);
void EncodeTc(Bytes& out, const TimeoutCert& tc);
// Header bytes: everything but the payload (which payload_digest covers).
Bytes BlockHeaderBytes(const Block& block);
void EncodeBlock(Bytes& out, const Block& block);

Bytes EncodeMessage(const Message& msg);
Result<Message> DecodeMessage(std::string_view data);
inline Result<Message> DecodeMessage(const Bytes& data) {
  return DecodeMessage(AsStringView(data));
}

Result<Block> DecodeBlock(std::string_view data);
Result<QuorumCert> DecodeQc(std::string_view data);
// A block from its header bytes (BlockHeaderBytes) and its payload, which must match the
// header's payload digest. This is how a node rebuilds a committed block from its ledger.
Result<Block> DecodeBlockHeader(std::string_view header, Bytes payload);

// SafetyData on disk: version u8 (1) | epoch u64 | last_voted_round u64 | preferred_round u64 |
// high_qc QC.
inline constexpr uint8_t kSafetyDataVersion = 1;
Bytes EncodeSafetyData(const SafetyData& data);
Result<SafetyData> DecodeSafetyData(std::string_view data);

// The messages signed with kVoteTag, kTimeoutTag and kProposalTag.
Bytes VoteSigningBytes(std::string_view chain_id, Epoch epoch, Round round, const Hash32& block_id);
Bytes TimeoutSigningBytes(std::string_view chain_id, Epoch epoch, Round round, Round high_qc_round);
Bytes ProposalSigningBytes(std::string_view chain_id, Epoch epoch, Round round,
                           const Hash32& block_id);

}  // namespace civitas::consensus
