#pragma once

// Helpers for ledger tests: a genesis with funded keys.

#include <vector>

#include "ledger/genesis.h"
#include "ledger/tx.h"

namespace civitas::testing {

struct TestChain {
  Genesis genesis;
  std::vector<crypto::SecretKey> validators;
  std::vector<crypto::SecretKey> users;  // each funded with `balance`
};

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

}  // namespace civitas::testing
