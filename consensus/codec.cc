#include "consensus/codec.h"

#include "ledger/vote.h"

#include <algorithm>

namespace civitas::consensus {

namespace {

Status BadEncoding(std::string message) {
  return Status::PeerFault("bad_encoding", std::move(message));
}

// Reads canonical fields from a byte span; the first failure sticks.
class Reader {
 public:
  explicit Reader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), left_(data.size()) {}

  bool ok() const { return ok_; }
  bool done() const { return left_ == 0; }
  const std::string& error() const { return error_; }

  uint8_t U8() {
    if (!Need(1, "u8")) return 0;
    uint8_t v = p_[0];
    Skip(1);
    return v;
  }
  uint32_t U32() {
    if (!Need(4, "u32")) return 0;
    uint32_t v = GetU32(p_);
    Skip(4);
    return v;
  }
  uint64_t U64() {
    if (!Need(8, "u64")) return 0;
    uint64_t v = GetU64(p_);
    Skip(8);
    return v;
  }
  template <size_t N>
  std::array<uint8_t, N> Fixed() {
    std::array<uint8_t, N> out{};
    if (!Need(N, "fixed field")) return out;
    std::copy(p_, p_ + N, out.begin());
    Skip(N);
    return out;
  }
  Bytes Var(uint32_t max) {
    uint32_t len = U32();
    if (!ok_) return {};
    if (len > max) {
      Fail("length over limit");
      return {};
    }
    if (!Need(len, "variable field")) return {};
    Bytes out(p_, p_ + len);
    Skip(len);
    return out;
  }
  uint32_t Count(uint32_t max, const char* what) {
    uint32_t n = U32();
    if (ok_ && n > max) Fail(std::string(what) + " count over limit");
    return ok_ ? n : 0;
  }
  void Fail(std::string why) {
    if (ok_) error_ = std::move(why);
    ok_ = false;
  }

 private:
  bool Need(size_t n, const char* what) {
    if (!ok_) return false;
    if (left_ < n) {
      Fail(std::string("truncated ") + what);
      return false;
    }
    return true;
  }
  void Skip(size_t n) {
    p_ += n;
    left_ -= n;
  }

  const uint8_t* p_;
  size_t left_;
  bool ok_ = true;
  std::string error_;
};

void PutU8(Bytes& out, uint8_t v) { out.push_back(v); }
void PutSig(Bytes& out, const crypto::Signature& sig) { Append(out, sig); }

QuorumCert ReadQc(Reader& r) {
  QuorumCert qc;
  qc.epoch = r.U64();
  qc.round = r.U64();
  qc.block_id = r.Fixed<32>();
  uint32_t n = r.Count(kMaxValidators, "qc signature");
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    SignerSig s;
    s.signer = r.U32();
    s.sig = r.Fixed<64>();
    if (!qc.sigs.empty() && s.signer <= qc.sigs.back().signer) r.Fail("qc signers not increasing");
    qc.sigs.push_back(s);
  }
  return qc;
}

TimeoutCert ReadTc(Reader& r) {
  TimeoutCert tc;
  tc.epoch = r.U64();
  tc.round = r.U64();
  uint32_t n = r.Count(kMaxValidators, "tc signature");
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    TimeoutSig s;
    s.signer = r.U32();
    s.high_qc_round = r.U64();
    s.sig = r.Fixed<64>();
    if (!tc.sigs.empty() && s.signer <= tc.sigs.back().signer) r.Fail("tc signers not increasing");
    tc.sigs.push_back(s);
  }
  return tc;
}

std::optional<TimeoutCert> ReadOptionalTc(Reader& r) {
  uint8_t flag = r.U8();
  if (flag == 0) return std::nullopt;
  if (flag != 1) {
    r.Fail("bad option flag");
    return std::nullopt;
  }
  return ReadTc(r);
}

void PutOptionalTc(Bytes& out, const std::optional<TimeoutCert>& tc) {
  PutU8(out, tc ? 1 : 0);
  if (tc) EncodeTc(out, *tc);
}

Block ReadBlock(Reader& r) {
  Block b;
  b.epoch = r.U64();
  b.round = r.U64();
  b.height = r.U64();
  b.parent_id = r.Fixed<32>();
  b.proposer = r.U32();
  b.qc = ReadQc(r);
  b.payload = r.Var(kMaxPayloadBytes);
  b.payload_digest = crypto::Sha256(b.payload);
  return b;
}

template <typename T>
Result<T> Finish(Reader& r, T value) {
  if (r.ok() && !r.done()) r.Fail("trailing bytes");
  if (!r.ok()) return BadEncoding(r.error());
  return value;
}

}  // namespace

Round TimeoutCert::MaxHighQcRound() const {
  Round max = 0;
  for (const auto& s : sigs) max = std::max(max, s.high_qc_round);
  return max;
}

void EncodeQc(Bytes& out, const QuorumCert& qc) {
  PutU64(out, qc.epoch);
  PutU64(out, qc.round);
  Append(out, qc.block_id);
  PutU32(out, static_cast<uint32_t>(qc.sigs.size()));
  for (const auto& s : qc.sigs) {
    PutU32(out, s.signer);
    PutSig(out, s.sig);
  }
}

void EncodeTc(Bytes& out, const TimeoutCert& tc) {
  PutU64(out, tc.epoch);
  PutU64(out, tc.round);
  PutU32(out, static_cast<uint32_t>(tc.sigs.size()));
  for (const auto& s : tc.sigs) {
    PutU32(out, s.signer);
    PutU64(out, s.high_qc_round);
    PutSig(out, s.sig);
  }
}

Bytes BlockHeaderBytes(const Block& b) {
  Bytes out;
  PutU64(out, b.epoch);
  PutU64(out, b.round);
  PutU64(out, b.height);
  Append(out, b.parent_id);
  Append(out, b.payload_digest);
  PutU32(out, b.proposer);
  EncodeQc(out, b.qc);
  return out;
}

Hash32 Block::Id() const { return crypto::TaggedHash(kBlockIdTag, BlockHeaderBytes(*this)); }

Block MakeBlock(Epoch epoch, Round round, Height height, const Hash32& parent_id,
                ReplicaId proposer, QuorumCert qc, Bytes payload) {
  Block b;
  b.epoch = epoch;
  b.round = round;
  b.height = height;
  b.parent_id = parent_id;
  b.proposer = proposer;
  b.qc = std::move(qc);
  b.payload = std::move(payload);
  b.payload_digest = crypto::Sha256(b.payload);
  return b;
}

Block GenesisBlock(Epoch epoch, Height height, const Hash32& parent_id) {
  QuorumCert none;
  none.epoch = epoch;
  return MakeBlock(epoch, 0, height, parent_id, 0, none, {});
}

QuorumCert GenesisQc(Epoch epoch, Height height, const Hash32& parent_id) {
  QuorumCert qc;
  qc.epoch = epoch;
  qc.round = 0;
  qc.block_id = GenesisBlock(epoch, height, parent_id).Id();
  return qc;
}

void EncodeBlock(Bytes& out, const Block& b) {
  PutU64(out, b.epoch);
  PutU64(out, b.round);
  PutU64(out, b.height);
  Append(out, b.parent_id);
  PutU32(out, b.proposer);
  EncodeQc(out, b.qc);
  PutLengthPrefixed(out, AsStringView(b.payload));
}

Bytes EncodeMessage(const Message& msg) {
  Bytes out;
  if (const auto* p = std::get_if<Proposal>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kProposal));
    EncodeBlock(out, p->block);
    PutOptionalTc(out, p->tc);
    PutSig(out, p->sig);
  } else if (const auto* v = std::get_if<Vote>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kVote));
    PutU64(out, v->epoch);
    PutU64(out, v->round);
    Append(out, v->block_id);
    PutU32(out, v->voter);
    PutSig(out, v->sig);
  } else if (const auto* t = std::get_if<TimeoutMsg>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kTimeout));
    PutU64(out, t->epoch);
    PutU64(out, t->round);
    EncodeQc(out, t->high_qc);
    PutOptionalTc(out, t->last_tc);
    PutU32(out, t->sender);
    PutSig(out, t->sig);
  } else if (const auto* q = std::get_if<BlockRequest>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kBlockRequest));
    Append(out, q->block_id);
    PutU32(out, q->max_blocks);
    PutU64(out, q->stop_height);
  } else if (const auto* s = std::get_if<BlockResponse>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kBlockResponse));
    PutU32(out, static_cast<uint32_t>(s->blocks.size()));
    for (const auto& b : s->blocks) EncodeBlock(out, b);
  } else if (const auto* c = std::get_if<QcMsg>(&msg)) {
    PutU8(out, static_cast<uint8_t>(MessageKind::kQc));
    EncodeQc(out, c->qc);
  }
  return out;
}

Result<Message> DecodeMessage(std::string_view data) {
  if (data.size() > kMaxMessageBytes) return BadEncoding("message over size limit");
  Reader r(data);
  uint8_t kind = r.U8();
  if (!r.ok()) return BadEncoding("empty message");
  switch (static_cast<MessageKind>(kind)) {
    case MessageKind::kProposal: {
      Proposal p;
      p.block = ReadBlock(r);
      p.tc = ReadOptionalTc(r);
      p.sig = r.Fixed<64>();
      return Finish<Message>(r, std::move(p));
    }
    case MessageKind::kVote: {
      Vote v;
      v.epoch = r.U64();
      v.round = r.U64();
      v.block_id = r.Fixed<32>();
      v.voter = r.U32();
      v.sig = r.Fixed<64>();
      return Finish<Message>(r, v);
    }
    case MessageKind::kTimeout: {
      TimeoutMsg t;
      t.epoch = r.U64();
      t.round = r.U64();
      t.high_qc = ReadQc(r);
      t.last_tc = ReadOptionalTc(r);
      t.sender = r.U32();
      t.sig = r.Fixed<64>();
      return Finish<Message>(r, std::move(t));
    }
    case MessageKind::kBlockRequest: {
      BlockRequest q;
      q.block_id = r.Fixed<32>();
      q.max_blocks = r.U32();
      q.stop_height = r.U64();
      if (r.ok() && q.max_blocks > kMaxBlocksPerResponse) r.Fail("max_blocks over limit");
      return Finish<Message>(r, q);
    }
    case MessageKind::kBlockResponse: {
      BlockResponse s;
      uint32_t n = r.Count(kMaxBlocksPerResponse, "block");
      for (uint32_t i = 0; i < n && r.ok(); ++i) s.blocks.push_back(ReadBlock(r));
      return Finish<Message>(r, std::move(s));
    }
    case MessageKind::kQc:
      return Finish<Message>(r, QcMsg{ReadQc(r)});
  }
  return BadEncoding("unknown message kind");
}

Result<Block> DecodeBlock(std::string_view data) {
  Reader r(data);
  Block b = ReadBlock(r);
  return Finish(r, std::move(b));
}

Result<Block> DecodeBlockHeader(std::string_view header, Bytes payload) {
  Reader r(header);
  Block b;
  b.epoch = r.U64();
  b.round = r.U64();
  b.height = r.U64();
  b.parent_id = r.Fixed<32>();
  b.payload_digest = r.Fixed<32>();
  b.proposer = r.U32();
  b.qc = ReadQc(r);
  auto done = Finish(r, std::move(b));
  if (!done.ok()) return done;
  if (payload.size() > kMaxPayloadBytes || crypto::Sha256(payload) != done->payload_digest) {
    return BadEncoding("payload does not match the header's digest");
  }
  done->payload = std::move(payload);
  return done;
}

Bytes EncodeSafetyData(const SafetyData& d) {
  Bytes out;
  PutU8(out, kSafetyDataVersion);
  PutU64(out, d.epoch);
  PutU64(out, d.last_voted_round);
  PutU64(out, d.preferred_round);
  EncodeQc(out, d.high_qc);
  return out;
}

Result<SafetyData> DecodeSafetyData(std::string_view data) {
  Reader r(data);
  SafetyData d;
  if (r.U8() != kSafetyDataVersion && r.ok()) r.Fail("unknown safety data version");
  d.epoch = r.U64();
  d.last_voted_round = r.U64();
  d.preferred_round = r.U64();
  d.high_qc = ReadQc(r);
  return Finish(r, std::move(d));
}

Result<QuorumCert> DecodeQc(std::string_view data) {
  Reader r(data);
  QuorumCert qc = ReadQc(r);
  return Finish(r, std::move(qc));
}

namespace {
Bytes SigningPrefix(std::string_view chain_id, Epoch epoch, Round round) {
  Bytes out;
  PutLengthPrefixed(out, chain_id);
  PutU64(out, epoch);
  PutU64(out, round);
  return out;
}
}  // namespace

Bytes VoteSigningBytes(std::string_view chain_id, Epoch epoch, Round round,
                       const Hash32& block_id) {
  return VoteBytes(chain_id, epoch, round, block_id);
}

Bytes TimeoutSigningBytes(std::string_view chain_id, Epoch epoch, Round round,
                          Round high_qc_round) {
  Bytes out = SigningPrefix(chain_id, epoch, round);
  PutU64(out, high_qc_round);
  return out;
}

Bytes ProposalSigningBytes(std::string_view chain_id, Epoch epoch, Round round,
                           const Hash32& block_id) {
  Bytes out = SigningPrefix(chain_id, epoch, round);
  Append(out, block_id);
  return out;
}

}  // namespace civitas::consensus
