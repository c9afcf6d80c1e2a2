#include "consensus/codec.h"

#include <gtest/gtest.h>

#include "tests/consensus/test_util.h"

namespace civitas::consensus {
namespace {

using testing::kChain;
using testing::MakeQc;
using testing::MakeTc;
using testing::MakeValidators;

// The test vector of docs/CONSENSUS.md ("Test vector").
TEST(CodecTest, DocumentedVoteVector) {
  ValidatorSet vs = MakeValidators(4);
  Block g = GenesisBlock(1);
  EXPECT_EQ(ToHex(g.Id()), "9dacf8c3f304e567b0bab3a0a895e4d845183e839dad1101760ca375a8f7ace1");
  EXPECT_EQ(ToHex(vs.keys[0]), "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  Bytes signing = VoteSigningBytes(kChain, 1, 7, g.Id());
  EXPECT_EQ(ToHex(signing),
            "0000000c636976697461732d746573740000000000000001000000000000000"
            "79dacf8c3f304e567b0bab3a0a895e4d845183e839dad1101760ca375a8f7ace1");
  EXPECT_EQ(ToHex(crypto::TaggedHash(kVoteTag, signing)),
            "142d4309588d31425eaa1ab81deb51b6d01e18a08fef32c7327aaa490abee3d0");
  Vote v = testing::SignVote(vs, 0, 7, g.Id());
  EXPECT_EQ(ToHex(v.sig),
            "a961460497b19098c8140d5a08b36f9e4455c43b9b95f206ef6fd4f261f5424c"
            "b3146557cfbe6235873b68ecf446f3049194db6c228586cf271b7280a42e8b47");
  EXPECT_EQ(ToHex(EncodeMessage(v)),
            "0200000000000000010000000000000007"
            "9dacf8c3f304e567b0bab3a0a895e4d845183e839dad1101760ca375a8f7ace1"
            "00000000" +
                ToHex(v.sig));
  EXPECT_TRUE(crypto::VerifyTagged(vs.keys[0], kVoteTag, AsStringView(signing), v.sig));
  EXPECT_EQ(ToHex(TimeoutSigningBytes(kChain, 1, 7, 5)),
            "0000000c636976697461732d74657374000000000000000100000000000000070000000000000005");
  // A QC message carrying a QC (round 7, the genesis id) with that vote's signature alone.
  QcMsg q{QuorumCert{1, 7, g.Id(), {SignerSig{0, v.sig}}}};
  EXPECT_EQ(ToHex(EncodeMessage(q)),
            "0600000000000000010000000000000007"
            "9dacf8c3f304e567b0bab3a0a895e4d845183e839dad1101760ca375a8f7ace1"
            "0000000100000000" +
                ToHex(v.sig));
}

std::vector<Message> Samples() {
  ValidatorSet vs = MakeValidators(4);
  Block g = GenesisBlock(1);
  QuorumCert qc = MakeQc(vs, 1, g.Id(), {0, 1, 2});
  Block b = MakeBlock(1, 3, 1, g.Id(), 3, qc, Bytes{1, 2, 3});
  TimeoutCert tc = MakeTc(vs, 2, {{0, 1}, {2, 1}, {3, 0}});
  return {
      testing::SignProposal(vs, b, tc),
      testing::SignProposal(vs, b),
      testing::SignVote(vs, 2, 3, b.Id()),
      TimeoutMsg{1, 3, qc, tc, 1, {}},
      TimeoutMsg{1, 3, qc, std::nullopt, 1, {}},
      BlockRequest{b.Id(), 10, 0},
      BlockResponse{{b, g}},
      QcMsg{qc},
  };
}

TEST(CodecTest, EveryMessageRoundTrips) {
  for (const Message& m : Samples()) {
    Bytes enc = EncodeMessage(m);
    auto dec = DecodeMessage(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, m);
    EXPECT_EQ(EncodeMessage(*dec), enc);
  }
}

TEST(CodecTest, RejectsEveryTruncationAndTrailingBytes) {
  for (const Message& m : Samples()) {
    Bytes enc = EncodeMessage(m);
    for (size_t len = 0; len < enc.size(); ++len) {
      auto dec = DecodeMessage(Bytes(enc.begin(), enc.begin() + len));
      ASSERT_FALSE(dec.ok()) << "prefix " << len;
      EXPECT_EQ(dec.status().reason(), "bad_encoding");
    }
    enc.push_back(0);
    EXPECT_FALSE(DecodeMessage(enc).ok());
  }
}

TEST(CodecTest, RejectsUnknownKindBadFlagAndOversizedCounts) {
  EXPECT_FALSE(DecodeMessage(Bytes{9}).ok());
  EXPECT_FALSE(DecodeMessage(Bytes{}).ok());
  // A QC claiming 2^32-1 signatures is refused before any allocation.
  Bytes qc;
  PutU64(qc, 1);
  PutU64(qc, 1);
  Append(qc, Hash32{});
  PutU32(qc, 0xffffffff);
  EXPECT_EQ(DecodeQc(AsStringView(qc)).status().reason(), "bad_encoding");
  // A block request asking for more than the cap.
  Bytes req{static_cast<uint8_t>(MessageKind::kBlockRequest)};
  Append(req, Hash32{});
  PutU32(req, kMaxBlocksPerResponse + 1);
  PutU64(req, 0);
  EXPECT_FALSE(DecodeMessage(req).ok());
  // Option flag other than 0/1 in a proposal's TC.
  Proposal p = std::get<Proposal>(Samples()[1]);
  Bytes enc = EncodeMessage(p);
  enc[enc.size() - 65] = 2;
  EXPECT_FALSE(DecodeMessage(enc).ok());
}

TEST(CodecTest, RejectsUnsortedOrDuplicateSigners) {
  ValidatorSet vs = MakeValidators(4);
  QuorumCert qc = MakeQc(vs, 1, GenesisBlock(1).Id(), {0, 1, 2});
  std::swap(qc.sigs[0], qc.sigs[1]);
  Bytes enc;
  EncodeQc(enc, qc);
  EXPECT_FALSE(DecodeQc(AsStringView(enc)).ok());
  qc.sigs[0] = qc.sigs[1];
  enc.clear();
  EncodeQc(enc, qc);
  EXPECT_FALSE(DecodeQc(AsStringView(enc)).ok());
}

TEST(CodecTest, ABlockIsRebuiltFromItsHeaderAndMatchingPayloadOnly) {
  ValidatorSet vs = MakeValidators(4);
  Block g = GenesisBlock(1);
  Block b = MakeBlock(1, 1, 1, g.Id(), 1, GenesisQc(1), Bytes{1, 2, 3});
  auto back = DecodeBlockHeader(AsStringView(BlockHeaderBytes(b)), b.payload);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
  EXPECT_EQ(back->Id(), b.Id());
  EXPECT_EQ(DecodeBlockHeader(AsStringView(BlockHeaderBytes(b)), Bytes{1, 2, 4}).status().reason(),
            "bad_encoding");
  Bytes header = BlockHeaderBytes(b);
  header.push_back(0);
  EXPECT_EQ(DecodeBlockHeader(AsStringView(header), b.payload).status().reason(), "bad_encoding");
}

TEST(CodecTest, SafetyDataRoundTripsAndDamageIsRefused) {
  ValidatorSet vs = MakeValidators(4);
  SafetyData d{1, 9, 7, MakeQc(vs, 7, GenesisBlock(1).Id(), {0, 1, 2})};
  Bytes enc = EncodeSafetyData(d);
  auto back = DecodeSafetyData(AsStringView(enc));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(
        DecodeSafetyData(std::string_view(reinterpret_cast<const char*>(enc.data()), cut)).ok());
  }
  Bytes bad_version = enc;
  bad_version[0] = 2;
  EXPECT_EQ(DecodeSafetyData(AsStringView(bad_version)).status().reason(), "bad_encoding");
}

TEST(CodecTest, BlockIdCoversPayloadAndQc) {
  ValidatorSet vs = MakeValidators(4);
  Block g = GenesisBlock(1);
  Block a = MakeBlock(1, 1, 1, g.Id(), 1, GenesisQc(1), Bytes{1});
  Block b = MakeBlock(1, 1, 1, g.Id(), 1, GenesisQc(1), Bytes{2});
  EXPECT_NE(a.Id(), b.Id());
  Block c = a;
  c.qc.round = 5;
  EXPECT_NE(a.Id(), c.Id());
  // Decoding recomputes the digest from the payload.
  Bytes enc;
  EncodeBlock(enc, a);
  auto dec = DecodeBlock(AsStringView(enc));
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->Id(), a.Id());
}

}  // namespace
}  // namespace civitas::consensus
