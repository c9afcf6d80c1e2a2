// The readers the node's API answers with: DID resolution at any height, citizenship, the
// council, proposals and tallies, the treasury.
#include "genesis/nation_state.h"
#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

crypto::SecretKey FixedKey() {
  Hash32 secret;
  secret.fill(0x01);
  return *crypto::SecretKey::FromBytes(secret);
}

// The test vector of docs/NATION.md: secret key 0x0101...01, registered at height 2 with a
// service added at height 3.
constexpr const char* kVectorDid = "did:civitas:WArP7xq2WE3XQTqy2EjrXD";
constexpr const char* kVectorResolution =
    R"({"@context":"https://w3id.org/did-resolution/v1","didDocument":{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"assertionMethod":["did:civitas:WArP7xq2WE3XQTqy2EjrXD#key-1"],"authentication":["did:civitas:WArP7xq2WE3XQTqy2EjrXD#key-1"],"capabilityInvocation":["did:civitas:WArP7xq2WE3XQTqy2EjrXD#key-1"],"controller":"did:civitas:WArP7xq2WE3XQTqy2EjrXD","id":"did:civitas:WArP7xq2WE3XQTqy2EjrXD","service":[{"id":"did:civitas:WArP7xq2WE3XQTqy2EjrXD#home","serviceEndpoint":"https://civitas.example","type":"LinkedDomains"}],"verificationMethod":[{"controller":"did:civitas:WArP7xq2WE3XQTqy2EjrXD","id":"did:civitas:WArP7xq2WE3XQTqy2EjrXD#key-1","publicKeyMultibase":"zQ3shPGDBqncPy2hKP2ka3J5oM2Uj6Q9ucWr46k4ryegvm2Rk","type":"Multikey"}]},"didDocumentMetadata":{"created":"2026-11-23T00:00:02Z","createdHeight":2,"deactivated":false,"updated":"2026-11-23T00:00:03Z","updatedHeight":3,"versionId":"2"},"didResolutionMetadata":{"contentType":"application/did+ld+json"}})";

TEST_F(NationTest, DidDocumentTestVector) {
  const crypto::SecretKey key = FixedKey();
  Block({SignTransfer(Person(kAlice), AddressOfKey(key), 10'000'000)});
  ASSERT_TRUE(Ok(Do(key, RegisterDid(key.public_key()))));
  ASSERT_TRUE(Ok(Do(key, SetDidService("home", "LinkedDomains", "https://civitas.example"))));
  const std::string did = DeriveDid(key.public_key());
  auto resolved = ResolveDid(state_, did, BlockTime);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(did, kVectorDid);
  EXPECT_EQ(resolved->dump(), kVectorResolution);
}

// A validator's P2P endpoint on chain (docs/COUNCIL.md, "Endpoints on chain"): the `p2p`
// service of type CivitasP2P in the DID its validator key controls, and nothing else.
TEST_F(NationTest, ValidatorEndpointIsTheP2pServiceOfTheKeysDid) {
  const crypto::SecretKey& v = Person(kAlice);
  const crypto::SecretKey fresh = crypto::SecretKey::Generate();
  auto endpoint = [&](const crypto::SecretKey& k) {
    return *ReadValidatorEndpoint(state_, k.public_key());
  };
  EXPECT_EQ(endpoint(v), std::nullopt);  // no DID
  ASSERT_TRUE(Ok(Do(v, RegisterDid(v.public_key()))));
  EXPECT_EQ(endpoint(v), std::nullopt);  // no service
  ASSERT_TRUE(Ok(Do(v, SetDidService("p2p", "LinkedDomains", "alice.example:26656"))));
  EXPECT_EQ(endpoint(v), std::nullopt);  // another type
  ASSERT_TRUE(Ok(Do(v, SetDidService("p2p", "CivitasP2P", "https://alice.example/"))));
  EXPECT_EQ(endpoint(v), std::nullopt);  // not host:port
  ASSERT_TRUE(Ok(Do(v, SetDidService("node", "CivitasP2P", "alice.example:26656"))));
  EXPECT_EQ(endpoint(v), std::nullopt);  // another fragment
  ASSERT_TRUE(Ok(Do(v, SetDidService("p2p", "CivitasP2P", "alice.example:26656"))));
  EXPECT_EQ(endpoint(v), "alice.example:26656");
  ASSERT_TRUE(Ok(Do(v, SetDidService("p2p", "CivitasP2P", "[2001:db8::1]:26656"))));
  EXPECT_EQ(endpoint(v), "[2001:db8::1]:26656");
  EXPECT_EQ(endpoint(Person(kBob)), std::nullopt);  // someone else's key
  // The DID's controller moves to another key: the validator key has no record any more.
  Block({SignTransfer(v, AddressOfKey(fresh), 10'000'000)});
  ASSERT_TRUE(Ok(Do(v, Rotation(v, fresh, "key-2"))));
  EXPECT_EQ(endpoint(v), std::nullopt);
  EXPECT_EQ(endpoint(fresh), "[2001:db8::1]:26656");
  ASSERT_TRUE(Ok(Do(fresh, DeactivateDid())));
  EXPECT_EQ(endpoint(fresh), std::nullopt);
}

TEST(DidMetadataTime, IsXmlDateTimeInUtcToTheSecond) {
  EXPECT_EQ(XmlDateTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(XmlDateTime(1'795'442'700'999), "2026-11-23T14:05:00Z");  // milliseconds dropped
  EXPECT_EQ(XmlDateTime(951'782'400'000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(XmlDateTime(4'102'444'799'999), "2099-12-31T23:59:59Z");
}

TEST_F(NationTest, DidResolvesAsItWasAtEveryHeight) {
  const crypto::SecretKey& alice = Person(kAlice);
  const crypto::SecretKey fresh = crypto::SecretKey::Generate();
  const DidId id = Did(alice);
  const std::string did = DeriveDid(alice.public_key());
  std::vector<civitas::testing::MapState> at;  // the state after each step
  ASSERT_TRUE(Ok(Do(alice, RegisterDid(alice.public_key()))));
  at.push_back(state_);
  ASSERT_TRUE(Ok(Do(alice, AddDidKey("signing", Person(kBob).public_key()))));
  at.push_back(state_);
  ASSERT_TRUE(Ok(Do(alice, SetDidService("inbox", "DIDCommMessaging", "https://a.example/in"))));
  at.push_back(state_);
  ASSERT_TRUE(Ok(Do(alice, RevokeDidKey("signing"))));
  ASSERT_TRUE(Ok(Do(alice, RemoveDidService("inbox"))));
  Block({SignTransfer(alice, AddressOfKey(fresh), 10'000'000)});
  ASSERT_TRUE(Ok(Do(alice, Rotation(alice, fresh, "key-2"))));
  at.push_back(state_);
  ASSERT_TRUE(Ok(Do(fresh, DeactivateDid())));
  at.push_back(state_);

  auto read = [&](const civitas::testing::MapState& s) { return **ReadDid(s, id); };
  DidRecord v1 = read(at[0]);
  EXPECT_EQ(v1.did, did);
  EXPECT_EQ(v1.version, 1u);
  ASSERT_EQ(v1.keys.size(), 1u);
  EXPECT_EQ(v1.keys[0].fragment, "key-1");
  EXPECT_EQ(v1.keys[0].key, alice.public_key());
  EXPECT_EQ(v1.controller_fragment, "key-1");

  DidRecord v3 = read(at[2]);
  EXPECT_EQ(v3.version, 3u);
  EXPECT_EQ(v3.created, v1.created);
  EXPECT_GT(v3.updated, v1.updated);
  EXPECT_EQ(v3.keys.size(), 2u);
  ASSERT_EQ(v3.services.size(), 1u);
  EXPECT_EQ(v3.services[0].endpoint, "https://a.example/in");
  auto doc = DidDocument(v3);
  EXPECT_EQ(doc["verificationMethod"].size(), 2u);
  EXPECT_EQ(doc["service"][0]["type"], "DIDCommMessaging");

  DidRecord rotated = read(at[3]);
  EXPECT_EQ(rotated.version, 6u);
  ASSERT_EQ(rotated.keys.size(), 1u);  // key-1 rotated away, "signing" revoked
  EXPECT_EQ(rotated.keys[0].fragment, "key-2");
  EXPECT_EQ(rotated.controller_key, fresh.public_key());
  EXPECT_TRUE(rotated.services.empty());
  EXPECT_EQ(**DidOfAddress(at[3], AddressOfKey(fresh)), id);
  EXPECT_FALSE(DidOfAddress(at[3], AddressOfKey(alice))->has_value());
  EXPECT_FALSE(rotated.deactivated.has_value());

  auto gone = ResolveDid(at[4], did, BlockTime);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ((*gone)["didDocumentMetadata"]["deactivated"], true);
  EXPECT_EQ((*gone)["didDocumentMetadata"]["versionId"], "7");
  EXPECT_FALSE((*gone)["didDocument"].contains("verificationMethod"));
  // created and updated are the times of the blocks whose heights the registry keeps.
  const auto& meta = (*gone)["didDocumentMetadata"];
  EXPECT_EQ(meta["createdHeight"], v1.created);
  EXPECT_EQ(meta["created"], XmlDateTime(BlockTimeMs(v1.created)));
  EXPECT_GT(meta["updatedHeight"].get<uint64_t>(), rotated.updated);
  EXPECT_EQ(meta["updated"], XmlDateTime(BlockTimeMs(meta["updatedHeight"].get<uint64_t>())));
  // Without the block's time there is no answer (a store missing a block is damaged).
  auto no_time = ResolveDid(at[4], did, [](uint64_t h) -> Result<uint64_t> {
    return Status::NotFound("no block at height " + std::to_string(h));
  });
  EXPECT_FALSE(no_time.ok());
  // The version history says where each version was made.
  EXPECT_EQ(**DidVersionHeight(at[4], id, 1), v1.created);
  EXPECT_EQ(**DidVersionHeight(at[4], id, 3), v3.updated);
  EXPECT_FALSE(DidVersionHeight(at[4], id, 8)->has_value());

  EXPECT_EQ((*ResolveDid(state_, "did:civitas:0OIl", BlockTime))["didResolutionMetadata"]["error"],
            "invalidDid");
  EXPECT_EQ((*ResolveDid(state_, DeriveDid(Person(kDave).public_key()),
                         BlockTime))["didResolutionMetadata"]["error"],
            "notFound");
}

TEST_F(NationTest, CitizenshipAndCouncilReaders) {
  auto council = ReadCouncil(state_);
  ASSERT_TRUE(council.ok());
  ASSERT_EQ(council->size(), 3u);
  EXPECT_EQ((*council)[1], AddressOfKey(council_[1]));
  EXPECT_EQ(**ReadParam(state_, CitizenshipAddress(), "approvals"), 2);
  EXPECT_EQ(**ReadParam(state_, GovernanceAddress(), "voting_period"),
            static_cast<int64_t>(kVotingPeriod));
  EXPECT_FALSE(ReadParam(state_, GovernanceAddress(), "colour")->has_value());

  MakeCitizen(kBob);
  const uint64_t issued = height_;
  MakeCitizen(kAlice);
  ASSERT_TRUE(Ok(Do(Person(kCarol), RegisterDid(Person(kCarol).public_key()))));
  ASSERT_TRUE(Ok(Do(Person(kCarol), ApplyForCitizenship())));
  auto carol = ReadCitizenship(state_, Did(Person(kCarol)));
  EXPECT_EQ(carol->status, CitizenStatus::kApplied);
  EXPECT_FALSE(carol->InGoodStanding(height_));
  auto bob = ReadCitizenship(state_, Did(Person(kBob)));
  EXPECT_EQ(bob->status, CitizenStatus::kCitizen);
  EXPECT_EQ(bob->since, issued);
  EXPECT_EQ(bob->expiry, issued + kValidity);
  EXPECT_TRUE(bob->InGoodStanding(height_));
  EXPECT_FALSE(bob->InGoodStanding(issued + kValidity));
  EXPECT_EQ(CitizenStatusName(bob->status), "citizen");

  auto list = ListCitizens(state_, 0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].did, Did(Person(kBob)));
  EXPECT_EQ((*list)[1].did, Did(Person(kAlice)));
  EXPECT_EQ(ListCitizens(state_, 1, 10)->size(), 1u);
  EXPECT_EQ(*CitizenCount(state_), 2u);
}

TEST_F(NationTest, ProposalTallyAndTreasuryReaders) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  const TreasuryInfo before = *ReadTreasury(state_);
  EXPECT_EQ(before.balance, Balance(TreasuryAddress()));
  EXPECT_EQ(before.spent, 0u);
  const int64_t id =
      ReturnedInt(Do(Person(kAlice), ProposeSpend(Addr(kDave), 4242, 0, 0, "a bench", kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 600))));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kAbstain, 500))));
  auto p = **ReadProposal(state_, id);
  EXPECT_EQ(*ProposalCount(state_), 1u);
  EXPECT_EQ(p.kind, ProposalKind::kSpend);
  EXPECT_EQ(p.status, ProposalStatus::kVoting);
  EXPECT_EQ(p.proposer, Addr(kAlice));
  EXPECT_EQ(p.deposit, kDeposit);
  EXPECT_EQ(p.end, p.start + kVotingPeriod);
  EXPECT_EQ(p.text, "a bench");
  EXPECT_EQ(p.a, std::string(AsStringView(Addr(kDave))));
  EXPECT_EQ(p.yes, 600u);
  EXPECT_EQ(p.abstain, 500u);
  EXPECT_EQ(p.voters, 2u);
  Tally t = *TallyOf(state_, p);
  EXPECT_TRUE(t.quorum_reached);
  EXPECT_TRUE(t.passing);
  EXPECT_FALSE(ReadProposal(state_, 2)->has_value());

  Wait(kVotingPeriod);
  ASSERT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(id))));
  p = **ReadProposal(state_, id);
  EXPECT_EQ(p.status, ProposalStatus::kExecuted);
  EXPECT_EQ(p.executed, height_);
  EXPECT_TRUE(InForce(p, height_));
  EXPECT_EQ(ProposalStatusName(p.status), "executed");
  const TreasuryInfo after = *ReadTreasury(state_);
  EXPECT_EQ(after.spent, 4242u);
  EXPECT_EQ(after.balance, Balance(TreasuryAddress()));
}

}  // namespace
}  // namespace civitas::nation::testing
