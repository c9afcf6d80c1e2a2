#pragma once

// Test helper: certifies a prepared block the way the council does, with a consensus block
// whose payload is the ledger block and a QC of `signers` on it (docs/PROTOCOL.md,
// "Certificates").

#include <string>
#include <vector>

#include "consensus/codec.h"
#include "ledger/chain.h"

namespace civitas::testing {

struct Certificate {
  v1::QuorumCert qc;
  std::string consensus_header;
};

inline Certificate Certify(const PreparedBlock& p, std::string_view chain_id,
                           const std::vector<crypto::SecretKey>& signers) {
  const auto& h = p.block.header();
  std::string payload = CanonicalBlockBytes(p.block);
  consensus::QuorumCert parent_qc;
  consensus::Block b = consensus::MakeBlock(h.epoch(), h.round(), h.height(), Hash32{}, 0,
                                            parent_qc, Bytes(payload.begin(), payload.end()));
  Certificate c;
  Bytes header = consensus::BlockHeaderBytes(b);
  c.consensus_header.assign(header.begin(), header.end());
  c.qc.set_epoch(h.epoch());
  c.qc.set_round(h.round());
  c.qc.set_block_id(std::string(AsStringView(b.Id())));
  for (const auto& key : signers) AddVote(c.qc, chain_id, key);
  return c;
}

}  // namespace civitas::testing
