// libFuzzer target for every decoder that reads bytes from outside the node: transactions
// (envelope and body), blocks, consensus messages and state proofs, P2P frames, block-sync
// messages with their certificates, consensus safety data, genesis files and node configs.
// The first input byte picks the decoder. Decoders must return an error for bad input, never crash,
// and round-trip what they accept.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "consensus/codec.h"
#include "ledger/block.h"
#include "ledger/genesis.h"
#include "ledger/smt.h"
#include "ledger/tx.h"
#include "node/config.h"
#include "node/p2p/wire.h"

namespace {

const civitas::ChainParams kParams;

void FuzzTx(std::string_view data) {
  auto tx = civitas::DecodeAndCheckTx(data, "fuzz-chain", kParams, /*verify_signature=*/true);
  if (tx.ok() && civitas::TxId(tx->public_key, tx->envelope.body()) != tx->id) std::abort();
}

void FuzzBlock(std::string_view data) {
  civitas::v1::CommittedBlock cb;
  if (!cb.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;
  auto id = civitas::BlockId(cb.block().header());
  (void)id;
  civitas::ValidatorSet council({civitas::crypto::PublicKey{}});
  (void)civitas::VerifyQuorumCert(cb.commit_qc(), "fuzz-chain", council);
  std::vector<civitas::Hash32> ids;
  for (const auto& tx : cb.block().txs()) {
    auto d = civitas::DecodeAndCheckTx(tx, "fuzz-chain", kParams, false);
    if (d.ok()) ids.push_back(d->id);
  }
  (void)civitas::MerkleRoot(ids);
}

void FuzzConsensus(std::string_view data) {
  auto msg = civitas::consensus::DecodeMessage(data);
  if (!msg.ok()) return;
  // What decodes must encode back to the same bytes: one message, one encoding.
  civitas::Bytes again = civitas::consensus::EncodeMessage(*msg);
  if (std::string_view(reinterpret_cast<const char*>(again.data()), again.size()) != data)
    std::abort();
}

void FuzzProof(std::string_view data) {
  // root(32) key(32) flags(1) [leaf key(32) leaf value hash(32)] value hash(32)? siblings(32)*
  if (data.size() < 65) return;
  auto take = [&data](civitas::Hash32& h) {
    if (data.size() < 32) return false;
    std::copy(data.begin(), data.begin() + 32, h.begin());
    data.remove_prefix(32);
    return true;
  };
  civitas::Hash32 root, key;
  take(root);
  take(key);
  uint8_t flags = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  civitas::smt::Proof proof;
  proof.has_leaf = flags & 1;
  if (proof.has_leaf && !(take(proof.leaf_key) && take(proof.leaf_value_hash))) return;
  std::optional<civitas::Hash32> value;
  if (flags & 2) {
    civitas::Hash32 v;
    if (!take(v)) return;
    value = v;
  }
  civitas::Hash32 sib;
  while (proof.siblings.size() < 300 && take(sib)) proof.siblings.push_back(sib);
  (void)civitas::smt::VerifyProof(root, key, value, proof);
}

void FuzzP2p(std::string_view data) {
  auto msg =
      civitas::p2p::DecodeMessage(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (!msg.ok()) return;
  if (const auto* hello = std::get_if<civitas::p2p::Hello>(&*msg)) {
    civitas::Bytes again = civitas::p2p::EncodeHello(*hello);
    if (std::string_view(reinterpret_cast<const char*>(again.data()), again.size()) != data)
      std::abort();
  }
}

void FuzzSync(std::string_view data) {
  civitas::v1::SyncMessage msg;
  if (!msg.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;
  civitas::ValidatorSet council({civitas::crypto::PublicKey{}});
  for (const auto& cb : msg.response().blocks()) {
    (void)civitas::VerifyCommitCertificate(cb, "fuzz-chain", council);
    (void)civitas::ParseConsensusHeaderPrefix(cb.consensus_header());
  }
}

void FuzzConsensusRecords(std::string_view data) {
  auto safety = civitas::consensus::DecodeSafetyData(data);
  if (safety.ok()) {
    civitas::Bytes again = civitas::consensus::EncodeSafetyData(*safety);
    if (std::string_view(reinterpret_cast<const char*>(again.data()), again.size()) != data)
      std::abort();
  }
  if (data.size() > 4) {
    std::string_view header = data.substr(4);
    civitas::Bytes payload(data.begin(), data.begin() + 4);
    (void)civitas::consensus::DecodeBlockHeader(header, payload);
  }
}

void FuzzGenesis(std::string_view data) {
  auto g = civitas::ParseGenesis(data);
  if (!g.ok()) return;
  // What parses must reproduce itself: same canonical text, same hash.
  auto again = civitas::ParseGenesis(civitas::GenesisToJson(*g));
  if (!again.ok() || again->hash != g->hash) std::abort();
}

void FuzzConfig(std::string_view data) {
  auto c = civitas::node::ParseConfig(data, "/nonexistent", "fuzz.toml");
  if (!c.ok()) return;
  // The commented file a node writes must load back to the same values.
  auto again = civitas::node::ParseConfig(civitas::node::ConfigToToml(*c), "/nonexistent", "x");
  if (!again.ok() || civitas::node::ConfigToToml(*again) != civitas::node::ConfigToToml(*c))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every malformed string field; the fuzzer feeds millions of them.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      FuzzTx(rest);
      break;
    case 1:
      FuzzBlock(rest);
      break;
    case 2:
      FuzzConsensus(rest);
      break;
    case 3:
      FuzzProof(rest);
      break;
    case 4:
      FuzzP2p(rest);
      break;
    case 5:
      FuzzSync(rest);
      break;
    case 6:
      FuzzConsensusRecords(rest);
      break;
    case 7:
      FuzzGenesis(rest);
      break;
    case 8:
      FuzzConfig(rest);
      break;
  }
  return 0;
}
