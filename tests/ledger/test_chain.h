#pragma once

// Helpers shared by ledger and node tests: a genesis with funded keys, a state in a map, and a
// scratch directory per test.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <vector>

#include "ledger/genesis.h"
#include "ledger/state.h"
#include "ledger/tx.h"

namespace civitas::testing {

struct TestChain {
  Genesis genesis;
  std::vector<crypto::SecretKey> validators;
  std::vector<crypto::SecretKey> users;  // each funded with `balance`
};

// The heartbeat of test chains (genesis params.heartbeat_ms).
inline constexpr uint64_t kTestHeartbeatMs = 20;

inline TestChain MakeTestChain(size_t users = 3, uint64_t balance = 1'000'000,
                               size_t validators = 1) {
  TestChain c;
  c.genesis.chain_id = "civitas-test";
  for (size_t i = 0; i < validators; ++i) {
    c.validators.push_back(crypto::SecretKey::Generate());
    c.genesis.validators.push_back({"v" + std::to_string(i), c.validators.back().public_key()});
  }
  for (size_t i = 0; i < users; ++i) {
    c.users.push_back(crypto::SecretKey::Generate());
    c.genesis.accounts.push_back({AddressOf(c.users.back().public_key()), balance});
  }
  // Node tests wait for heights to grow without transactions: an idle council makes an empty
  // block once per heartbeat, so theirs is short (the default is a minute).
  c.genesis.params.heartbeat_ms = kTestHeartbeatMs;
  // Round-trip through JSON so the hash is computed as a node computes it.
  auto parsed = ParseGenesis(GenesisToJson(c.genesis));
  if (!parsed.ok()) std::abort();
  c.genesis = *parsed;
  return c;
}

inline v1::Transaction Transfer(const TestChain& c, const crypto::SecretKey& from,
                                const Address& to, uint64_t amount, uint64_t nonce,
                                uint64_t gas_limit = 100'000, const std::string& chain_id = "") {
  v1::TxBody body;
  body.set_chain_id(chain_id.empty() ? c.genesis.chain_id : chain_id);
  body.set_nonce(nonce);
  body.set_gas_limit(gas_limit);
  body.mutable_transfer()->set_to(std::string(AsStringView(to)));
  body.mutable_transfer()->set_amount(amount);
  return SignTx(from, body);
}

// A one-validator nation, as the node and explorer tests run it: the validator is the council
// (nation.council empty: the validators' addresses; approvals a majority, 1 of 1) and is funded
// for its fees; `people` funded accounts; a funded treasury; the nation's parameters below.
struct SoloNationOptions {
  std::string chain_id;
  size_t people = 4;
  uint64_t funds = 100'000'000;  // each of the council and the people
  uint64_t treasury_funds = 1'000'000;
  uint64_t voting_period_s = 40;  // seconds of block time
  uint64_t quorum = 1000;
  uint64_t proposal_deposit = 500;
  uint64_t citizenship_validity = 100'000;
  // Node tests wait for heights to grow without transactions (voting periods): a short one.
  uint64_t heartbeat_ms = kTestHeartbeatMs;
};
struct SoloNation {
  crypto::SecretKey council;
  std::vector<crypto::SecretKey> people;
  Genesis genesis;
};
inline SoloNation MakeSoloNation(const SoloNationOptions& o) {
  SoloNation n{crypto::SecretKey::Generate(), {}, {}};
  for (size_t i = 0; i < o.people; ++i) n.people.push_back(crypto::SecretKey::Generate());
  Genesis g;
  g.chain_id = o.chain_id;
  g.validators.push_back({"council-0", n.council.public_key()});
  g.accounts.push_back({AddressOf(n.council.public_key()), o.funds});
  for (const auto& p : n.people) g.accounts.push_back({AddressOf(p.public_key()), o.funds});
  g.accounts.push_back({TreasuryAddress(), o.treasury_funds});
  g.nation.citizenship_validity = o.citizenship_validity;
  g.nation.voting_period_s = o.voting_period_s;
  g.nation.quorum = o.quorum;
  g.nation.threshold = 50;
  g.nation.proposal_deposit = o.proposal_deposit;
  g.params.heartbeat_ms = o.heartbeat_ms;
  // Round-trip through JSON so the hash is computed as a node computes it.
  auto parsed = ParseGenesis(GenesisToJson(g));
  if (!parsed.ok()) std::abort();
  n.genesis = *parsed;
  return n;
}

// A committed state held in a map.
class MapState : public StateReader {
 public:
  MapState() = default;
  explicit MapState(const StateWrites& w) { Apply(w); }
  void Apply(const StateWrites& w) {
    for (const auto& [k, v] : w) {
      if (v) {
        kv_[k] = *v;
      } else {
        kv_.erase(k);
      }
    }
  }
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    auto it = kv_.find(std::string(key));
    if (it == kv_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

 private:
  std::map<std::string, std::string> kv_;
};

// An empty scratch directory named after the running test (removed first if it exists).
inline std::string TestDir(const std::string& prefix) {
  auto dir = std::filesystem::temp_directory_path() /
             ("civitas-" + prefix + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir.string();
}

}  // namespace civitas::testing
