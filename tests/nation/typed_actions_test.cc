// Typed civic actions (TxBody.register_did, .vote, ...) run exactly as the contract calls they
// stand for: same status, reason, return data, events and contract storage. Only the gas differs,
// by the intrinsic gas of the different body size.
#include <fstream>
#include <nlohmann/json.hpp>

#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

class TypedActionsTest : public NationTest {
 protected:
  // Signs `typed` and the call it maps to (same signer and nonce), runs each on its own copy of
  // the state, checks that they agree, and keeps the typed run.
  v1::Receipt Both(const crypto::SecretKey& key, const std::function<void(v1::TxBody&)>& fill) {
    v1::TxBody typed;
    typed.set_chain_id(genesis_.chain_id);
    typed.set_nonce(nonces_[AddressOfKey(key)]++);
    typed.set_gas_limit(3'000'000);
    fill(typed);
    auto call = CivicCallOf(typed);
    EXPECT_TRUE(call.ok() && call->has_value()) << call.status().ToString();
    v1::TxBody generic = typed;
    SetCall(**call, &generic);
    auto run = [&](const v1::TxBody& body, civitas::testing::MapState& state) {
      auto tx = DecodeAndCheckTx(SignTx(key, body), genesis_.chain_id, genesis_.params);
      EXPECT_TRUE(tx.ok()) << tx.status().ToString();
      auto r = ExecuteBlock(genesis_.params, state, {height_ + 1, 1000 * (height_ + 1)}, {*tx});
      EXPECT_TRUE(r.ok());
      state.Apply(r->writes);
      StateWrites storage;
      for (const auto& [k, v] : r->writes) {
        if (k[0] == static_cast<char>(KeySpace::kStorage)) storage[k] = v;
      }
      return std::make_pair(r->receipts.at(0), storage);
    };
    auto [typed_receipt, typed_storage] = run(typed, state_);
    auto [call_receipt, call_storage] = run(generic, generic_state_);
    ++height_;
    EXPECT_EQ(typed_receipt.status(), call_receipt.status());
    EXPECT_EQ(typed_receipt.reason(), call_receipt.reason());
    EXPECT_EQ(typed_receipt.return_data(), call_receipt.return_data());
    EXPECT_EQ(typed_receipt.events_size(), call_receipt.events_size());
    for (int i = 0; i < std::min(typed_receipt.events_size(), call_receipt.events_size()); ++i) {
      EXPECT_EQ(typed_receipt.events(i).SerializeAsString(),
                call_receipt.events(i).SerializeAsString());
    }
    EXPECT_EQ(typed_storage, call_storage);
    return typed_receipt;
  }

  civitas::testing::MapState generic_state_ = state_;
};

std::string Raw(const crypto::PublicKey& k) { return std::string(AsStringView(k)); }

// civitas-loadgen's DID registrations ask for 300,000 gas (tools/loadgen/main.cc): the block
// gas limit counts gas limits, so they must ask for little more than they use.
TEST_F(TypedActionsTest, ADidRegistrationFitsTheLoadGeneratorsGasLimit) {
  v1::Receipt r = Both(Person(kAlice), [&](v1::TxBody& b) {
    b.mutable_register_did()->set_public_key(Raw(Person(kAlice).public_key()));
  });
  ASSERT_EQ(r.status(), v1::TX_STATUS_SUCCESS) << r.reason();
  EXPECT_LE(r.gas_used(), 300'000u);
  EXPECT_GE(r.gas_used(), 100'000u) << "the registration writes several storage entries";
}

TEST_F(TypedActionsTest, EveryCivicActionRunsAsItsCall) {
  const auto& alice = Person(kAlice);
  const auto& bob = Person(kBob);
  auto second = crypto::SecretKey::Generate();
  auto third = crypto::SecretKey::Generate();
  for (int p : {kAlice, kBob}) {
    EXPECT_TRUE(Ok(Both(Person(p), [&](v1::TxBody& b) {
      b.mutable_register_did()->set_public_key(Raw(Person(p).public_key()));
    })));
  }
  EXPECT_TRUE(Ok(Both(alice, [&](v1::TxBody& b) {
    b.mutable_add_did_key()->set_fragment("key-2");
    b.mutable_add_did_key()->set_public_key(Raw(second.public_key()));
  })));
  EXPECT_TRUE(
      Ok(Both(alice, [](v1::TxBody& b) { b.mutable_revoke_did_key()->set_fragment("key-2"); })));
  EXPECT_TRUE(Ok(Both(alice, [](v1::TxBody& b) {
    auto* s = b.mutable_set_did_service();
    s->set_fragment("home");
    s->set_type("LinkedDomains");
    s->set_endpoint("https://alice.example");
  })));
  EXPECT_TRUE(
      Ok(Both(alice, [](v1::TxBody& b) { b.mutable_remove_did_service()->set_fragment("home"); })));
  for (int p : {kAlice, kBob}) {
    EXPECT_TRUE(Ok(Both(Person(p), [](v1::TxBody& b) { b.mutable_apply_for_citizenship(); })));
    for (int c : {0, 1}) {
      EXPECT_TRUE(Ok(Both(council_[c], [&](v1::TxBody& b) {
        b.mutable_council_decision()->set_did(DeriveDid(Person(p).public_key()));
        b.mutable_council_decision()->set_action(v1::COUNCIL_ACTION_APPROVE);
      })));
    }
  }
  EXPECT_TRUE(Ok(Both(alice, [](v1::TxBody& b) { b.mutable_renew_citizenship(); })));
  // A refusal is the same refusal.
  EXPECT_TRUE(Refused(Both(Person(kCarol),
                           [](v1::TxBody& b) {
                             b.mutable_propose_text()->set_text("x");
                             b.mutable_propose_text()->set_deposit(kDeposit);
                           }),
                      "the signer controls no DID"));
  EXPECT_TRUE(Ok(Both(alice, [&](v1::TxBody& b) {
    auto* s = b.mutable_propose_spend();
    s->set_to(std::string(AsStringView(Addr(kCarol))));
    s->set_amount(100);
    s->set_note("n");
    s->set_deposit(kDeposit);
  })));
  EXPECT_TRUE(Ok(Both(alice, [](v1::TxBody& b) {
    b.mutable_propose_text()->set_text("a resolution");
    b.mutable_propose_text()->set_sunset(1000);
    b.mutable_propose_text()->set_deposit(kDeposit);
  })));
  EXPECT_TRUE(Ok(Both(alice, [](v1::TxBody& b) {
    auto* s = b.mutable_propose_param();
    s->set_contract(std::string(AsStringView(GovernanceAddress())));
    s->set_name("spend.quorum");
    s->set_value(2000);
    s->set_deposit(kDeposit);
  })));
  EXPECT_TRUE(Ok(Both(alice, [&](v1::TxBody& b) {
    b.mutable_propose_council_change()->set_member(
        std::string(AsStringView(Person(kDave).public_key())));
    b.mutable_propose_council_change()->set_add(true);
    b.mutable_propose_council_change()->set_deposit(kDeposit);
  })));
  EXPECT_TRUE(Ok(Both(alice, [](v1::TxBody& b) {
    b.mutable_propose_upgrade()->set_target(std::string(AsStringView(TreasuryAddress())));
    b.mutable_propose_upgrade()->set_source(std::string(AsStringView(TreasuryAddress())));
    b.mutable_propose_upgrade()->set_deposit(kDeposit);
  })));
  for (const auto* who : {&alice, &bob}) {
    EXPECT_TRUE(Ok(Both(*who, [](v1::TxBody& b) {
      b.mutable_vote()->set_proposal_id(1);
      b.mutable_vote()->set_choice(v1::VOTE_CHOICE_YES);
      b.mutable_vote()->set_weight(kQuorum);
    })));
  }
  Wait(kVotingPeriod);
  EXPECT_TRUE(
      Ok(Both(bob, [](v1::TxBody& b) { b.mutable_execute_proposal()->set_proposal_id(1); })));
  EXPECT_TRUE(Ok(Both(bob, [](v1::TxBody& b) { b.mutable_withdraw_vote()->set_proposal_id(1); })));
  EXPECT_TRUE(
      Refused(Both(bob, [](v1::TxBody& b) { b.mutable_pay_recurring_spend()->set_proposal_id(1); }),
              "this spend was paid once and for all"));
  const ContractCall rotation = Rotation(alice, third, "key-3");
  auto rotation_args = vm::DecodeValues(
      vm::ByteView(reinterpret_cast<const uint8_t*>(rotation.args.data()), rotation.args.size()));
  ASSERT_TRUE(rotation_args.ok() && rotation_args->size() == 3);
  const vm::Bytes& signature = (*rotation_args)[2].as_bytes();
  EXPECT_TRUE(Ok(Both(alice, [&](v1::TxBody& b) {
    b.mutable_rotate_did_key()->set_fragment("key-3");
    b.mutable_rotate_did_key()->set_public_key(Raw(third.public_key()));
    b.mutable_rotate_did_key()->set_signature(std::string(signature.begin(), signature.end()));
  })));
  EXPECT_TRUE(Refused(Both(alice, [](v1::TxBody& b) { b.mutable_deactivate_did(); }),
                      "the signer controls no DID (sign with the DID's current controller key)"));
  EXPECT_TRUE(Ok(Both(bob, [](v1::TxBody& b) { b.mutable_deactivate_did(); })));
}

TEST_F(TypedActionsTest, MalformedActionsAreRefusedBeforeExecution) {
  auto check = [&](const std::function<void(v1::TxBody&)>& fill, const std::string& field) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_gas_limit(3'000'000);
    fill(body);
    auto tx = DecodeAndCheckTx(SignTx(Person(kAlice), body), genesis_.chain_id, genesis_.params);
    EXPECT_FALSE(tx.ok()) << field;
    EXPECT_EQ(tx.status().reason(), "malformed_tx");
    EXPECT_NE(tx.status().message().find(field), std::string::npos) << tx.status().message();
  };
  check([](v1::TxBody& b) { b.mutable_register_did()->set_public_key("short"); },
        "register_did.public_key");
  check([](v1::TxBody& b) { b.mutable_add_did_key()->set_fragment("key 2"); },
        "add_did_key.fragment");
  check([](v1::TxBody& b) { b.mutable_revoke_did_key()->set_fragment(std::string(33, 'k')); },
        "revoke_did_key.fragment");
  check([](v1::TxBody& b) { b.mutable_rotate_did_key()->set_fragment("key-2"); },
        "rotate_did_key.public_key");
  check(
      [&](v1::TxBody& b) {
        b.mutable_rotate_did_key()->set_fragment("key-2");
        b.mutable_rotate_did_key()->set_public_key(Raw(Person(kBob).public_key()));
        b.mutable_rotate_did_key()->set_signature(std::string(63, '\1'));
      },
      "rotate_did_key.signature");
  check([](v1::TxBody& b) { b.mutable_set_did_service(); }, "set_did_service.fragment");
  check([](v1::TxBody& b) { b.mutable_remove_did_service(); }, "remove_did_service.fragment");
  check(
      [](v1::TxBody& b) {
        b.mutable_council_decision()->set_did("did:civitas:abc");
        b.mutable_council_decision()->set_action(v1::COUNCIL_ACTION_APPROVE);
      },
      "council_decision.did");
  check(
      [&](v1::TxBody& b) {
        b.mutable_council_decision()->set_did(DeriveDid(Person(kBob).public_key()));
        b.mutable_council_decision()->set_action(static_cast<v1::CouncilAction>(7));
      },
      "council_decision.action");
  check([](v1::TxBody& b) { b.mutable_propose_spend()->set_to("x"); }, "propose_spend.to");
  check([](v1::TxBody& b) { b.mutable_propose_param(); }, "propose_param.contract");
  check([](v1::TxBody& b) { b.mutable_propose_council_change(); }, "propose_council_change.member");
  check([](v1::TxBody& b) { b.mutable_propose_upgrade()->set_target(std::string(20, '\1')); },
        "propose_upgrade.source");
  check([](v1::TxBody& b) { b.mutable_vote()->set_proposal_id(1); }, "vote.choice");
}

// docs/PROTOCOL.md's register-DID vector, computed from the text by
// tests/vectors/protocol_vectors.py.
TEST(TypedActionVector, RegisterDidBodyAndIdMatchTheSpecification) {
  std::ifstream in(std::string(CIVITAS_SOURCE_DIR) + "/tests/data/protocol_vectors.json");
  ASSERT_TRUE(in.good());
  auto j = nlohmann::json::parse(in);
  auto pk = FixedFromHex<32>(j["public_key"].get<std::string>());
  ASSERT_TRUE(pk);
  v1::TxBody body;
  body.set_chain_id("civitas-test");
  body.set_gas_limit(100'000);
  body.mutable_register_did()->set_public_key(std::string(AsStringView(*pk)));
  const std::string bytes = body.SerializeAsString();
  EXPECT_EQ(ToHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
            j["register_did_tx_body"]);
  EXPECT_EQ(ToHex(TxSigningHash(bytes)), j["register_did_tx_signing_hash"]);
  EXPECT_EQ(ToHex(TxId(*pk, bytes)), j["register_did_tx_id"]);
}

}  // namespace
}  // namespace civitas::nation::testing
