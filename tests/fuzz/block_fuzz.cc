// libFuzzer target: a committed block with its certificate (v1::CommittedBlock), as block sync
// and the store read it. The council trusted is fuzz_util.h's one-validator council, so seeds
// from fuzz_seeds carry certificates that verify. Never crash; what parses re-serializes
// stably, and a block whose certificate verifies keeps verifying after a round trip through its
// serialization and its canonical bytes.
#include <google/protobuf/stubs/logging.h>

#include "ledger/block.h"
#include "ledger/tx.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
const civitas::ChainParams kParams;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civitas::fuzz::Require;
  civitas::v1::CommittedBlock cb;
  if (!cb.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)civitas::BlockId(cb.block().header());
  (void)civitas::ParseConsensusHeaderPrefix(cb.consensus_header());
  civitas::ValidatorSet council({civitas::fuzz::CouncilKey().public_key()});
  (void)civitas::VerifyQuorumCert(cb.commit_qc(), civitas::fuzz::kChainId, council);
  std::vector<civitas::Hash32> ids;
  for (const auto& tx : cb.block().txs()) {
    auto d = civitas::DecodeAndCheckTx(tx, civitas::fuzz::kChainId, kParams, false);
    if (d.ok()) ids.push_back(d->id);
  }
  (void)civitas::MerkleRoot(ids);

  std::string bytes = cb.SerializeAsString();
  civitas::v1::CommittedBlock again;
  Require(again.ParseFromString(bytes) && again.SerializeAsString() == bytes, "block re-encoding");
  std::string canonical = civitas::CanonicalBlockBytes(cb.block());
  civitas::v1::Block block;
  Require(block.ParseFromString(canonical) && civitas::CanonicalBlockBytes(block) == canonical,
          "canonical block bytes");
  if (civitas::VerifyCommitCertificate(cb, civitas::fuzz::kChainId, council).ok()) {
    Require(civitas::VerifyCommitCertificate(again, civitas::fuzz::kChainId, council).ok(),
            "certificate after round trip");
  }
  return 0;
}
