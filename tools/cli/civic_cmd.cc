// The nation's commands: typed civic transactions (signed with the node's chain id and the
// sender's next nonce) and the nation's queries (docs/NATION.md).
//   civitas did register|add-key|rotate-key|revoke-key|set-service|deactivate --key FILE ...
//   civitas did sign-rotation --key NEWFILE --did DID --old-key HEX --version N
//   civitas did resolve DID [--height H | --version N | --prove --genesis FILE]
//   civitas citizenship apply|renew --key FILE | approve|suspend|reinstate|revoke DID --key FILE
//   civitas citizenship show DID [--prove --genesis FILE] | list [--page-size N --page-token T]
//   civitas proposal create --kind text|spend|param|council|upgrade ... --key FILE
//   civitas proposal show|tally ID [--prove --genesis FILE] | list
//   civitas proposal execute|pay|withdraw|cancel ID --key FILE
//   civitas vote ID yes|no|abstain [--weight N] --key FILE
//   civitas votes [--did DID] [--address HEX] | --withdraw-all --key FILE
//   civitas treasury [--prove --genesis FILE | --movements --from H --to H]
// With --prove, the answer comes with a CertifiedState and is checked against the genesis file
// (genesis/proven_answers.h); what was checked is printed under "verified".

#include <functional>

#include "genesis/nation_answers.h"
#include "genesis/proven_answers.h"
#include "ledger/civic_calls.h"
#include "ledger/did.h"
#include "ledger/genesis.h"
#include "ledger/tx.h"
#include "tools/cli/cli.h"

namespace civitas::cli {
namespace {

template <size_t N>
std::string Raw(const std::array<uint8_t, N>& a) {
  return std::string(AsStringView(a));
}

class Civic : public Commands {
 public:
  void Register(CLI::App& app) override {
    auto* did = app.add_subcommand("did", "DIDs: register, keys, services, resolve");
    did->require_subcommand(1);
    Tx(did, "register", "register the DID of your key", [](v1::TxBody& b, const Signer& s) {
      b.mutable_register_did()->set_public_key(std::string(AsStringView(s.public_key)));
      return Status::Ok();
    });
    auto* add = Tx(did, "add-key", "add a verification key", [this](v1::TxBody& b, const Signer&) {
      auto k = FixedFromHex<32>(public_key_);
      if (!k) return Status::Invalid("bad_request", "--public-key must be 64 hex digits");
      b.mutable_add_did_key()->set_fragment(fragment_);
      b.mutable_add_did_key()->set_public_key(std::string(AsStringView(*k)));
      return Status::Ok();
    });
    KeyOptions(add);
    auto* rotate = Tx(did, "rotate-key", "make a new key the controller; the old one is revoked",
                      [this](v1::TxBody& b, const Signer& s) { return FillRotation(b, s); });
    rotate->add_option("--fragment", fragment_, "key id of the new key, e.g. key-2")->required();
    rotate->add_option("--did", did_, "the DID you control (did:civitas:...)")->required();
    auto* new_key = rotate->add_option("--new-key", new_key_,
                                       "the new key's file or keyring name: it signs its consent");
    auto* given = rotate->add_option("--public-key", public_key_,
                                     "the new key (64 hex digits), with --signature");
    rotate
        ->add_option("--signature", signature_,
                     "the new key's consent (128 hex digits, from `did sign-rotation`)")
        ->needs(given);
    given->excludes(new_key);
    rotate->add_option("--version", version_,
                       "the DID's versionId before the rotation (default: ask the node)");
    auto* consent = Offline(
        did, "sign-rotation", "sign, with the new key, its consent to control a DID", [this]() {
          auto key = LoadSigningKey(key_, *globals_);
          if (!key.ok()) return Fail(key.status());
          auto id = ParseDid(did_);
          auto old_key = FixedFromHex<32>(old_key_);
          if (!id) return Fail("--did must be a did:civitas: DID", "bad_request");
          if (!old_key) return Fail("--old-key must be 64 hex digits", "bad_request");
          const crypto::Signature sig = nation::SignDidRotation(*key, *id, *old_key, version_);
          Print({{"public_key", Hex(Raw(key->public_key()))}, {"signature", Hex(Raw(sig))}},
                globals_->json());
          return 0;
        });
    consent->add_option("--key", key_, "the new key's file or keyring name")->required();
    consent->add_option("--did", did_, "the DID it will control")->required();
    consent->add_option("--old-key", old_key_, "the DID's controller key now (64 hex digits)")
        ->required();
    consent->add_option("--version", version_, "the DID's versionId now")->required();
    auto* revoke = Tx(did, "revoke-key", "revoke a key", [this](v1::TxBody& b, const Signer&) {
      b.mutable_revoke_did_key()->set_fragment(fragment_);
      return Status::Ok();
    });
    revoke->add_option("--fragment", fragment_, "key id, e.g. key-2")->required();
    auto* service = Tx(did, "set-service", "publish a service endpoint (empty: remove it)",
                       [this](v1::TxBody& b, const Signer&) {
                         if (endpoint_.empty()) {
                           b.mutable_remove_did_service()->set_fragment(fragment_);
                         } else {
                           auto* s = b.mutable_set_did_service();
                           s->set_fragment(fragment_);
                           s->set_type(type_);
                           s->set_endpoint(endpoint_);
                         }
                         return Status::Ok();
                       });
    service->add_option("--fragment", fragment_, "service id")->required();
    service->add_option("--type", type_, "service type")->default_val("LinkedDomains");
    service->add_option("--endpoint", endpoint_, "URL");
    Tx(did, "deactivate", "deactivate your DID for ever", [](v1::TxBody& b, const Signer&) {
      b.mutable_deactivate_did();
      return Status::Ok();
    });
    auto* resolve = Query(did, "resolve", "resolve a DID to its document", [this](Stub& stub) {
      v1::ResolveDidRequest req;
      req.set_did(did_);
      req.set_at_height(height_);
      req.set_version_id(version_);
      req.set_prove(prove_);
      v1::ResolveDidResponse resp;
      return Call(
          stub, &Stub::ResolveDid, req, &resp,
          [&] {
            auto result = json::parse(resp.result_json(), nullptr, false);
            if (result.is_discarded()) result = json{{"result_json", resp.result_json()}};
            result["height"] = resp.height();
            return result;
          },
          [&](const Genesis& g) {
            return nation::CheckDidAnswer(g.chain_id, g.first_epoch(), did_, resp);
          });
    });
    ProveOptions(resolve);
    resolve->add_option("did", did_, "did:civitas:...")->required();
    resolve->add_option("--height", height_, "resolve as of this height");
    resolve->add_option("--version", version_, "resolve this versionId");

    auto* cit = app.add_subcommand("citizenship", "apply, council decisions, records");
    cit->require_subcommand(1);
    Tx(cit, "apply", "apply for citizenship with your DID", [](v1::TxBody& b, const Signer&) {
      b.mutable_apply_for_citizenship();
      return Status::Ok();
    });
    Tx(cit, "renew", "renew your citizenship before it expires", [](v1::TxBody& b, const Signer&) {
      b.mutable_renew_citizenship();
      return Status::Ok();
    });
    const std::pair<const char*, v1::CouncilAction> decisions[] = {
        {"approve", v1::COUNCIL_ACTION_APPROVE},
        {"suspend", v1::COUNCIL_ACTION_SUSPEND},
        {"reinstate", v1::COUNCIL_ACTION_REINSTATE},
        {"revoke", v1::COUNCIL_ACTION_REVOKE}};
    for (const auto& [name, action] : decisions) {
      auto* cmd = Tx(cit, name, "a council member's decision on a DID",
                     [this, a = action](v1::TxBody& b, const Signer&) {
                       b.mutable_council_decision()->set_did(did_);
                       b.mutable_council_decision()->set_action(a);
                       return Status::Ok();
                     });
      cmd->add_option("did", did_, "did:civitas:...")->required();
    }
    auto* show = Query(cit, "show", "the citizenship of a DID", [this](Stub& stub) {
      v1::GetCitizenshipRequest req;
      req.set_did(did_);
      req.set_at_height(height_);
      req.set_prove(prove_);
      v1::GetCitizenshipResponse resp;
      return Call(
          stub, &Stub::GetCitizenship, req, &resp,
          [&] {
            json j = CitizenJson(resp.citizenship());
            j["controller"] = resp.citizenship().controller();
            j["height"] = resp.height();
            return j;
          },
          [&](const Genesis& g) -> Result<nation::CheckedAnswer> {
            auto id = ParseDid(did_);
            if (!id) return civitas::Status::Invalid("bad_request", "not a did:civitas: DID");
            return nation::CheckCitizenshipAnswer(g.chain_id, g.first_epoch(), *id, resp);
          });
    });
    ProveOptions(show);
    show->add_option("did", did_, "did:civitas:...")->required();
    show->add_option("--height", height_, "as of this height");
    auto* list = Query(cit, "list", "citizens in order of first issue", [this](Stub& stub) {
      v1::ListCitizensRequest req;
      req.set_page_size(page_size_);
      req.set_page_token(page_token_);
      v1::ListCitizensResponse resp;
      return Call(stub, &Stub::ListCitizens, req, &resp, [&] {
        json citizens = json::array();
        for (const auto& c : resp.citizens()) citizens.push_back(CitizenJson(c));
        return json{{"citizens", citizens},
                    {"total", resp.total()},
                    {"next_page_token", resp.next_page_token()}};
      });
    });
    PageOptions(list);

    auto* prop = app.add_subcommand("proposal", "governance proposals");
    prop->require_subcommand(1);
    auto* create = Tx(prop, "create", "propose (with a deposit)",
                      [this](v1::TxBody& b, const Signer&) { return FillProposal(b); });
    create->add_option("--kind", kind_, "text, spend, param, council or upgrade")
        ->required()
        ->check(CLI::IsMember({"text", "spend", "param", "council", "upgrade"}));
    create->add_option("--deposit", deposit_, "tokens sent as the deposit")->required();
    create->add_option("--text", text_, "text: the resolution; spend: a note");
    create->add_option("--sunset", sunset_, "height after which it lapses (0: never)");
    create->add_option("--to", address_, "spend: payee address");
    create->add_option("--amount", amount_, "spend: amount");
    create->add_option("--every", every_, "spend: pay every N blocks until --sunset");
    create->add_option("--contract", address_, "param: the system contract's address");
    create->add_option("--name", name_, "param: parameter name");
    create->add_option("--value", value_, "param: new value");
    create->add_option("--member", address_,
                       "council: joining, the member's validator key (64 hex digits); leaving, "
                       "its address or key");
    create->add_flag("--remove", remove_, "council: remove instead of add");
    create->add_option("--target", address_, "upgrade: contract to upgrade");
    create->add_option("--source", source_, "upgrade: contract holding the new code");
    for (const char* name : {"show", "tally"}) {
      auto* cmd = Query(prop, name, "a proposal and its tally", [this](Stub& stub) {
        v1::GetProposalRequest req;
        req.set_id(id_);
        req.set_at_height(height_);
        req.set_prove(prove_);
        v1::GetProposalResponse resp;
        return Call(
            stub, &Stub::GetProposal, req, &resp,
            [&] {
              json j = ProposalJson(resp.proposal());
              j["height"] = resp.height();
              return j;
            },
            [&](const Genesis& g) {
              return nation::CheckProposalAnswer(g.chain_id, g.first_epoch(), id_, resp);
            });
      });
      ProveOptions(cmd);
      cmd->add_option("id", id_, "proposal id")->required();
      cmd->add_option("--height", height_, "as of this height");
    }
    auto* plist = Query(prop, "list", "proposals, newest first", [this](Stub& stub) {
      v1::ListProposalsRequest req;
      req.set_page_size(page_size_);
      req.set_page_token(page_token_);
      req.set_newest_first(true);
      v1::ListProposalsResponse resp;
      return Call(stub, &Stub::ListProposals, req, &resp, [&] {
        json ps = json::array();
        for (const auto& p : resp.proposals()) ps.push_back(ProposalJson(p));
        return json{{"proposals", ps},
                    {"total", resp.total()},
                    {"next_page_token", resp.next_page_token()}};
      });
    });
    PageOptions(plist);
    using Fill = std::function<void(v1::TxBody&, uint64_t)>;
    const std::tuple<const char*, const char*, Fill> settles[] = {
        {"execute", "settle a proposal after its vote",
         [](v1::TxBody& b, uint64_t id) { b.mutable_execute_proposal()->set_proposal_id(id); }},
        {"pay", "pay a recurring spend what is due",
         [](v1::TxBody& b, uint64_t id) { b.mutable_pay_recurring_spend()->set_proposal_id(id); }},
        {"withdraw", "take back the tokens locked on your vote",
         [](v1::TxBody& b, uint64_t id) { b.mutable_withdraw_vote()->set_proposal_id(id); }},
        {"cancel", "withdraw your own proposal while its vote is open (the deposit returns)",
         [](v1::TxBody& b, uint64_t id) { nation::SetCall(nation::CancelProposal(id), &b); }}};
    for (const auto& [name, help, fill] : settles) {
      auto* cmd = Tx(prop, name, help, [this, f = fill](v1::TxBody& b, const Signer&) {
        f(b, id_);
        return Status::Ok();
      });
      cmd->add_option("id", id_, "proposal id")->required();
    }

    auto* vote = Tx(&app, "vote",
                    "vote on a proposal as your DID; under the token and quadratic methods "
                    "--weight tokens are locked until its end",
                    [this](v1::TxBody& b, const Signer&) {
                      auto* v = b.mutable_vote();
                      v->set_proposal_id(id_);
                      v->set_choice(choice_ == "yes"  ? v1::VOTE_CHOICE_YES
                                    : choice_ == "no" ? v1::VOTE_CHOICE_NO
                                                      : v1::VOTE_CHOICE_ABSTAIN);
                      v->set_weight(weight_);
                      return Status::Ok();
                    });
    vote->add_option("id", id_, "proposal id")->required();
    vote->add_option("choice", choice_, "yes, no or abstain")
        ->required()
        ->check(CLI::IsMember({"yes", "no", "abstain"}));
    vote->add_option("--weight", weight_,
                     "tokens to lock on the vote (token, quadratic); 0 or none under citizen");

    auto* votes = Query(&app, "votes",
                        "your part in governance: your DID's votes and the tokens your address has "
                        "locked, newest proposal first",
                        [this](Stub& stub) { return MyVotes(stub); });
    votes->add_option("--did", did_, "the DID whose votes to list");
    votes->add_option("--address", address_, "the address (40 hex digits) whose locks to list");
    PageOptions(votes);
    votes->add_flag("--withdraw-all", withdraw_all_,
                    "take back every token lock of --key that may be withdrawn now (one "
                    "withdraw_vote per proposal)");
    votes->add_option("--key", key_, "with --withdraw-all: your key file");
    votes->add_option("--gas-limit", gas_limit_, "with --withdraw-all: gas limit of each")
        ->capture_default_str();
    votes->add_flag("--wait", wait_, "with --withdraw-all: wait for each commit");

    auto* treasury = Query(&app, "treasury", "the treasury's balance and movements",
                           [this](Stub& stub) { return Treasury(stub); });
    treasury->add_flag("--movements", movements_, "list movements (fees, in, out)");
    treasury->add_option("--from", from_, "first height of the movements");
    treasury->add_option("--to", to_, "last height of the movements");
    ProveOptions(treasury)->excludes("--movements");
  }

  std::optional<int> Run(const Globals& g) override {
    globals_ = &g;
    for (const auto& [cmd, run] : commands_) {
      if (*cmd) return run();
    }
    return std::nullopt;
  }

 private:
  using Stub = v1::Node::Stub;
  struct Signer {
    crypto::PublicKey public_key{};
  };
  using FillBody = std::function<Status(v1::TxBody&, const Signer&)>;

  // A signed civic transaction: --key, --nonce, --gas-limit, --wait.
  CLI::App* Tx(CLI::App* parent, const char* name, const char* help, FillBody fill) {
    auto* cmd = parent->add_subcommand(name, help);
    cmd->add_option("--key", key_, "your key file (plain or encrypted)")->required();
    cmd->add_option("--nonce", nonce_, "your next nonce (default: ask the node)");
    cmd->add_option("--gas-limit", gas_limit_, "gas limit")->capture_default_str();
    cmd->add_flag("--wait", wait_, "wait for the commit and print the receipt");
    commands_.push_back({cmd, [this, fill = std::move(fill)] { return SignAndSubmit(fill); }});
    return cmd;
  }
  CLI::App* Query(CLI::App* parent, const char* name, const char* help,
                  std::function<int(Stub&)> run) {
    auto* cmd = parent->add_subcommand(name, help);
    commands_.push_back({cmd, [this, run = std::move(run)] { return run(*Connect(*globals_)); }});
    return cmd;
  }
  // A command that needs no node.
  CLI::App* Offline(CLI::App* parent, const char* name, const char* help,
                    std::function<int()> run) {
    auto* cmd = parent->add_subcommand(name, help);
    commands_.push_back({cmd, std::move(run)});
    return cmd;
  }
  // rotate_did_key: the new key's consent is signed here with --new-key (over the DID's version,
  // asked of the node unless --version gives it), or given with --public-key and --signature.
  Status FillRotation(v1::TxBody& b, const Signer& signer) {
    auto* r = b.mutable_rotate_did_key();
    r->set_fragment(fragment_);
    if (new_key_.empty()) {
      auto k = FixedFromHex<32>(public_key_);
      auto sig = FixedFromHex<64>(signature_);
      if (!k || !sig) {
        return Status::Invalid("bad_request",
                               "give --new-key, or --public-key (64 hex digits) and --signature "
                               "(128 hex digits)");
      }
      r->set_public_key(Raw(*k));
      r->set_signature(Raw(*sig));
      return Status::Ok();
    }
    auto id = ParseDid(did_);
    if (!id) return Status::Invalid("bad_request", "--did must be a did:civitas: DID");
    auto key = LoadSigningKey(new_key_, *globals_);
    if (!key.ok()) return key.status();
    uint64_t version = version_;
    if (version == 0) {
      v1::ResolveDidRequest req;
      req.set_did(did_);
      v1::ResolveDidResponse resp;
      grpc::ClientContext ctx;
      SetDeadline(ctx, 30);
      auto st = Connect(*globals_)->ResolveDid(&ctx, req, &resp);
      if (!st.ok())
        return Status::Invalid("unavailable", "resolving " + did_ + ": " + st.error_message());
      version = resp.version_id();
    }
    r->set_public_key(Raw(key->public_key()));
    r->set_signature(Raw(nation::SignDidRotation(*key, *id, signer.public_key, version)));
    return Status::Ok();
  }
  void KeyOptions(CLI::App* cmd) {
    cmd->add_option("--fragment", fragment_, "key id, e.g. key-2")->required();
    cmd->add_option("--public-key", public_key_, "the key (64 hex digits)")->required();
  }
  // --prove: ask for a CertifiedState and check the answer against --genesis.
  CLI::Option* ProveOptions(CLI::App* cmd) {
    auto* prove = cmd->add_flag("--prove", prove_,
                                "verify the answer (Merkle proofs, commit certificate, council "
                                "changes) against --genesis; at the latest certified height");
    cmd->add_option("--genesis", genesis_path_, "the chain's genesis.json, for --prove");
    return prove;
  }
  void PageOptions(CLI::App* cmd) {
    cmd->add_option("--page-size", page_size_, "entries per page");
    cmd->add_option("--page-token", page_token_, "next_page_token of the previous page");
  }

  template <typename Req, typename Resp, typename Method, typename ToJson>
  int Call(Stub& stub, Method method, const Req& req, Resp* resp, ToJson to_json) {
    return Call(stub, method, req, resp, to_json, nullptr);
  }
  // With --prove, `check` (given the genesis) must accept the answer before it is printed.
  using Check = std::function<Result<nation::CheckedAnswer>(const Genesis&)>;
  template <typename Req, typename Resp, typename Method, typename ToJson>
  int Call(Stub& stub, Method method, const Req& req, Resp* resp, ToJson to_json,
           const Check& check) {
    std::optional<Genesis> genesis;
    if (prove_) {
      if (genesis_path_.empty()) return Fail("--prove needs --genesis FILE", "bad_request");
      auto g = LoadGenesisFile(genesis_path_);
      if (!g.ok()) return Fail(g.status());
      genesis = std::move(*g);
    }
    grpc::ClientContext ctx;
    SetDeadline(ctx, 30);
    auto s = (stub.*method)(&ctx, req, resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j = to_json();
    if (genesis && check) {
      auto checked = check(*genesis);
      if (!checked.ok()) {
        return Fail("the node's answer does not verify: " + checked.status().message(),
                    checked.status().reason());
      }
      j["verified"] = json{{"chain_id", genesis->chain_id},
                           {"genesis_hash", Hex(std::string(AsStringView(genesis->hash)))},
                           {"state_height", checked->height},
                           {"certified_by_block", checked->certified_by},
                           {"certified_at", nation::XmlDateTime(checked->certified_time_ms)},
                           {"epoch", checked->epoch},
                           {"council_changes_followed", checked->epoch_changes},
                           {"state_entries_proven", checked->entries},
                           {"block_times_proven", checked->dated_blocks}};
    }
    Print(j, globals_->json());
    return 0;
  }

  int SignAndSubmit(const FillBody& fill) {
    auto key = LoadSigningKey(key_, *globals_);
    if (!key.ok()) return Fail(key.status());
    auto stub = Connect(*globals_);
    TxContext tc;
    if (int rc = QueryTxContext(*stub, AddressOf(key->public_key()), nonce_, &tc)) return rc;
    v1::TxBody body;
    body.set_chain_id(tc.chain_id);
    body.set_nonce(tc.nonce);
    body.set_gas_limit(gas_limit_);
    Status filled = fill(body, Signer{key->public_key()});
    if (!filled.ok()) return Fail(filled);
    return Submit(*stub, SignTx(*key, body), wait_, globals_->json());
  }

  Result<Address> AddressArg(const std::string& hex, const char* option) {
    auto a = ParseAddress(hex);
    if (!a) return Status::Invalid("bad_request", std::string(option) + " must be 40 hex digits");
    return *a;
  }

  Status FillProposal(v1::TxBody& b) {
    if (kind_ == "text") {
      auto* p = b.mutable_propose_text();
      p->set_text(text_);
      p->set_sunset(sunset_);
      p->set_deposit(deposit_);
    } else if (kind_ == "spend") {
      auto to = AddressArg(address_, "--to");
      if (!to.ok()) return to.status();
      auto* p = b.mutable_propose_spend();
      p->set_to(Raw(*to));
      p->set_amount(amount_);
      p->set_every(every_);
      p->set_sunset(sunset_);
      p->set_note(text_);
      p->set_deposit(deposit_);
    } else if (kind_ == "param") {
      auto contract = AddressArg(address_, "--contract");
      if (!contract.ok()) return contract.status();
      auto* p = b.mutable_propose_param();
      p->set_contract(Raw(*contract));
      p->set_name(name_);
      p->set_value(value_);
      p->set_deposit(deposit_);
    } else if (kind_ == "council") {
      auto* p = b.mutable_propose_council_change();
      if (auto key = FixedFromHex<32>(address_)) {
        p->set_member(Raw(*key));
      } else if (remove_) {
        auto member = AddressArg(address_, "--member");
        if (!member.ok()) return member.status();
        p->set_member(Raw(*member));
      } else {
        return Status::Invalid("bad_request",
                               "--member of a joining member is its validator key (64 hex digits)");
      }
      p->set_add(!remove_);
      p->set_deposit(deposit_);
    } else {
      auto target = AddressArg(address_, "--target");
      if (!target.ok()) return target.status();
      auto source = AddressArg(source_, "--source");
      if (!source.ok()) return source.status();
      auto* p = b.mutable_propose_upgrade();
      p->set_target(Raw(*target));
      p->set_source(Raw(*source));
      p->set_deposit(deposit_);
    }
    return Status::Ok();
  }

  static json CitizenJson(const v1::CitizenshipRecord& c) {
    return {{"did", c.did()},         {"status", c.status()},
            {"since", c.since()},     {"expiry", c.expiry()},
            {"applied", c.applied()}, {"in_good_standing", c.in_good_standing()}};
  }
  static json ProposalJson(const v1::ProposalInfo& p) {
    return {{"id", p.id()},
            {"kind", p.kind()},
            {"status", p.status()},
            {"failure", p.failure()},
            {"proposer", Hex(p.proposer())},
            {"text", p.text()},
            {"start", p.start()},
            {"end", p.end()},
            {"eta", p.eta()},
            {"method", p.method()},
            {"quorum", p.quorum()},
            {"threshold", p.threshold()},
            {"dropped", p.dropped()},
            {"executed", p.executed()},
            {"sunset", p.sunset()},
            {"in_force", p.in_force()},
            {"yes", p.tally().yes()},
            {"no", p.tally().no()},
            {"abstain", p.tally().abstain()},
            {"voters", p.voters()},
            {"quorum_reached", p.tally().quorum_reached()},
            {"passing", p.tally().passing()}};
  }

  // --withdraw-all: every lock of --key's address that ListMyVotes says may be withdrawn now,
  // newest proposal first, over at most 100 pages of 100 proposals.
  int WithdrawAll(Stub& stub) {
    if (key_.empty()) return Fail("--withdraw-all needs --key", "bad_request");
    auto key = LoadSigningKey(key_, *globals_);
    if (!key.ok()) return Fail(key.status());
    const Address me = AddressOf(key->public_key());
    std::vector<uint64_t> ids;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      v1::ListMyVotesRequest req;
      req.set_address(std::string(AsStringView(me)));
      req.set_page_size(100);
      req.set_page_token(token);
      v1::ListMyVotesResponse resp;
      grpc::ClientContext ctx;
      SetDeadline(ctx, 30);
      grpc::Status s = stub.ListMyVotes(&ctx, req, &resp);
      if (!s.ok()) return FailRpc(s, ctx);
      for (const auto& v : resp.votes()) {
        if (v.withdrawable()) ids.push_back(v.proposal_id());
      }
      token = resp.next_page_token();
      if (token.empty()) break;
    }
    if (ids.empty()) {
      Print(json{{"withdrawable", json::array()}}, globals_->json());
      return 0;
    }
    TxContext tc;
    if (int rc = QueryTxContext(stub, me, -1, &tc)) return rc;
    for (size_t i = 0; i < ids.size(); ++i) {
      v1::TxBody body;
      body.set_chain_id(tc.chain_id);
      body.set_nonce(tc.nonce + i);
      body.set_gas_limit(gas_limit_);
      body.mutable_withdraw_vote()->set_proposal_id(ids[i]);
      if (int rc = Submit(stub, SignTx(*key, body), wait_, globals_->json())) return rc;
    }
    return 0;
  }

  int MyVotes(Stub& stub) {
    if (withdraw_all_) return WithdrawAll(stub);
    v1::ListMyVotesRequest req;
    req.set_did(did_);
    if (!address_.empty()) {
      auto a = ParseAddress(address_);
      if (!a) return Fail(Status::Invalid("bad_request", "--address is 40 hex digits"));
      req.set_address(std::string(AsStringView(*a)));
    }
    req.set_page_size(page_size_);
    req.set_page_token(page_token_);
    v1::ListMyVotesResponse resp;
    return Call(stub, &Stub::ListMyVotes, req, &resp, [&] {
      json vs = json::array();
      for (const auto& v : resp.votes()) {
        vs.push_back({{"proposal", v.proposal_id()},
                      {"status", v.proposal_status()},
                      {"method", v.method()},
                      {"choice", v.choice()},
                      {"weight", v.weight()},
                      {"locked", v.locked()},
                      {"withdrawable", v.withdrawable()}});
      }
      return json{{"votes", vs},
                  {"locked", resp.locked()},
                  {"height", resp.height()},
                  {"next_page_token", resp.next_page_token()}};
    });
  }

  int Treasury(Stub& stub) {
    if (!movements_) {
      v1::GetTreasuryRequest req;
      req.set_prove(prove_);
      v1::GetTreasuryResponse resp;
      return Call(
          stub, &Stub::GetTreasury, req, &resp,
          [&] {
            return json{{"address", Hex(resp.address())},
                        {"balance", resp.balance()},
                        {"spent", resp.spent()},
                        {"height", resp.height()}};
          },
          [&](const Genesis& g) {
            return nation::CheckTreasuryAnswer(g.chain_id, g.first_epoch(), resp);
          });
    }
    v1::ListTreasuryMovementsRequest req;
    req.set_from_height(from_);
    req.set_to_height(to_);
    v1::ListTreasuryMovementsResponse resp;
    return Call(stub, &Stub::ListTreasuryMovements, req, &resp, [&] {
      json ms = json::array();
      for (const auto& m : resp.movements()) {
        json j{{"height", m.height()}, {"kind", m.kind()}, {"amount", m.amount()}};
        if (!m.tx_id().empty()) j["tx_id"] = Hex(m.tx_id());
        if (!m.counterparty().empty()) j["counterparty"] = Hex(m.counterparty());
        if (m.proposal_id()) j["proposal"] = m.proposal_id();
        ms.push_back(j);
      }
      return json{{"movements", ms},
                  {"scanned_to_height", resp.scanned_to_height()},
                  {"next_page_token", resp.next_page_token()}};
    });
  }

  const Globals* globals_ = nullptr;
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
  std::string key_, new_key_, old_key_, signature_, fragment_, public_key_, type_, endpoint_, did_,
      kind_, text_, address_, source_, name_, choice_, page_token_, genesis_path_;
  int64_t nonce_ = -1, value_ = 0;
  uint64_t gas_limit_ = 3'000'000, height_ = 0, version_ = 0, deposit_ = 0, sunset_ = 0,
           amount_ = 0, every_ = 0, id_ = 0, weight_ = 0, from_ = 0, to_ = 0;
  uint32_t page_size_ = 0;
  bool wait_ = false, remove_ = false, movements_ = false, prove_ = false, withdraw_all_ = false;
};

}  // namespace

std::unique_ptr<Commands> CivicCommands() { return std::make_unique<Civic>(); }

}  // namespace civitas::cli
