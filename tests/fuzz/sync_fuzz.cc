// libFuzzer target: a block-sync message from a peer (v1::SyncMessage): a request, or a
// response whose blocks must each carry a commit certificate of the council (fuzz_util.h's).
// Never crash; what parses re-serializes stably; a response's blocks are checked as the
// syncing node checks them (certificate, consensus header, tx ids).
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
  civitas::v1::SyncMessage msg;
  if (!msg.ParseFromArray(data, static_cast<int>(size))) return 0;
  std::string bytes = msg.SerializeAsString();
  civitas::v1::SyncMessage again;
  civitas::fuzz::Require(again.ParseFromString(bytes) && again.SerializeAsString() == bytes,
                         "sync message re-encoding");
  civitas::ValidatorSet council({civitas::fuzz::CouncilKey().public_key()});
  for (const auto& cb : msg.response().blocks()) {
    if (!civitas::VerifyCommitCertificate(cb, civitas::fuzz::kChainId, council).ok()) continue;
    auto prefix = civitas::ParseConsensusHeaderPrefix(cb.consensus_header());
    civitas::fuzz::Require(prefix.ok() && prefix->height == cb.block().header().height(),
                           "certified block at another height");
    for (const auto& tx : cb.block().txs()) {
      (void)civitas::DecodeAndCheckTx(tx, civitas::fuzz::kChainId, kParams, false);
    }
  }
  return 0;
}
