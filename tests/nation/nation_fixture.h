#pragma once

// A small nation on a chain held in memory: a council of three (any two approve), four funded
// people, a funded treasury, short voting periods. Transactions are signed, decoded and run
// through ExecuteBlock exactly as a node runs them.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "genesis/nation_state.h"
#include "ledger/civic_calls.h"
#include "ledger/did.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "test_chain.h"
#include "vm/vm.h"

namespace civitas::nation::testing {

inline constexpr uint64_t kFunds = 100'000'000;
inline constexpr uint64_t kTreasuryFunds = 1'000'000;
inline constexpr uint64_t kDeposit = 500;
inline constexpr uint64_t kVotingPeriod = 10;  // seconds; blocks here are a second apart
inline constexpr uint64_t kQuorum = 1000;
inline constexpr uint64_t kValidity = 1000;

class NationTest : public ::testing::Test {
 protected:
  enum Person { kAlice, kBob, kCarol, kDave, kPeople };

  // `adjust` may change the genesis before it is applied (accounts: the council's three, then
  // the people's in Person order, then the treasury).
  // `timelock` is in seconds of block time (here as many blocks).
  explicit NationTest(uint64_t timelock = 0, const std::function<void(Genesis&)>& adjust = {}) {
    for (int i = 0; i < 3; ++i) council_.push_back(crypto::SecretKey::Generate());
    for (int i = 0; i < kPeople; ++i) people_.push_back(crypto::SecretKey::Generate());
    Genesis g;
    g.chain_id = "civitas-nation-test";
    for (size_t i = 0; i < council_.size(); ++i) {
      g.validators.push_back({"council-" + std::to_string(i), council_[i].public_key()});
      g.accounts.push_back({AddressOf(council_[i].public_key()), kFunds});
    }
    for (const auto& p : people_) g.accounts.push_back({AddressOf(p.public_key()), kFunds});
    g.accounts.push_back({TreasuryAddress(), kTreasuryFunds});
    g.nation.council_approvals = 2;
    g.nation.citizenship_validity = kValidity;
    g.nation.voting_period_s = kVotingPeriod;
    g.nation.quorum = kQuorum;
    g.nation.threshold = 50;
    g.nation.proposal_deposit = kDeposit;
    g.nation.timelock_s = timelock;
    if (adjust) adjust(g);
    auto parsed = ParseGenesis(GenesisToJson(g));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    genesis_ = *parsed;
    state_.Apply(genesis_.InitialState());
  }

  const crypto::SecretKey& Person(int p) const { return people_[p]; }
  Address AddressOfKey(const crypto::SecretKey& k) const { return AddressOf(k.public_key()); }
  Address Addr(int p) const { return AddressOfKey(people_[p]); }
  DidId Did(const crypto::SecretKey& first_key) const {
    return *ParseDid(DeriveDid(first_key.public_key()));
  }

  DecodedTx Sign(const crypto::SecretKey& key, const ContractCall& call,
                 uint64_t gas_limit = 3'000'000) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOfKey(key)]++);
    body.set_gas_limit(gas_limit);
    SetCall(call, &body);
    auto tx = DecodeAndCheckTx(SignTx(key, body), genesis_.chain_id, genesis_.params);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *tx;
  }
  DecodedTx SignTransfer(const crypto::SecretKey& key, const Address& to, uint64_t amount) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOfKey(key)]++);
    body.set_gas_limit(100'000);
    body.mutable_transfer()->set_to(std::string(AsStringView(to)));
    body.mutable_transfer()->set_amount(amount);
    auto tx = DecodeAndCheckTx(SignTx(key, body), genesis_.chain_id, genesis_.params);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *tx;
  }

  // The header time of block `height`: a block a second from 2026-11-23T00:00:00Z (the
  // genesis time of genesis/example.json).
  static uint64_t BlockTimeMs(uint64_t height) { return 1'795'392'000'000 + 1000 * height; }
  // BlockTimeMs as the DID resolver asks for it.
  static Result<uint64_t> BlockTime(uint64_t height) { return BlockTimeMs(height); }

  // Executes the next block and applies it.
  std::vector<v1::Receipt> Block(const std::vector<DecodedTx>& txs) {
    ++height_;
    auto r = ExecuteBlock(genesis_.params, state_, {height_, BlockTimeMs(height_)}, txs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    state_.Apply(r->writes);
    return r->receipts;
  }
  v1::Receipt Do(const crypto::SecretKey& key, const ContractCall& call) {
    return Block({Sign(key, call)}).at(0);
  }
  // Lets `blocks` empty blocks pass.
  void Wait(uint64_t blocks) { height_ += blocks; }

  uint64_t Balance(const Address& a) const {
    auto v = state_.Get(AccountKey(a));
    return v->has_value() ? DecodeAccount(**v)->balance : 0;
  }
  std::optional<std::string> Storage(const Address& contract, const std::string& key) const {
    return *state_.Get(StorageKey(contract, key));
  }

  // Rotates the DID that `holder` controls to `fresh` (key id `fragment`), with the consent of
  // `fresh`: its signature of the rotation message over the DID's current version.
  ContractCall Rotation(const crypto::SecretKey& holder, const crypto::SecretKey& fresh,
                        std::string_view fragment) const {
    auto id = DidOfAddress(state_, AddressOfKey(holder));
    EXPECT_TRUE(id.ok() && id->has_value());
    auto record = ReadDid(state_, **id);
    EXPECT_TRUE(record.ok() && record->has_value());
    return RotateDidKey(fragment, fresh.public_key(),
                        SignDidRotation(fresh, **id, holder.public_key(), (*record)->version));
  }

  // Proposal `id` as the state holds it now.
  Proposal ProposalNow(int64_t id) const {
    auto p = ReadProposal(state_, static_cast<uint64_t>(id));
    EXPECT_TRUE(p.ok() && p->has_value());
    return p.ok() && p->has_value() ? **p : Proposal{};
  }

  // A person registers their DID, applies, and two council members approve.
  void MakeCitizen(int p) {
    ASSERT_TRUE(Ok(Do(Person(p), RegisterDid(Person(p).public_key()))));
    ASSERT_TRUE(Ok(Do(Person(p), ApplyForCitizenship())));
    ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(Did(Person(p)), CouncilAction::kApprove))));
    ASSERT_TRUE(Ok(Do(council_[1], CouncilDecide(Did(Person(p)), CouncilAction::kApprove))));
  }

  static ::testing::AssertionResult Ok(const v1::Receipt& r) {
    if (r.status() == v1::TX_STATUS_SUCCESS) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "receipt failed: " << r.reason();
  }
  // The receipt failed with a contract's refusal `message`.
  static ::testing::AssertionResult Refused(const v1::Receipt& r, const std::string& message) {
    if (r.status() != v1::TX_STATUS_FAILED) {
      return ::testing::AssertionFailure() << "succeeded, expected refusal: " << message;
    }
    if (r.reason() != "revert: " + message) {
      return ::testing::AssertionFailure()
             << "reason '" << r.reason() << "', expected 'revert: " << message << "'";
    }
    return ::testing::AssertionSuccess();
  }
  static bool HasEvent(const v1::Receipt& r, const std::string& topic) {
    for (const auto& e : r.events()) {
      if (e.topic() == topic) return true;
    }
    return false;
  }
  // The integer a call returned as its only result.
  static int64_t ReturnedInt(const v1::Receipt& r) {
    auto v = vm::DecodeValues(vm::ByteView(reinterpret_cast<const uint8_t*>(r.return_data().data()),
                                           r.return_data().size()));
    EXPECT_TRUE(v.ok() && v->size() == 1 && (*v)[0].is_int());
    return v.ok() && v->size() == 1 ? (*v)[0].as_int() : -1;
  }

  Genesis genesis_;
  std::vector<crypto::SecretKey> council_;
  std::vector<crypto::SecretKey> people_;
  civitas::testing::MapState state_;
  uint64_t height_ = 0;
  std::map<Address, uint64_t> nonces_;
};

}  // namespace civitas::nation::testing
