// A council of four formed by the genesis ceremony (docs/COUNCIL.md) with real civitasd
// processes: four homes made by `civitasd init`, four signed offers, a coordinator's draft,
// a genesis that every member verifies against the hash and installs. Each node listens on its
// own loopback address (127.0.0.11-14) with an empty p2p.peers, so the nodes find each other
// only through the genesis endpoints. A transfer from an account funded at genesis commits on
// all four. The test never reads a validator's key file: each step is a civitasd command run on
// its member's home, and the only secret key here is the citizen's, made by the test.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/address.h"
#include "ledger/tx.h"
#include "process.h"

namespace civitas::e2e {
namespace {

namespace fs = std::filesystem;
constexpr int kMembers = 4;
constexpr char kChain[] = "e2e-ceremony";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CeremonyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (fs::temp_directory_path() / ("civitas-ceremony-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Every member uses the same ports on its own address.
    port_ = 20000 + (FreePort() % 1200) * 10;
  }
  void TearDown() override {
    nodes_.clear();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string Home(int i) const { return dir_ + "/member" + std::to_string(i); }
  std::string Host(int i) const { return "127.0.0." + std::to_string(11 + i); }
  std::string At(int i, int offset) const { return Host(i) + ":" + std::to_string(port_ + offset); }

  // Runs `civitasd args...`; returns its exit code, its output in `*out` when given.
  int Civitasd(std::vector<std::string> args, std::string* out = nullptr) {
    const std::string log = dir_ + "/step" + std::to_string(step_++) + ".log";
    args.insert(args.begin(), CIVITASD);
    int rc = e2e::Run(args, log);
    if (out) *out = Slurp(log);
    return rc;
  }

  std::string dir_;
  int port_ = 0;
  int step_ = 0;
  std::vector<std::unique_ptr<Process>> nodes_;
};

TEST_F(CeremonyTest, CouncilOfFourFormedByTheCeremonyCommitsATransfer) {
  std::string out;
  // Each member, on its own machine: a home without genesis, then a signed offer.
  std::vector<std::string> offers;
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_EQ(
        Civitasd({"init", "--home", Home(i), "--moniker", "member" + std::to_string(i),
                  "--p2p-listen", At(i, 0), "--grpc-listen", At(i, 1), "--http-listen", At(i, 2)},
                 &out),
        0)
        << out;
    EXPECT_FALSE(fs::exists(Home(i) + "/config/genesis.json"));
    offers.push_back(dir_ + "/offer" + std::to_string(i) + ".json");
    ASSERT_EQ(
        Civitasd({"genesis", "offer", "--home", Home(i), "--p2p", At(i, 0), "--out", offers.back()},
                 &out),
        0)
        << out;
  }

  // The coordinator. A citizen key of the test's own, funded at genesis.
  const auto citizen = crypto::SecretKey::Generate();
  const std::string draft = dir_ + "/draft.json", genesis = dir_ + "/genesis.json";
  ASSERT_EQ(Civitasd({"genesis", "new", "--chain-id", kChain, "--out", draft}, &out), 0) << out;
  std::vector<std::string> add{"genesis", "add-validator", "--draft", draft};
  add.insert(add.end(), offers.begin(), offers.end());
  ASSERT_EQ(Civitasd(add, &out), 0) << out;
  // An offer added twice is refused, naming the file, and the draft stays as it was.
  const std::string before = Slurp(draft);
  ASSERT_NE(Civitasd({"genesis", "add-validator", "--draft", draft, offers[2]}, &out), 0);
  EXPECT_NE(out.find("duplicate_validator"), std::string::npos) << out;
  EXPECT_NE(out.find(offers[2]), std::string::npos) << out;
  EXPECT_EQ(Slurp(draft), before);
  ASSERT_EQ(Civitasd({"genesis", "add-account", "--draft", draft,
                      ToHex(AddressOf(citizen.public_key())), "1000000000"},
                     &out),
            0)
      << out;
  ASSERT_EQ(Civitasd({"genesis", "set", "--draft", draft, "params.gas_price", "1"}, &out), 0)
      << out;
  ASSERT_EQ(Civitasd({"genesis", "finalize", "--draft", draft, "--out", genesis}, &out), 0) << out;
  const auto at = out.find("genesis hash ");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string hash = out.substr(at + 13, 64);

  // Every member: a wrong hash is refused and installs nothing; the right one installs.
  std::string wrong = hash;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  ASSERT_NE(Civitasd({"genesis", "verify", genesis, "--home", Home(0), "--hash", wrong}, &out), 0);
  EXPECT_NE(out.find("hash_mismatch"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(Home(0) + "/config/genesis.json"));
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_EQ(Civitasd({"genesis", "verify", genesis, "--home", Home(i), "--hash", hash}, &out), 0)
        << out;
    EXPECT_NE(out.find(hash), std::string::npos) << out;
    EXPECT_NE(out.find("p2p " + At(i, 0) + "  <- this node"), std::string::npos) << out;
    // No peer list: the members find each other through the genesis.
    EXPECT_NE(Slurp(Home(i) + "/config/config.toml").find("peers = []"), std::string::npos);
  }

  std::vector<std::unique_ptr<v1::Node::Stub>> stubs;
  for (int i = 0; i < kMembers; ++i) {
    nodes_.push_back(std::make_unique<Process>(
        std::vector<std::string>{CIVITASD, "start", "--home", Home(i)}, Home(i) + ".log"));
  }
  for (int i = 0; i < kMembers; ++i) {
    auto channel = grpc::CreateChannel(At(i, 1), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
        << "member " << i << " did not start; see " << Home(i) << ".log";
    stubs.push_back(v1::Node::NewStub(channel));
  }

  // The citizen pays a new address through member 2; the transfer commits.
  const auto recipient = AddressOf(crypto::SecretKey::Generate().public_key());
  v1::TxBody body;
  body.set_chain_id(kChain);
  body.set_nonce(0);
  body.set_gas_limit(100'000);
  body.mutable_transfer()->set_to(std::string(AsStringView(recipient)));
  body.mutable_transfer()->set_amount(4242);
  v1::SubmitTransactionRequest req;
  *req.mutable_tx() = SignTx(citizen, body);
  req.set_wait_for_commit(true);
  req.set_wait_timeout_ms(30'000);
  v1::SubmitTransactionResponse resp;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(40));
    grpc::Status s = stubs[2]->SubmitTransaction(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(resp.committed());
  ASSERT_EQ(resp.receipt().status(), v1::TX_STATUS_SUCCESS) << resp.receipt().reason();
  const uint64_t height = resp.receipt().height();

  // Every member holds the block and the recipient's balance.
  for (int i = 0; i < kMembers; ++i) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    uint64_t balance = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      v1::GetAccountRequest areq;
      areq.set_address(std::string(AsStringView(recipient)));
      v1::GetAccountResponse aresp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      if (stubs[i]->GetAccount(&ctx, areq, &aresp).ok() && aresp.height() >= height) {
        balance = aresp.account().balance();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling, bounded above
    }
    EXPECT_EQ(balance, 4242u) << "member " << i << "; see " << Home(i) << ".log";
  }
}

}  // namespace
}  // namespace civitas::e2e
