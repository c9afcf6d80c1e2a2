// The offline citizenship credential (docs/NATION.md, "Citizenship credential"):
//   civitas credential issue DID --genesis FILE [--out FILE]    ask a node, check, write the VC
//   civitas credential present FILE --challenge C --key KEY --genesis FILE [--out FILE]
//   civitas credential verify FILE --genesis FILE [--challenge C] [--max-age SECONDS]
// issue and present print JSON (to --out, else stdout); verify needs no node and prints what it
// checked, the proof's age included.

#include <chrono>
#include <fstream>
#include <sstream>

#include "genesis/credential.h"
#include "genesis/nation_state.h"
#include "ledger/genesis.h"
#include "tools/cli/cli.h"

namespace civitas::cli {
namespace {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A credential or presentation file (at most kMaxCredentialBytes + slack), parsed.
Result<json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return civitas::Status::Invalid("bad_request", "cannot read " + path);
  std::string text(nation::kMaxCredentialBytes + 65536, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.gcount() == static_cast<std::streamsize>(text.size())) {
    return civitas::Status::Invalid("bad_credential", path + " is too large for a credential");
  }
  text.resize(static_cast<size_t>(in.gcount()));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return civitas::Status::Invalid("bad_credential", path + " is not JSON");
  return j;
}

class Credential : public Commands {
 public:
  void Register(CLI::App& app) override {
    auto* cred = app.add_subcommand("credential", "offline citizenship credentials (W3C VC)");
    cred->require_subcommand(1);
    issue_ = cred->add_subcommand("issue", "ask a node for a proved citizenship and write a VC");
    issue_->add_option("did", did_, "did:civitas:...")->required();
    present_ = cred->add_subcommand("present", "wrap a VC in a presentation signed by your DID");
    present_->add_option("file", file_, "the credential (JSON)")->required();
    present_->add_option("--challenge", challenge_, "the verifier's challenge")->required();
    present_->add_option("--key", key_, "your DID's controller key (file or keyring name)")
        ->required();
    verify_ = cred->add_subcommand("verify", "check a credential or presentation offline");
    verify_->add_option("file", file_, "the credential or presentation (JSON)")->required();
    verify_->add_option("--challenge", challenge_,
                        "demand a presentation over this challenge (holder binding)");
    verify_->add_option("--max-age", max_age_s_, "refuse a proof older than SECONDS");
    for (auto* cmd : {issue_, present_, verify_}) {
      cmd->add_option("--genesis", genesis_path_, "the nation's genesis.json")->required();
    }
    for (auto* cmd : {issue_, present_}) {
      cmd->add_option("--out", out_, "write the JSON here instead of stdout");
    }
  }

  std::optional<int> Run(const Globals& g) override {
    if (!*issue_ && !*present_ && !*verify_) return std::nullopt;
    auto genesis = LoadGenesisFile(genesis_path_);
    if (!genesis.ok()) return Fail(genesis.status());
    if (*issue_) return Issue(g, *genesis);
    if (*present_) return Present(g, *genesis);
    return Verify(g, *genesis);
  }

 private:
  int Write(const json& j) {
    const std::string text = j.dump(2) + "\n";
    if (out_.empty()) {
      std::cout << text;
      return 0;
    }
    std::ofstream f(out_, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush()) return Fail("cannot write " + out_, "io_error");
    return 0;
  }

  int Issue(const Globals& g, const Genesis& genesis) {
    auto stub = Connect(g);
    grpc::ClientContext ctx;
    SetDeadline(ctx, 30);
    v1::GetCitizenshipRequest req;
    req.set_did(did_);
    req.set_prove(true);
    v1::GetCitizenshipResponse resp;
    auto s = stub->GetCitizenship(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    auto vc = nation::IssueCredential(genesis, did_, resp);
    if (!vc.ok()) return Fail(vc.status());
    return Write(*vc);
  }

  int Present(const Globals& g, const Genesis& genesis) {
    auto vc = ReadJsonFile(file_);
    if (!vc.ok()) return Fail(vc.status());
    auto key = LoadSigningKey(key_, g);
    if (!key.ok()) return Fail(key.status());
    auto vp = nation::PresentCredential(genesis, *vc, challenge_, *key, NowMs());
    if (!vp.ok()) return Fail(vp.status());
    return Write(*vp);
  }

  int Verify(const Globals& g, const Genesis& genesis) {
    auto doc = ReadJsonFile(file_);
    if (!doc.ok()) return Fail(doc.status());
    nation::VerifyOptions options;
    options.now_ms = NowMs();
    if (!challenge_.empty()) options.challenge = challenge_;
    if (max_age_s_ >= 0) options.max_age_ms = static_cast<uint64_t>(max_age_s_) * 1000;
    auto v = nation::VerifyCredential(genesis, *doc, options);
    if (!v.ok())
      return Fail("the credential is refused: " + v.status().message(), v.status().reason());
    Print({{"valid", true},
           {"did", v->did},
           {"status", "citizen"},
           {"in_good_standing", true},
           {"chain_id", genesis.chain_id},
           {"genesis_hash", Hex(std::string(AsStringView(genesis.hash)))},
           {"state_height", v->height},
           {"certified_by_block", v->certified_by},
           {"epoch", v->epoch},
           {"proof_time", nation::XmlDateTime(v->proof_time_ms)},
           {"proof_age_seconds", v->age_ms / 1000},
           {"valid_until", nation::XmlDateTime(v->valid_until_ms)},
           {"citizenship_expiry_height", v->expiry_height},
           {"holder_signature", v->presented ? "verified (" + v->controller + ")" : "none"},
           {"challenge", v->challenge}},
          g.json());
    return 0;
  }

  CLI::App* issue_ = nullptr;
  CLI::App* present_ = nullptr;
  CLI::App* verify_ = nullptr;
  std::string did_, file_, challenge_, key_, genesis_path_, out_;
  int64_t max_age_s_ = -1;
};

}  // namespace

std::unique_ptr<Commands> CredentialCommands() { return std::make_unique<Credential>(); }

}  // namespace civitas::cli
