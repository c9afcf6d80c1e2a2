// Contracts on chain: deploy and call through block execution, with the VM's results in
// receipts and every failure rolled back.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ledger/executor.h"
#include "ledger/vm_host.h"
#include "test_chain.h"
#include "tools/asm/assembler.h"

namespace civitas {
namespace {

using testing::MakeTestChain;
using testing::MapState;

std::string Program(const std::string& name) {
  std::ifstream in(std::string(CIVITAS_TEST_DATA) + "/../vm/programs/" + name + ".casm");
  std::stringstream ss;
  ss << in.rdbuf();
  auto code = casm::Assemble(ss.str());
  if (!code.ok()) ADD_FAILURE() << code.message();
  return std::string(code->begin(), code->end());
}

std::string Args(const std::vector<vm::Value>& values) {
  vm::Bytes b = vm::EncodeValues(values);
  return std::string(b.begin(), b.end());
}

class ContractTest : public ::testing::Test {
 protected:
  void SetUp() override { state_.Apply(chain_.genesis.InitialState()); }

  DecodedTx Sign(v1::TxBody body, size_t user = 0) {
    body.set_chain_id(chain_.genesis.chain_id);
    body.set_nonce(nonces_[user]++);
    if (body.gas_limit() == 0) body.set_gas_limit(1'000'000);
    auto tx = DecodeAndCheckTx(SignTx(chain_.users[user], body), chain_.genesis.chain_id,
                               chain_.genesis.params);
    if (!tx.ok()) ADD_FAILURE() << tx.status().ToString();
    return *tx;
  }
  DecodedTx Deploy(const std::string& code) {
    v1::TxBody body;
    body.mutable_deploy()->set_code(code);
    return Sign(body);
  }
  DecodedTx Call(const Address& contract, const std::string& fn, const std::vector<vm::Value>& args,
                 uint64_t gas_limit = 0, uint64_t amount = 0) {
    v1::TxBody body;
    body.set_gas_limit(gas_limit);
    body.mutable_call()->set_contract(std::string(AsStringView(contract)));
    body.mutable_call()->set_function(fn);
    body.mutable_call()->set_args(Args(args));
    body.mutable_call()->set_amount(amount);
    return Sign(body);
  }
  // Executes one block and applies it to the state.
  std::vector<v1::Receipt> Run(const std::vector<DecodedTx>& txs) {
    auto r = ExecuteBlock(chain_.genesis.params, state_, {++height_, 1000 * height_}, txs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    state_.Apply(r->writes);
    return r->receipts;
  }
  AccountState Account(const Address& a) {
    auto v = state_.Get(AccountKey(a));
    return v->has_value() ? *DecodeAccount(**v) : AccountState{};
  }

  testing::TestChain chain_ = MakeTestChain(2, 100'000'000);
  MapState state_;
  uint64_t height_ = 0;
  uint64_t nonces_[2] = {0, 0};
};

TEST_F(ContractTest, DeployThenCallCounter) {
  auto receipts = Run({Deploy(Program("counter"))});
  ASSERT_EQ(receipts[0].status(), v1::TX_STATUS_SUCCESS) << receipts[0].reason();
  auto addr = AddressFromBytes(receipts[0].contract_address());
  ASSERT_TRUE(addr);
  EXPECT_EQ(*addr, ContractAddress(AddressOf(chain_.users[0].public_key()), 0));
  EXPECT_TRUE(state_.Get(CodeHashKey(*addr))->has_value());

  receipts = Run({Call(*addr, "increment", {}), Call(*addr, "increment", {})});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(receipts[i].status(), v1::TX_STATUS_SUCCESS) << receipts[i].reason();
    auto ret = vm::DecodeValues(
        vm::ByteView(reinterpret_cast<const uint8_t*>(receipts[i].return_data().data()),
                     receipts[i].return_data().size()));
    ASSERT_TRUE(ret.ok());
    ASSERT_EQ(ret->size(), 1u);
    EXPECT_EQ((*ret)[0].as_int(), i + 1);
    ASSERT_EQ(receipts[i].events_size(), 1);
    EXPECT_EQ(receipts[i].events(0).topic(), "incremented");
    EXPECT_EQ(receipts[i].events(0).contract(), std::string(AsStringView(*addr)));
    EXPECT_GT(receipts[i].gas_used(), IntrinsicGas(chain_.genesis.params, 0));
    EXPECT_EQ(receipts[i].fee(), receipts[i].gas_used() * chain_.genesis.params.gas_price);
  }
  auto stored = state_.Get(StorageKey(*addr, "count"));
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, std::string("\0\0\0\0\0\0\0\2", 8));
}

// The vector of docs/VM.md (`time`): a contract reads the header's time in whole seconds, the
// milliseconds dropped (before issue 26 it read milliseconds, against its documentation).
TEST_F(ContractTest, TimeIsTheHeaderTimeInWholeSeconds) {
  auto code = casm::Assemble("export func now() -> 1\n  time\n  ret\nend\n");
  ASSERT_TRUE(code.ok()) << code.message();
  auto deployed = Run({Deploy(std::string(code->begin(), code->end()))});
  ASSERT_EQ(deployed[0].status(), v1::TX_STATUS_SUCCESS) << deployed[0].reason();
  Address clock = *AddressFromBytes(deployed[0].contract_address());
  auto r = ExecuteBlock(chain_.genesis.params, state_, {++height_, 1'795'392'000'999},
                        {Call(clock, "now", {})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const v1::Receipt& receipt = r->receipts.at(0);
  ASSERT_EQ(receipt.status(), v1::TX_STATUS_SUCCESS) << receipt.reason();
  auto ret =
      vm::DecodeValues(vm::ByteView(reinterpret_cast<const uint8_t*>(receipt.return_data().data()),
                                    receipt.return_data().size()));
  ASSERT_TRUE(ret.ok() && ret->size() == 1u);
  EXPECT_EQ((*ret)[0].as_int(), 1'795'392'000);
}

TEST_F(ContractTest, FailuresChargeFeeAndChangeNothingElse) {
  auto deployed = Run({Deploy(Program("counter")), Deploy(Program("loop"))});
  Address counter = *AddressFromBytes(deployed[0].contract_address());
  Address loop = *AddressFromBytes(deployed[1].contract_address());
  Address me = AddressOf(chain_.users[0].public_key());
  AccountState before = Account(me);
  uint64_t treasury_before = Account(TreasuryAddress()).balance;

  auto receipts = Run({
      Call(counter, "no_such", {}),
      Call(loop, "sum", {vm::Value::Int(1'000'000)}, 45'000),  // runs out of gas
      Call(loop, "factorial", {vm::Value::Int(30)}),           // overflow traps
      Call(counter, "increment", {vm::Value::Int(1)}),         // wrong arity
      Call(ContractAddress(me, 99), "increment", {}),          // no contract there
      Call(counter, "increment", {}, 0, 1'000'000'000),        // more tokens than it has
  });
  const char* reasons[] = {"bad_call: no_such_function",
                           "out_of_gas: out_of_gas",
                           "trap: integer_overflow",
                           "bad_call: bad_arguments",
                           "no_contract",
                           "insufficient_funds"};
  uint64_t fees = 0;
  for (size_t i = 0; i < receipts.size(); ++i) {
    EXPECT_EQ(receipts[i].status(), v1::TX_STATUS_FAILED) << i;
    EXPECT_EQ(receipts[i].reason(), reasons[i]) << i;
    EXPECT_TRUE(receipts[i].events().empty());
    fees += receipts[i].fee();
  }
  EXPECT_EQ(receipts[1].gas_used(), 45'000u);  // out of gas burns the whole limit
  EXPECT_FALSE(state_.Get(StorageKey(counter, "count"))->has_value());
  EXPECT_EQ(Account(me).balance, before.balance - fees);
  EXPECT_EQ(Account(me).nonce, before.nonce + receipts.size());
  EXPECT_EQ(Account(TreasuryAddress()).balance, treasury_before + fees);
  EXPECT_EQ(Account(counter).balance, 0u);
}

TEST_F(ContractTest, BadCodeIsRefusedAtDeploy) {
  auto receipts = Run({Deploy("not bytecode at all")});
  EXPECT_EQ(receipts[0].status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(receipts[0].reason().rfind("bad_code: ", 0), 0u) << receipts[0].reason();
  EXPECT_TRUE(receipts[0].contract_address().empty());
}

TEST_F(ContractTest, SameBlockFromSameStateGivesSameRoot) {
  auto deployed = Run({Deploy(Program("token")), Deploy(Program("counter"))});
  Address token = *AddressFromBytes(deployed[0].contract_address());
  Address counter = *AddressFromBytes(deployed[1].contract_address());
  std::vector<DecodedTx> txs;
  for (int i = 0; i < 10; ++i) {
    vm::Bytes to(20, static_cast<uint8_t>(i));
    txs.push_back(Call(token, "mint", {vm::Value::FromBytes(to), vm::Value::Int(100 + i)}));
    txs.push_back(Call(counter, "increment", {}));
  }
  auto a = ExecuteBlock(chain_.genesis.params, state_, {9, 9000}, txs);
  auto b = ExecuteBlock(chain_.genesis.params, state_, {9, 9000}, txs);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->writes, b->writes);
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(a->receipts[i].SerializeAsString(), b->receipts[i].SerializeAsString());
  }
  smt::MemoryNodeStore nodes;
  smt::Tree tree(nodes);
  smt::NodeBatch batch_a, batch_b;
  EXPECT_EQ(*ApplyWrites(tree, smt::kEmptyRoot, a->writes, &batch_a),
            *ApplyWrites(tree, smt::kEmptyRoot, b->writes, &batch_b));
}

TEST_F(ContractTest, ValueSentWithCallReachesTheContract) {
  auto deployed = Run({Deploy(Program("counter"))});
  Address counter = *AddressFromBytes(deployed[0].contract_address());
  auto receipts = Run({Call(counter, "increment", {}, 0, 5000)});
  ASSERT_EQ(receipts[0].status(), v1::TX_STATUS_SUCCESS);
  EXPECT_EQ(Account(counter).balance, 5000u);
}

// Emits `n` events of `data` after writing a storage value, so a failure shows as that write
// undone.
constexpr char kEmitter[] = R"(
export func spam(n, data) -> 0
  push "touched"
  push "yes"
  sstore
again:
  get n
  jz done
  push "spam"
  get data
  emit
  get n
  push 1
  sub
  set n
  jmp again
done:
  ret
end
)";

// Issue 22: one transaction emitting 1,100 events of 4 KB made a 4.4 MB receipt, and its height
// unreadable for every default gRPC client (4 MiB message limit); blocks with 184 MB of
// receipts took a node's streams to 4.5 GB. The receipt limits (docs/PROTOCOL.md) fail such a
// transaction as running out of gas does: effects reverted, fee charged.
TEST_F(ContractTest, ReceiptLimitsFailATransactionAndRevertItsEffects) {
  auto code = casm::Assemble(kEmitter);
  ASSERT_TRUE(code.ok()) << code.message();
  auto deployed = Run({Deploy(std::string(code->begin(), code->end()))});
  ASSERT_EQ(deployed[0].status(), v1::TX_STATUS_SUCCESS) << deployed[0].reason();
  const Address emitter = *AddressFromBytes(deployed[0].contract_address());
  const Address sender = AddressOf(chain_.users[0].public_key());
  auto data = [](size_t n) { return vm::Value::FromString(std::string(n, 'e')); };
  auto touched = [&] { return state_.Get(StorageKey(emitter, "touched"))->has_value(); };

  // kMaxTxEvents small events pass; one more fails with too_many_events.
  auto at_cap = Run({Call(emitter, "spam", {vm::Value::Int(kMaxTxEvents), data(1)})});
  ASSERT_EQ(at_cap[0].status(), v1::TX_STATUS_SUCCESS) << at_cap[0].reason();
  EXPECT_EQ(at_cap[0].events_size(), static_cast<int>(kMaxTxEvents));
  EXPECT_TRUE(touched());
  state_.Apply(StateWrites{{StorageKey(emitter, "touched"), std::nullopt}});
  const uint64_t before = Account(sender).balance;
  auto over = Run({Call(emitter, "spam", {vm::Value::Int(kMaxTxEvents + 1), data(1)})});
  EXPECT_EQ(over[0].status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(over[0].reason(), "too_many_events");
  EXPECT_EQ(over[0].events_size(), 0);
  EXPECT_FALSE(touched());
  EXPECT_GT(over[0].fee(), 0u);
  EXPECT_EQ(Account(sender).balance, before - over[0].fee());

  // 20 events of 4,000 bytes: over kMaxTxReceiptBytes (64 KiB).
  auto large = Run({Call(emitter, "spam", {vm::Value::Int(20), data(4000)})});
  EXPECT_EQ(large[0].reason(), "receipt_too_large");
  EXPECT_LT(large[0].ByteSizeLong(), 1024u);
  EXPECT_FALSE(touched());

  // Transactions of 15 events of 4,000 bytes (about 60 KB of receipt each): the block's
  // receipts reach kMaxBlockReceiptBytes (4 MiB) at the 70th, which fails, and so do all
  // those after it; a block's receipts stay under the cap. (75 x 300,000 gas stays within the
  // block gas limit.)
  std::vector<DecodedTx> many;
  for (int i = 0; i < 75; ++i) {
    many.push_back(Call(emitter, "spam", {vm::Value::Int(15), data(4000)}, 300'000));
  }
  auto receipts = Run(many);
  size_t succeeded_bytes = 0, succeeded = 0;
  for (const auto& r : receipts) {
    if (r.status() == v1::TX_STATUS_SUCCESS) {
      EXPECT_EQ(succeeded, static_cast<size_t>(r.index())) << "a success after a failure";
      ++succeeded;
      succeeded_bytes += r.ByteSizeLong();
    } else {
      EXPECT_EQ(r.reason(), "block_receipts_full");
    }
  }
  EXPECT_GT(succeeded, 60u);
  EXPECT_LT(succeeded, many.size());
  EXPECT_LE(succeeded_bytes, kMaxBlockReceiptBytes);
  EXPECT_GT(succeeded_bytes + receipts[0].ByteSizeLong(), kMaxBlockReceiptBytes);
}

TEST_F(ContractTest, ARevertReasonIsCutInTheReceipt) {
  auto code = casm::Assemble(R"(
export func fail(msg) -> 0
  get msg
  revert
end
)");
  ASSERT_TRUE(code.ok()) << code.message();
  auto deployed = Run({Deploy(std::string(code->begin(), code->end()))});
  const Address c = *AddressFromBytes(deployed[0].contract_address());
  auto r = Run({Call(c, "fail", {vm::Value::FromString(std::string(4000, 'r'))})});
  EXPECT_EQ(r[0].status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(r[0].reason(), "revert: " + std::string(kMaxReceiptReasonBytes - 8, 'r'));
}

}  // namespace
}  // namespace civitas
