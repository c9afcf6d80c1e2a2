// Gas calibration (docs/VM.md, "Gas calibration"; docs/BENCHMARKS.md).
//
// Every instruction and every host call runs in a loop inside a contract on a realistic ledger
// state: a RocksDB store holding kAccounts funded accounts and kEntries storage entries of the
// benchmark contract (more than the store's state cache holds, so reads of distinct keys reach
// RocksDB), executed through the ledger's host (ledger/vm_host.cc) exactly as a block runs it,
// and the block's writes applied to the state tree as a commit does. Each benchmark reports
// the gas one run charged and the time it took; the summary prints ns per gas for each, the
// median and the max/median ratio (the calibration target is a ratio of at most 3).
//
// BM_FullBlock executes a full block of the slowest gas-per-ns work (ExecuteBlock and the tree
// update, as a validator does for a proposal) at the genesis block gas limit and reports its
// time as a fraction of the default block interval. BM_FullBlockOfTransfers does the same for
// a block of as many plain transfers as the gas limit allows: its time per transaction is what
// the intrinsic gas (tx_base_gas) prices, and the summary derives the tx_base_gas that would
// price it at the median ns per gas of the cases measured in the same run. BM_FullBlockOfBytes
// does it for a block of the largest transactions, which tx_byte_gas prices.
//
// Run: build/tests/bench/gas_bench [--benchmark_filter=...]. Takes about a minute to build its
// state in a scratch directory under $TMPDIR.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "consensus/codec.h"
#include "ledger/chain.h"
#include "ledger/crypto.h"
#include "ledger/vm_host.h"
#include "node/config.h"
#include "tests/ledger/certify.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

namespace civitas {
namespace {

constexpr uint64_t kAccounts = 200'000;
constexpr uint64_t kEntries = 200'000;
constexpr uint64_t kEntriesPerTx = 900;  // about 9.4 million gas
// Spreads consecutive indexes over the key space (an attacker's keys are not neighbours).
constexpr int64_t kSpread = 1'099'511'628'211;
constexpr size_t kUnroll = 4;
// Indexes from here have no account or entry (i * kSpread stays below 2^63 for 4 million more).
constexpr int64_t kFresh = 4'000'000;
constexpr int64_t kLoops = 500;

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s = "0x";
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& a) {
  return Hex(a.data(), N);
}

// The 12 bytes every benchmark account's address starts with; the other 8 are
// itob(i * kSpread), so a contract reaches account i with a concat.
constexpr std::array<uint8_t, 12> kAccountPrefix = {0xac, 0xc0, 0x00, 0x00, 0x00, 0x00,
                                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x01};

Address BenchAccount(uint64_t i) {
  Address a{};
  std::copy(kAccountPrefix.begin(), kAccountPrefix.end(), a.begin());
  const uint64_t v = i * static_cast<uint64_t>(kSpread);
  for (int b = 0; b < 8; ++b) a[12 + b] = static_cast<uint8_t>(v >> (56 - 8 * b));
  return a;
}

// One benchmark: the loop body (repeated kUnroll times per loop iteration), whether it runs in
// the governance contract's place (setcode), and where its key index starts.
struct OpCase {
  std::string name;
  std::string body;
  int64_t start = 0;     // first value of local i (key index) in every run
  bool advance = false;  // the key index continues where the last run stopped
};

// `i` is the key index, `big` a 4096-byte string, `mid` a 2048-byte one, `k` a 32-byte one.
std::string Program(const std::vector<OpCase>& cases, const std::string& pk, const std::string& msg,
                    const std::string& sig) {
  std::string src;
  src += "export func fill(i, n)\nloop:\n  get n\n  jz done\n  get i\n  push " +
         std::to_string(kSpread) +
         "\n  mul\n  itob\n  get i\n  itob\n  get i\n  itob\n  concat\n  get i\n  itob\n  concat\n"
         "  get i\n  itob\n  concat\n  sstore\n  get i\n  push 1\n  add\n  set i\n  get n\n"
         "  push 1\n  sub\n  set n\n  jmp loop\ndone:\n  ret\nend\n\n";
  src += "export func leaf()\n  ret\nend\n\nexport func fail()\n  push \"no\"\n  revert\nend\n\n";
  src += "func inner()\n  ret\nend\n\n";
  int label = 0;
  for (const auto& c : cases) {
    src += "export func b_" + c.name + "(n, i) -> 1\n  local a, big, mid, k\n";
    src += "  push " + Hex(std::array<uint8_t, 32>{1, 2, 3}) + "\n  set k\n";
    src += "  push \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";
    for (int d = 0; d < 5; ++d) src += "  dup\n  concat\n";  // 64 << 5 = 2048 bytes
    src += "  dup\n  set mid\n  dup\n  concat\n  set big\n";
    src += "loop:\n  get n\n  jz done\n";
    for (size_t u = 0; u < kUnroll; ++u) {
      std::string body = c.body;
      // Each copy gets its own labels.
      for (size_t pos; (pos = body.find("@L")) != std::string::npos;) {
        body.replace(pos, 2, "l" + std::to_string(label));
      }
      ++label;
      src += body;
    }
    src += "  get n\n  push 1\n  sub\n  set n\n  jmp loop\ndone:\n  get i\n  ret\nend\n\n";
  }
  // Substitute the signature material.
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"$PK", pk}, {"$MSG", msg}, {"$SIG", sig}}) {
    for (size_t pos; (pos = src.find(from)) != std::string::npos;)
      src.replace(pos, from.size(), to);
  }
  return src;
}

std::vector<OpCase> Cases() {
  const std::string prefix = Hex(kAccountPrefix);
  const std::string next = "  get i\n  push 1\n  add\n  set i\n";
  const std::string key = "  get i\n  push " + std::to_string(kSpread) + "\n  mul\n  itob\n";
  const std::string account = "  push " + prefix + "\n" + key + "  concat\n";
  std::vector<OpCase> v = {
      {"nop", "  nop\n  nop\n  nop\n  nop\n"},
      {"pop", "  push 1\n  pop\n"},
      {"dup", "  get n\n  dup\n  pop\n  pop\n"},
      {"dup_bytes", "  get big\n  dup\n  pop\n  pop\n"},
      {"over", "  push 1\n  push 2\n  over\n  pop\n  pop\n  pop\n"},
      {"swap", "  push 1\n  push 2\n  swap\n  pop\n  pop\n"},
      {"push_i64", "  push 7\n  pop\n"},
      {"push_const", "  push \"0123456789abcdef0123456789abcdef\"\n  pop\n"},
      {"get_set", "  get n\n  set a\n"},
      {"get_bytes", "  get big\n  set a\n"},
      {"add", "  get n\n  push 3\n  add\n  pop\n"},
      {"sub", "  get n\n  push 3\n  sub\n  pop\n"},
      {"mul", "  get n\n  push 3\n  mul\n  pop\n"},
      {"div", "  get n\n  push 3\n  div\n  pop\n"},
      {"mod", "  get n\n  push 3\n  mod\n  pop\n"},
      {"neg", "  get n\n  neg\n  pop\n"},
      {"eq", "  get n\n  push 3\n  eq\n  pop\n"},
      {"eq_bytes", "  get big\n  get big\n  eq\n  pop\n"},
      {"ne", "  get n\n  push 3\n  ne\n  pop\n"},
      {"lt", "  get n\n  push 3\n  lt\n  pop\n"},
      {"le", "  get n\n  push 3\n  le\n  pop\n"},
      {"gt", "  get n\n  push 3\n  gt\n  pop\n"},
      {"ge", "  get n\n  push 3\n  ge\n  pop\n"},
      {"and", "  get n\n  push 3\n  and\n  pop\n"},
      {"or", "  get n\n  push 3\n  or\n  pop\n"},
      {"xor", "  get n\n  push 3\n  xor\n  pop\n"},
      {"bnot", "  get n\n  bnot\n  pop\n"},
      {"not", "  get n\n  not\n  pop\n"},
      {"shl", "  get n\n  push 3\n  shl\n  pop\n"},
      {"shr", "  get n\n  push 3\n  shr\n  pop\n"},
      {"len", "  get big\n  len\n  pop\n"},
      {"concat", "  get k\n  get k\n  concat\n  pop\n"},
      {"concat_4k", "  get mid\n  get mid\n  concat\n  pop\n"},
      {"slice", "  get k\n  push 0\n  push 16\n  slice\n  pop\n"},
      {"slice_4k", "  get big\n  push 0\n  push 4000\n  slice\n  pop\n"},
      {"byteat", "  get k\n  push 3\n  byteat\n  pop\n"},
      {"itob", "  get n\n  itob\n  pop\n"},
      {"btoi", "  push 0x0102030405060708\n  btoi\n  pop\n"},
      {"typeof", "  get n\n  typeof\n  pop\n"},
      {"jmp", "  jmp @L\n@L:\n"},
      {"jz", "  push 1\n  jz @L\n@L:\n"},
      {"jnz", "  push 0\n  jnz @L\n@L:\n"},
      {"call_ret", "  call inner\n"},
      {"revert_xcall", "  self\n  push \"fail\"\n  push 1000\n  xcall 0 0\n  pop\n"},
      {"sload", key + "  sload\n  pop\n  pop\n" + next, 0, true},
      {"sload_missing", key + "  sload\n  pop\n  pop\n" + next, kFresh, true},
      {"sstore_new", key + "  get k\n  sstore\n" + next, kFresh, true},
      {"sstore_update", key + "  get k\n  sstore\n" + next, 0, true},
      {"sstore_4k", key + "  get big\n  sstore\n" + next, 0, true},
      {"sdel", key + "  sdel\n" + next, 0, true},
      {"caller", "  caller\n  pop\n"},
      {"origin", "  origin\n  pop\n"},
      {"self", "  self\n  pop\n"},
      {"height", "  height\n  pop\n"},
      {"time", "  time\n  pop\n"},
      {"emit", "  push \"topic\"\n  get k\n  emit\n"},
      {"emit_4k", "  push \"topic\"\n  get big\n  emit\n"},
      {"balance", account + "  balance\n  pop\n" + next, 0, true},
      {"balance_missing", account + "  balance\n  pop\n" + next, kFresh, true},
      {"transfer", account + "  push 1\n  transfer\n  pop\n" + next, 0, true},
      {"transfer_new", account + "  push 1\n  transfer\n  pop\n" + next, kFresh, true},
      {"sha256", "  get k\n  sha256\n  pop\n"},
      {"sha256_4k", "  get big\n  sha256\n  pop\n"},
      {"verify_known_key", "  push $PK\n  push $MSG\n  push $SIG\n  verify\n  pop\n"},
      {"verify_fresh_key",
       "  get i\n  itob\n  sha256\n  push $MSG\n  push $SIG\n  verify\n  pop\n" + next, 0, true},
      {"verify_4k", "  push $PK\n  get big\n  push $SIG\n  verify\n  pop\n"},
      {"xcall", "  self\n  push \"leaf\"\n  push 1000\n  xcall 0 0\n  pop\n"},
      {"setcode", "  self\n  self\n  setcode\n  pop\n"},
      {"iskey", "  get i\n  itob\n  sha256\n  iskey\n  pop\n" + next, 0, true},
  };
  return v;
}

// The ledger state every benchmark runs on, built once.
struct World {
  std::string dir;
  Genesis genesis;
  std::vector<crypto::SecretKey> validators;
  std::optional<crypto::SecretKey> user;
  // Funded keys that send the plain transfers, one transaction each per block (an attacker
  // filling blocks with transfers spreads them over many accounts).
  std::vector<crypto::SecretKey> senders;
  std::unique_ptr<Store> store;
  Address contract{};
  std::shared_ptr<const vm::Module> module;
  std::map<Hash32, std::shared_ptr<const vm::Module>> modules;
  uint64_t nonce = 0;
  std::map<std::string, int64_t> next_index;

  DecodedTx Tx(v1::TxBody body) {
    body.set_chain_id(genesis.chain_id);
    body.set_nonce(nonce++);
    auto tx = DecodeAndCheckTx(SignTx(*user, body), genesis.chain_id, genesis.params);
    if (!tx.ok()) {
      std::fprintf(stderr, "bad tx: %s\n", tx.status().message().c_str());
      std::abort();
    }
    return std::move(*tx);
  }

  void Commit(std::vector<DecodedTx> txs) {
    auto p = BuildBlock(*store, genesis, validators[0].public_key(), 1000 * (store->height() + 1),
                        std::move(txs));
    if (!p.ok()) {
      std::fprintf(stderr, "block: %s\n", p.status().message().c_str());
      std::abort();
    }
    for (const auto& r : p->exec.receipts) {
      if (r.status() != v1::TX_STATUS_SUCCESS) {
        std::fprintf(stderr, "setup tx failed: %s\n", r.reason().c_str());
        std::abort();
      }
    }
    auto c = testing::Certify(*p, genesis.chain_id, validators);
    Status s = CommitPrepared(*store, genesis, *p, c.qc, c.consensus_header);
    if (!s.ok()) {
      std::fprintf(stderr, "commit: %s\n", s.message().c_str());
      std::abort();
    }
  }
};

World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    w->dir = (std::filesystem::temp_directory_path() /
              ("civitas-gas-bench-" + std::to_string(::getpid())))
                 .string();
    std::filesystem::remove_all(w->dir);
    w->validators.push_back(crypto::SecretKey::Generate());
    w->user = crypto::SecretKey::Generate();
    const Address user = AddressOf(w->user->public_key());
    Genesis g;
    g.chain_id = "civitas-gas-bench";
    g.validators.push_back({"v0", w->validators[0].public_key()});
    g.accounts.push_back({user, uint64_t{1} << 50});
    w->contract = ContractAddress(user, 0);
    g.accounts.push_back({w->contract, uint64_t{1} << 50});
    for (uint64_t i = 0; i < kAccounts; ++i) g.accounts.push_back({BenchAccount(i), 1000 + i});
    for (size_t i = 0; i < kMaxBlockTxs; ++i) {
      w->senders.push_back(crypto::SecretKey::Generate());
      g.accounts.push_back({AddressOf(w->senders.back().public_key()), uint64_t{1} << 40});
    }
    auto parsed = ParseGenesis(GenesisToJson(g));
    if (!parsed.ok()) {
      std::fprintf(stderr, "genesis: %s\n", parsed.status().message().c_str());
      std::abort();
    }
    w->genesis = *parsed;
    auto store = Store::Open(w->dir, w->genesis);
    if (!store.ok()) std::abort();
    w->store = std::move(*store);

    crypto::SecretKey signer = crypto::SecretKey::Generate();
    Hash32 msg = crypto::Sha256("civitas gas calibration");
    crypto::Signature sig = signer.Sign(msg);
    auto code = casm::Assemble(Program(Cases(), Hex(signer.public_key()), Hex(msg), Hex(sig)));
    if (!code.ok()) {
      std::fprintf(stderr, "assemble: %s\n", code.message().c_str());
      std::abort();
    }
    v1::TxBody deploy;
    deploy.set_gas_limit(w->genesis.params.max_tx_gas);
    deploy.mutable_deploy()->set_code(std::string(code->begin(), code->end()));
    w->Commit({w->Tx(deploy)});
    std::vector<DecodedTx> fills;
    for (uint64_t start = 0; start < kEntries; start += kEntriesPerTx) {
      v1::TxBody call;
      call.set_gas_limit(w->genesis.params.max_tx_gas);
      auto* c = call.mutable_call();
      c->set_contract(std::string(AsStringView(w->contract)));
      c->set_function("fill");
      std::vector<vm::Value> args = {vm::Value::Int(static_cast<int64_t>(start)),
                                     vm::Value::Int(static_cast<int64_t>(kEntriesPerTx))};
      vm::Bytes a = vm::EncodeValues(args);
      c->set_args(std::string(a.begin(), a.end()));
      fills.push_back(w->Tx(call));
      // As many as a block may hold.
      if (fills.size() == w->genesis.params.max_block_gas / w->genesis.params.max_tx_gas) {
        w->Commit(std::exchange(fills, {}));
      }
    }
    if (!fills.empty()) w->Commit(std::move(fills));
    auto m = casm::Assemble(Program(Cases(), Hex(signer.public_key()), Hex(msg), Hex(sig)));
    auto validated = vm::Validate(*m);
    if (!validated.ok()) std::abort();
    w->module = std::make_shared<const vm::Module>(std::move(*validated));
    return w;
  }();
  return *world;
}

// ns per gas of each case, filled as the benchmarks run.
std::map<std::string, double>& NsPerGas() {
  static std::map<std::string, double> m;
  return m;
}

void BM_Op(benchmark::State& state, const OpCase& c) {
  World& w = TheWorld();
  static const Address kGovernance = SystemAddress("governance");
  const Address self = c.name == "setcode" ? kGovernance : w.contract;
  if (!w.next_index.count(c.name)) w.next_index[c.name] = c.start;
  smt::Tree tree(*w.store);
  auto root = w.store->StateRoot(w.store->height());
  if (!root.ok()) std::abort();
  uint64_t gas = 0;
  uint64_t runs = 0;
  for (auto _ : state) {
    // One run = what a transaction of this loop costs a validator: execution through the
    // ledger host, then its writes hashed into the state tree.
    StateOverlay overlay(*w.store);
    CallContext ctx{overlay, AddressOf(w.user->public_key()), 10, 10'000, {}, w.modules};
    LedgerHost host(ctx, self, AddressOf(w.user->public_key()));
    const int64_t start = w.next_index[c.name];
    vm::ExecResult r =
        vm::Execute(*w.module, "b_" + c.name, {vm::Value::Int(kLoops), vm::Value::Int(start)},
                    UINT64_MAX / 4, host);
    if (!r.ok() || !host.storage_error().ok()) {
      state.SkipWithError(("run failed: " + r.reason).c_str());
      return;
    }
    if (c.advance) {
      int64_t next = r.returns[0].as_int();
      // Cycle over the filled entries (and accounts) so reads keep finding data.
      if (c.start == 0 && next >= static_cast<int64_t>(std::min(kEntries, kAccounts))) next = 0;
      w.next_index[c.name] = next;
    }
    smt::NodeBatch nodes;
    auto new_root = ApplyWrites(tree, *root, overlay.writes(), &nodes);
    benchmark::DoNotOptimize(new_root);
    gas += r.gas_used;
    ++runs;
  }
  state.counters["gas"] = static_cast<double>(gas) / static_cast<double>(runs);
}

// The gas one loop iteration of case `name` charges (runs of 1 and 2 iterations differ by it)
// and what a run costs besides.
std::pair<uint64_t, uint64_t> LoopGas(World& w, const std::string& name) {
  uint64_t used[2];
  for (int64_t n = 1; n <= 2; ++n) {
    StateOverlay overlay(*w.store);
    CallContext ctx{overlay, AddressOf(w.user->public_key()), 10, 10'000, {}, w.modules};
    LedgerHost host(ctx, w.contract, AddressOf(w.user->public_key()));
    vm::ExecResult r = vm::Execute(*w.module, "b_" + name, {vm::Value::Int(n), vm::Value::Int(0)},
                                   UINT64_MAX / 4, host);
    if (!r.ok()) std::abort();
    used[n - 1] = r.gas_used;
  }
  return {used[1] - used[0], 2 * used[0] - used[1]};
}

// A full block: as many transactions as the chain's max_block_gas holds, each calling case
// `name` with its whole max_tx_gas (the loop runs as often as the gas allows and completes, so
// its writes are kept). Timed: what a validator does with a committed block before writing it,
// ExecuteBlock and the state-tree update (BuildBlock; the four signatures are checked earlier,
// when the proposal is voted on).
void BM_FullBlock(benchmark::State& state, const std::string& name) {
  World& w = TheWorld();
  const ChainParams& params = w.genesis.params;
  auto [per_loop, fixed] = LoopGas(w, name);
  std::vector<DecodedTx> txs;
  uint64_t block_gas = 0;
  const uint64_t first_nonce = w.nonce;
  while (txs.size() < kMaxBlockTxs) {
    v1::TxBody call;
    auto* c = call.mutable_call();
    c->set_contract(std::string(AsStringView(w.contract)));
    c->set_function("b_" + name);
    // Room for the intrinsic gas (a few hundred bytes of envelope) and the run's fixed part, in
    // the transaction (max_tx_gas) and in what is left of the block: the last one is smaller.
    const uint64_t overhead = params.tx_base_gas + 4096 + fixed;
    const uint64_t cap = std::min(params.max_tx_gas, params.max_block_gas - block_gas);
    if (cap < overhead + per_loop) break;
    int64_t loops = static_cast<int64_t>((cap - overhead) / per_loop);
    // A transaction keeps at most kMaxTxEvents events (each VM transfer emits one): more would
    // fail it and undo its writes, so a transfer loop stops there and asks for what it uses.
    if (name == "transfer") {
      loops = std::min(loops, static_cast<int64_t>(kMaxTxEvents / kUnroll));
    }
    const uint64_t limit = overhead + per_loop * static_cast<uint64_t>(loops);
    call.set_gas_limit(limit);
    // Distinct keys per transaction: each starts where the previous one's loop ends.
    const int64_t start = static_cast<int64_t>(txs.size()) * loops * kUnroll;
    std::vector<vm::Value> args = {vm::Value::Int(loops), vm::Value::Int(start)};
    vm::Bytes a = vm::EncodeValues(args);
    c->set_args(std::string(a.begin(), a.end()));
    txs.push_back(w.Tx(call));
    block_gas += limit;
  }
  w.nonce = first_nonce;  // nothing is committed: the next block may reuse the nonces
  uint64_t gas_used = 0;
  for (auto _ : state) {
    auto p = BuildBlock(*w.store, w.genesis, w.validators[0].public_key(), 1'000'000, txs);
    if (!p.ok()) {
      state.SkipWithError(p.status().message().c_str());
      return;
    }
    gas_used = 0;
    for (const auto& r : p->exec.receipts) {
      if (r.status() != v1::TX_STATUS_SUCCESS) {
        state.SkipWithError(("transaction failed: " + r.reason()).c_str());
        return;
      }
      gas_used += r.gas_used();
    }
  }
  state.counters["txs"] = static_cast<double>(txs.size());
  state.counters["block_gas"] = static_cast<double>(block_gas);
  state.counters["gas_used"] = static_cast<double>(gas_used);
}

// The most plain transfers a block may hold: each asks for its intrinsic gas (the smallest gas
// limit), so the block gas limit allows max_block_gas / intrinsic of them, at most kMaxBlockTxs.
size_t TransfersPerFullBlock(World& w) {
  v1::TxBody body;
  body.set_chain_id(w.genesis.chain_id);
  body.mutable_transfer()->set_to(std::string(AsStringView(BenchAccount(0))));
  body.mutable_transfer()->set_amount(1);
  body.set_gas_limit(w.genesis.params.max_tx_gas);  // as long a varint as any limit here
  const uint64_t intrinsic =
      IntrinsicGas(w.genesis.params, SignTx(w.senders[0], body).ByteSizeLong());
  return static_cast<size_t>(
      std::min<uint64_t>(kMaxBlockTxs, w.genesis.params.max_block_gas / intrinsic));
}

// A full block of plain transfers: TransfersPerFullBlock of them, each from its own funded
// account to a distinct existing account, each with its intrinsic gas as its gas limit. The
// recipients move on with every iteration, so their accounts come from RocksDB rather than from
// the state cache; the senders' accounts are cached after the first iteration, as admission
// leaves them on a node. Timed as BM_FullBlock: ExecuteBlock and the state-tree update
// (BuildBlock). Its CPU time per transaction and per gas is what the intrinsic gas prices.
void BM_FullBlockOfTransfers(benchmark::State& state) {
  World& w = TheWorld();
  const size_t count = TransfersPerFullBlock(w);
  uint64_t block_gas = 0, gas_used = 0, round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<DecodedTx> txs;
    txs.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      v1::TxBody body;
      body.set_chain_id(w.genesis.chain_id);
      body.set_nonce(0);
      const uint64_t to = (round * count + i) * 7 % kAccounts;
      body.mutable_transfer()->set_to(std::string(AsStringView(BenchAccount(to))));
      body.mutable_transfer()->set_amount(1);
      body.set_gas_limit(w.genesis.params.max_tx_gas);
      const size_t size = SignTx(w.senders[i], body).ByteSizeLong();
      body.set_gas_limit(IntrinsicGas(w.genesis.params, size));
      auto tx = DecodeAndCheckTx(SignTx(w.senders[i], body), w.genesis.chain_id, w.genesis.params);
      if (!tx.ok()) {
        state.SkipWithError(tx.status().message().c_str());
        return;
      }
      txs.push_back(std::move(*tx));
    }
    block_gas = BlockGas(txs);
    ++round;
    state.ResumeTiming();
    auto p =
        BuildBlock(*w.store, w.genesis, w.validators[0].public_key(), 1'000'000, std::move(txs));
    if (!p.ok()) {
      state.SkipWithError(p.status().message().c_str());
      return;
    }
    gas_used = 0;
    for (const auto& r : p->exec.receipts) {
      if (r.status() != v1::TX_STATUS_SUCCESS) {
        state.SkipWithError(("transfer failed: " + r.reason()).c_str());
        return;
      }
      gas_used += r.gas_used();
    }
  }
  state.counters["txs"] = static_cast<double>(count);
  state.counters["block_gas"] = static_cast<double>(block_gas);
  state.counters["gas_used"] = static_cast<double>(gas_used);
}

// A full block of the largest transactions: as many envelopes of about kMaxTxBytes (a call with
// 64,000 bytes of arguments to an address without a contract, which fails with no_contract and
// pays its intrinsic gas) as kMaxBlockBytes holds. Timed: what a validator does with the bytes
// of a proposal, decoding the block's transactions with their signatures (DecodeBlockTxs: the
// tx ids and signing hashes hash every byte) and executing it (BuildBlock). Its CPU time per gas
// tells whether tx_byte_gas prices bytes like the rest of the schedule.
void BM_FullBlockOfBytes(benchmark::State& state) {
  World& w = TheWorld();
  v1::Block block;
  block.mutable_header()->set_chain_id(w.genesis.chain_id);
  const std::string args(64'000, 'x');
  uint64_t bytes = 0;
  for (size_t i = 0;; ++i) {
    v1::TxBody body;
    body.set_chain_id(w.genesis.chain_id);
    body.set_nonce(0);
    body.set_gas_limit(w.genesis.params.max_tx_gas);
    auto* c = body.mutable_call();
    c->set_contract(std::string(AsStringView(BenchAccount(kFresh + i))));
    c->set_function("f");
    c->set_args(args);
    const size_t size = SignTx(w.senders[i], body).ByteSizeLong();
    body.set_gas_limit(IntrinsicGas(w.genesis.params, size));
    v1::Transaction tx = SignTx(w.senders[i], body);
    if (block.ByteSizeLong() + tx.ByteSizeLong() + 16 > kMaxBlockBytes) break;
    bytes += tx.ByteSizeLong();
    *block.add_txs() = std::move(tx);
  }
  uint64_t block_gas = 0, gas_used = 0;
  for (auto _ : state) {
    auto txs = DecodeBlockTxs(block, w.genesis, /*verify_signatures=*/true);
    if (!txs.ok()) {
      state.SkipWithError(txs.status().message().c_str());
      return;
    }
    block_gas = BlockGas(*txs);
    auto p =
        BuildBlock(*w.store, w.genesis, w.validators[0].public_key(), 1'000'000, std::move(*txs));
    if (!p.ok()) {
      state.SkipWithError(p.status().message().c_str());
      return;
    }
    gas_used = 0;
    for (const auto& r : p->exec.receipts) gas_used += r.gas_used();
  }
  state.counters["txs"] = static_cast<double>(block.txs_size());
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["block_gas"] = static_cast<double>(block_gas);
  state.counters["gas_used"] = static_cast<double>(gas_used);
}

// Collects each case's time per gas, then prints the table.
class Reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      if (run.run_name.function_name.rfind("BM_FullBlock", 0) == 0) {
        const double n = static_cast<double>(run.iterations);
        auto counter = [&](const char* key) {
          auto c = run.counters.find(key);
          return c == run.counters.end() ? 0.0 : c->second.value;
        };
        blocks_.push_back({run.run_name.function_name, 1e9 * run.real_accumulated_time / n,
                           1e9 * run.cpu_accumulated_time / n, counter("txs"),
                           counter("gas_used")});
        continue;
      }
      auto it = run.counters.find("gas");
      if (it == run.counters.end() || it->second.value <= 0) continue;
      // CPU time: the machine is shared, and wall time would count other processes.
      const double ns = run.GetAdjustedCPUTime();  // per iteration, in the time unit (ns)
      NsPerGas()[run.run_name.function_name.substr(3)] = ns / it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  struct Block {
    std::string name;
    double real_ns, cpu_ns;
    double txs, gas_used;
  };
  std::vector<Block> blocks_;
};

// The median ns per gas of the instruction and host-call cases (0 when none ran).
double MedianNsPerGas() {
  std::vector<double> v;
  for (const auto& [name, ns] : NsPerGas()) v.push_back(ns);
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void PrintSummary() {
  const auto& m = NsPerGas();
  if (m.empty()) return;
  std::vector<std::pair<double, std::string>> v;
  for (const auto& [name, ns] : m) v.push_back({ns, name});
  std::sort(v.begin(), v.end());
  const double median = MedianNsPerGas();
  std::printf("\n| case | ns/gas | x median |\n|---|---:|---:|\n");
  for (auto it = v.rbegin(); it != v.rend(); ++it) {
    std::printf("| %s | %.2f | %.2f |\n", it->second.c_str(), it->first, it->first / median);
  }
  std::printf("\nmedian %.3f ns/gas; slowest %s %.3f ns/gas = %.2f x median; fastest %s %.3f\n",
              median, v.back().second.c_str(), v.back().first, v.back().first / median,
              v.front().second.c_str(), v.front().first);
}

void PrintBlocks(const Reporter& reporter) {
  const double interval_ns = 1e6 * node::Config{}.block_interval_ms;
  const double median = MedianNsPerGas();
  const ChainParams& params = TheWorld().genesis.params;
  if (reporter.blocks_.empty()) return;
  std::printf(
      "\n| full block | txs | gas used | wall ms | CPU ms | wall / interval | CPU / interval | "
      "CPU ns/gas | x median |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& b : reporter.blocks_) {
    const double ns_per_gas = b.gas_used > 0 ? b.cpu_ns / b.gas_used : 0;
    std::printf("| %s | %.0f | %.0f | %.1f | %.1f | %.3f | %.3f | %.2f | %.2f |\n", b.name.c_str(),
                b.txs, b.gas_used, b.real_ns / 1e6, b.cpu_ns / 1e6, b.real_ns / interval_ns,
                b.cpu_ns / interval_ns, ns_per_gas, median > 0 ? ns_per_gas / median : 0);
  }
  std::printf(
      "(block interval %u ms, the default consensus.block_interval_ms; max_block_gas %llu; "
      "tx_base_gas %llu, tx_byte_gas %llu)\n",
      node::Config{}.block_interval_ms, static_cast<unsigned long long>(params.max_block_gas),
      static_cast<unsigned long long>(params.tx_base_gas),
      static_cast<unsigned long long>(params.tx_byte_gas));
  // What the intrinsic gas of a plain transfer should be, from its measured cost.
  for (const auto& b : reporter.blocks_) {
    if (b.name != "BM_FullBlockOfTransfers" || b.txs <= 0 || median <= 0) continue;
    const double ns_per_tx = b.cpu_ns / b.txs;
    const double gas_per_tx = b.gas_used / b.txs;
    const double byte_gas = gas_per_tx - static_cast<double>(params.tx_base_gas);
    std::printf(
        "\nplain transfer: %.1f us CPU each (its share of the block and tree update), intrinsic "
        "gas %.0f (%.0f of it for bytes) = %.2f ns/gas = %.2f x median\n",
        ns_per_tx / 1e3, gas_per_tx, byte_gas, ns_per_tx / gas_per_tx,
        ns_per_tx / gas_per_tx / median);
    std::printf(
        "tx_base_gas pricing it at the median: %.0f; at 2 x median (as the state operations): "
        "%.0f; at 3 x median (the bound): %.0f\n",
        ns_per_tx / median - byte_gas, ns_per_tx / (2 * median) - byte_gas,
        ns_per_tx / (3 * median) - byte_gas);
    std::printf(
        "a quarter of the interval holds %.0f such transfers: tx_base_gas at least %.0f keeps a "
        "block of them at max_block_gas within it\n",
        interval_ns / 4 / ns_per_tx,
        static_cast<double>(params.max_block_gas) / (interval_ns / 4 / ns_per_tx) - byte_gas);
  }
}

}  // namespace
}  // namespace civitas

int main(int argc, char** argv) {
  static const std::vector<civitas::OpCase> cases = civitas::Cases();
  for (const auto& c : cases) {
    benchmark::RegisterBenchmark(("BM_" + c.name).c_str(), civitas::BM_Op, c)
        ->Unit(benchmark::kNanosecond);
  }
  for (const char* name : {"transfer", "sstore_update", "sdel", "verify_known_key", "btoi"}) {
    benchmark::RegisterBenchmark((std::string("BM_FullBlock_") + name).c_str(),
                                 civitas::BM_FullBlock, std::string(name))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("BM_FullBlockOfTransfers", civitas::BM_FullBlockOfTransfers)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(5);
  benchmark::RegisterBenchmark("BM_FullBlockOfBytes", civitas::BM_FullBlockOfBytes)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(5);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  civitas::Reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  civitas::PrintSummary();
  civitas::PrintBlocks(reporter);
  if (!civitas::TheWorld().dir.empty()) std::filesystem::remove_all(civitas::TheWorld().dir);
  benchmark::Shutdown();
  return 0;
}
