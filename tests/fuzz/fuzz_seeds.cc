// Writes the seed corpora of the libFuzzer targets: a handful of valid inputs per target, made
// with the same encoders, keys and council as the node's (fuzz_util.h), so each fuzzer starts
// past the checks a random input never passes (signatures, certificates, digests).
//   fuzz_seeds SOURCE_DIR    writes SOURCE_DIR/tests/fuzz/corpus/<target>/<name>
// Run it again after a format changes and commit the difference. Keys are fixed but BIP-340
// signatures take fresh randomness (SignTx, AddVote), so signed seeds change on every run.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "consensus/codec.h"
#include "consensus/replica.h"
#include "ledger/block.h"
#include "ledger/keyfile.h"
#include "ledger/smt.h"
#include "ledger/tx.h"
#include "node/config.h"
#include "node/p2p/wire.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/proof_input.h"
#include "tests/vm/program_generator.h"
#include "tools/asm/assembler.h"
#include "tools/wallet/keystore.h"

namespace civitas::fuzz {
namespace {

namespace fs = std::filesystem;

fs::path source_root;
int failures = 0;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::path dir = source_root / "tests/fuzz/corpus" / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), bytes.size());
}
void Write(const std::string& target, const std::string& name, const Bytes& bytes) {
  Write(target, name, AsStringView(bytes));
}
void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "seed not valid: " << what << "\n";
    ++failures;
  }
}
std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const ChainParams kParams;

v1::Transaction Transfer(const crypto::SecretKey& key, uint64_t nonce, uint64_t amount) {
  v1::TxBody body;
  body.set_chain_id(std::string(kChainId));
  body.set_nonce(nonce);
  body.set_gas_limit(50'000);
  body.mutable_transfer()->set_to(std::string(20, '\x42'));
  body.mutable_transfer()->set_amount(amount);
  return SignTx(key, body);
}

v1::Transaction Call(const crypto::SecretKey& key) {
  v1::TxBody body;
  body.set_chain_id(std::string(kChainId));
  body.set_nonce(7);
  body.set_gas_limit(200'000);
  body.mutable_call()->set_contract(std::string(20, '\x07'));
  body.mutable_call()->set_function("transfer");
  return SignTx(key, body);
}

// A block at `height` with `txs`, certified by the council as consensus commits it.
v1::CommittedBlock Committed(uint64_t height, const Hash32& parent,
                             const std::vector<v1::Transaction>& txs) {
  v1::CommittedBlock cb;
  v1::Block* block = cb.mutable_block();
  v1::BlockHeader* h = block->mutable_header();
  h->set_chain_id(std::string(kChainId));
  h->set_height(height);
  h->set_parent_id(std::string(parent.begin(), parent.end()));
  std::vector<Hash32> ids;
  for (const auto& tx : txs) {
    *block->add_txs() = tx;
    auto d = DecodeAndCheckTx(tx, kChainId, kParams, true);
    Check(d.ok(), "tx in block");
    if (d.ok()) ids.push_back(d->id);
  }
  Hash32 tx_root = MerkleRoot(ids);
  h->set_tx_root(std::string(tx_root.begin(), tx_root.end()));
  h->set_state_height(height - 1);
  h->set_state_root(std::string(32, '\x05'));
  auto pk = CouncilKey().public_key();
  h->set_proposer(std::string(pk.begin(), pk.end()));
  h->set_time_ms(1'700'000'000'000 + height);
  h->set_tx_count(static_cast<uint32_t>(txs.size()));
  h->set_epoch(1);
  h->set_round(height + 2);
  std::string canonical = CanonicalBlockBytes(*block);
  consensus::Block cblock =
      consensus::MakeBlock(1, height + 2, height, parent, 0, consensus::GenesisQc(1),
                           Bytes(canonical.begin(), canonical.end()));
  Bytes header = consensus::BlockHeaderBytes(cblock);
  cb.set_consensus_header(std::string(header.begin(), header.end()));
  v1::QuorumCert* qc = cb.mutable_commit_qc();
  qc->set_epoch(1);
  qc->set_round(height + 2);
  Hash32 id = cblock.Id();
  qc->set_block_id(std::string(id.begin(), id.end()));
  AddVote(*qc, kChainId, CouncilKey());
  Check(VerifyCommitCertificate(cb, kChainId, ValidatorSet({CouncilKey().public_key()})).ok(),
        "commit certificate");
  return cb;
}

void Transactions() {
  auto key = FixedKey(0x44);
  Write("tx_fuzz", "transfer", Transfer(key, 0, 1000).SerializeAsString());
  Write("tx_fuzz", "transfer_nonce_9", Transfer(key, 9, 1).SerializeAsString());
  Write("tx_fuzz", "call", Call(key).SerializeAsString());
  for (const auto& tx : {Transfer(key, 0, 1000), Call(key)}) {
    Check(DecodeAndCheckTx(tx.SerializeAsString(), kChainId, kParams).ok(), "tx");
  }
}

void Blocks() {
  auto key = FixedKey(0x44);
  auto empty = Committed(1, Hash32{}, {});
  auto full = Committed(2, Hash32{}, {Transfer(key, 0, 5), Transfer(key, 1, 6), Call(key)});
  Write("block_fuzz", "empty", empty.SerializeAsString());
  Write("block_fuzz", "three_txs", full.SerializeAsString());

  v1::SyncMessage request;
  request.mutable_request()->set_from_height(1);
  request.mutable_request()->set_max_blocks(16);
  Write("sync_fuzz", "request", request.SerializeAsString());
  v1::SyncMessage response;
  *response.mutable_response()->add_blocks() = empty;
  *response.mutable_response()->add_blocks() = full;
  response.mutable_response()->set_tip_height(2);
  Write("sync_fuzz", "response", response.SerializeAsString());
}

consensus::QuorumCert SignedQc(const consensus::Block& b) {
  consensus::QuorumCert qc{b.epoch, b.round, b.Id(), {}};
  qc.sigs.push_back({0, CouncilKey().Sign(crypto::TaggedHash(consensus::kVoteTag, "qc"))});
  return qc;
}

void Consensus() {
  using namespace consensus;
  Block b1 = MakeBlock(1, 1, 1, GenesisBlock(1).Id(), 0, GenesisQc(1), Bytes{1, 2, 3});
  Block b2 = MakeBlock(1, 3, 2, b1.Id(), 1, SignedQc(b1), Bytes(100, 7));
  crypto::Signature sig = CouncilKey().Sign(crypto::TaggedHash(kProposalTag, "p"));
  TimeoutCert tc{1, 2, {{0, 1, sig}, {2, 1, sig}}};
  std::vector<std::pair<std::string, Message>> msgs = {
      {"proposal", Proposal{b1, std::nullopt, sig}},
      {"proposal_tc", Proposal{b2, tc, sig}},
      {"vote", Vote{1, 1, b1.Id(), 2, sig}},
      {"timeout", TimeoutMsg{1, 3, SignedQc(b1), tc, 1, sig}},
      {"block_request", BlockRequest{b2.Id(), 8, 0}},
      {"block_response", BlockResponse{{b2, b1}}},
      {"qc", QcMsg{SignedQc(b2)}},
  };
  for (const auto& [name, msg] : msgs) {
    Bytes bytes = EncodeMessage(msg);
    Check(DecodeMessage(bytes).ok(), "consensus " + name);
    Write("consensus_msg_fuzz", name, bytes);
  }

  // consensus_records_fuzz: selector byte 0 then safety data; 1 then a stored block.
  SafetyData fresh{1, 0, 0, GenesisQc(1)};
  SafetyData voted{1, 3, 1, SignedQc(b1)};
  for (const auto& [name, s] :
       {std::pair{"safety_fresh", fresh}, std::pair{"safety_voted", voted}}) {
    Bytes bytes{0};
    Append(bytes, EncodeSafetyData(s));
    Check(DecodeSafetyData(AsStringView(bytes).substr(1)).ok(), name);
    Write("consensus_records_fuzz", name, bytes);
  }
  for (const auto& [name, b] : {std::pair{"block_small", b1}, std::pair{"block_qc", b2}}) {
    Bytes header = BlockHeaderBytes(b);
    Bytes bytes{1};
    PutU32(bytes, static_cast<uint32_t>(header.size()));
    Append(bytes, header);
    Append(bytes, b.payload);
    Check(DecodeBlockHeader(AsStringView(header), b.payload).ok(), name);
    Write("consensus_records_fuzz", name, bytes);
  }
}

void P2p() {
  namespace p2p = civitas::p2p;
  p2p::Hello hello{p2p::kProtocolVersion, std::string(kChainId), CouncilKey().public_key()};
  p2p::Auth auth{p2p::SignAuth(CouncilKey(), kChainId, LocalKey().public_key(),
                               SessionBindingBytes(), &CouncilKey().bytes())};
  Check(p2p::VerifyAuth(hello.key, kChainId, LocalKey().public_key(), SessionBindingBytes(),
                        auth.signature),
        "p2p auth");
  Bytes handshake = p2p::Frame(p2p::EncodeHello(hello));
  Append(handshake, p2p::Frame(p2p::EncodeAuth(auth)));
  Write("p2p_fuzz", "handshake", handshake);
  Bytes session = handshake;
  Append(session, p2p::EncodeDataFrame(1, Bytes{'h', 'i'}));
  Append(session, p2p::Frame(p2p::EncodePing()));
  Append(session, p2p::EncodeDataFrame(2, Bytes(300, 9)));
  Write("p2p_fuzz", "session", session);
  Bytes long_chain = p2p::Frame(p2p::EncodeHello(
      {p2p::kProtocolVersion, std::string(p2p::kMaxChainIdBytes, 'c'), LocalKey().public_key()}));
  Write("p2p_fuzz", "hello_long_chain_id", long_chain);
}

void Proofs() {
  smt::MemoryNodeStore store;
  smt::Tree tree(store);
  std::vector<smt::Update> updates;
  for (uint8_t i = 1; i <= 12; ++i) {
    Hash32 k{}, v{};
    k.fill(static_cast<uint8_t>(i * 37));
    k[31] = i;
    v.fill(i);
    updates.push_back({k, v});
  }
  smt::NodeBatch batch;
  auto root = tree.Apply(smt::kEmptyRoot, updates, &batch);
  Check(root.ok(), "smt apply");
  if (!root.ok()) return;
  store.Put(batch);
  Hash32 absent{};
  absent.fill(0xee);
  std::vector<std::pair<std::string, ProofInput>> proofs;
  for (const auto& [name, key, value] :
       {std::tuple{"present", updates[3].key, updates[3].value_hash},
        std::tuple{"absent", absent, std::optional<Hash32>()}}) {
    auto proof = tree.Prove(*root, key);
    Check(proof.ok(), "smt prove");
    if (!proof.ok()) continue;
    ProofInput in{*root, key, value, *proof};
    Check(smt::VerifyProof(in.root, in.key, in.value, in.proof).ok(), "proof verifies");
    Write("proof_fuzz", name, EncodeProofInput(in));
  }
  Write("proof_fuzz", "empty_tree", EncodeProofInput({smt::kEmptyRoot, absent, {}, {}}));
}

void Files() {
  Write("genesis_fuzz", "example.json", ReadFile(source_root / "genesis/example.json"));
  node::Config config;
  Write("config_fuzz", "default.toml", node::ConfigToToml(config));
  config.moniker = "fuzz";
  Write("config_fuzz", "moniker.toml", node::ConfigToToml(config));
  Check(node::ParseConfig(node::ConfigToToml(config), "/nonexistent", "x").ok(), "config");

  fs::path tmp = fs::temp_directory_path() / "civitas-fuzz-seeds-key.json";
  fs::remove(tmp);
  Check(civitas::WriteKeyFile(tmp.string(), FixedKey(0x55)).ok(), "write key file");
  Write("keyfile_fuzz", "plain.json", ReadFile(tmp));
  fs::remove(tmp);
  Hash32 salt{};
  salt.fill(0x66);
  std::array<uint8_t, 12> nonce{};
  nonce.fill(0x77);
  for (const auto& [name, params] :
       {std::pair{"encrypted_n16.json", wallet::ScryptParams{16, 1, 1}},
        std::pair{"encrypted_n2_r4.json", wallet::ScryptParams{2, 4, 2}}}) {
    auto text = wallet::EncryptKeyDeterministic(FixedKey(0x55), "fuzz", params, salt, nonce);
    Check(text.ok() && wallet::DecryptKey(*text, "fuzz").ok(), name);
    if (text.ok()) Write("keyfile_fuzz", name, *text);
  }
}

void Vm() {
  for (const auto& entry : fs::directory_iterator(source_root / "tests/vm/programs")) {
    auto module = casm::Assemble(ReadFile(entry.path()));
    Check(module.ok(), entry.path().string());
    if (!module.ok()) continue;
    std::string name = entry.path().stem().string() + ".bin";
    Write("vm_fuzz", name, *module);
    Write("vm_diff_fuzz", name, *module);
  }
  for (const auto& entry : fs::directory_iterator(source_root / "tests/vm/fuzz_regressions")) {
    Write("vm_fuzz", entry.path().filename().string(), ReadFile(entry.path()));
  }
  // Program-generator seeds (u64 little-endian, no mutation) for the differential target.
  for (uint64_t seed : {1, 2, 3, 42, 1000}) {
    Bytes bytes(8);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(seed >> (8 * i));
    Write("vm_diff_fuzz", "generated_" + std::to_string(seed), bytes);
  }
}

}  // namespace
}  // namespace civitas::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds SOURCE_DIR\n";
    return 2;
  }
  civitas::fuzz::source_root = argv[1];
  civitas::fuzz::Transactions();
  civitas::fuzz::Blocks();
  civitas::fuzz::Consensus();
  civitas::fuzz::P2p();
  civitas::fuzz::Proofs();
  civitas::fuzz::Files();
  civitas::fuzz::Vm();
  return civitas::fuzz::failures == 0 ? 0 : 1;
}
