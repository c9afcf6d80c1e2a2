// Running a node for years (issue 25) on real processes: every binary's --version, the
// operator conventions (CIVITAS_HOME, CIVITAS_NODE, usage errors exit 2), the version and sync
// state in GetStatus, /readyz and /metrics. docs/OPERATIONS.md shows these commands.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/keyfile.h"
#include "node/backup.h"
#include "node/build_info.h"
#include "node/config.h"
#include "node/home.h"
#include "node_client.h"
#include "process.h"

namespace civitas::e2e {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sets an environment variable for the processes this test starts; restores it on scope exit.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("civitas-life-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    node_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Runs `argv`; returns the exit code, and stdout and stderr together in `*out`.
  int RunCmd(const std::vector<std::string>& argv, std::string* out) {
    const std::string log = dir_ + "/cmd" + std::to_string(step_++) + ".log";
    const int rc = e2e::Run(argv, log);
    *out = ReadAll(log);
    return rc;
  }

  // A one-validator home under dir_/NAME on free loopback ports (not started).
  std::string SoloHome(const std::string& name) {
    const std::string home = dir_ + "/" + name;
    EXPECT_TRUE(node::InitSoloHome(
                    {.home = home, .chain_id = "life-test", .moniker = name, .heartbeat_ms = 50})
                    .ok());
    auto config = node::LoadConfig(home);
    EXPECT_TRUE(config.ok());
    grpc_port_ = FreePort();
    http_port_ = FreePort();
    config->grpc_listen = "127.0.0.1:" + std::to_string(grpc_port_);
    config->http_listen = "127.0.0.1:" + std::to_string(http_port_);
    p2p_port_ = FreePort();
    config->p2p_listen = "127.0.0.1:" + std::to_string(p2p_port_);
    config->block_interval_ms = 50;
    config->timeout_base_ms = 200;
    std::ofstream(config->ConfigPath(), std::ios::trunc) << node::ConfigToToml(*config);
    return home;
  }

  // Starts civitasd on `home`; true once /readyz answers ready.
  bool StartNode(const std::string& home) {
    node_ = std::make_unique<Process>(
        std::vector<std::string>{CIVITASD, "start", "--home", home, "--log-level", "warn"},
        home + ".log");
    for (int i = 0; i < 2000; ++i) {
      if (civitas::testing::HttpGet(http_port_, "/readyz").find(" 200 ") != std::string::npos) {
        return true;
      }
      if (node_->WaitFor(std::chrono::milliseconds(10)).has_value()) return false;
    }
    return false;
  }

  std::string dir_;
  int step_ = 0;
  int grpc_port_ = 0, http_port_ = 0, p2p_port_ = 0;
  std::unique_ptr<Process> node_;
};

TEST_F(LifecycleTest, EveryBinaryPrintsItsVersionCommitAndBuildType) {
  const std::pair<const char*, const char*> binaries[] = {{CIVITASD, "civitasd"},
                                                          {CIVITAS, "civitas"},
                                                          {CIVITAS_ASM, "civitas-asm"},
                                                          {CIVITAS_LOADGEN, "civitas-loadgen"}};
  const std::string expected_tail = std::string(" ") + CIVITAS_PROJECT_VERSION + " (commit " +
                                    std::string(node::BuildCommit()) + ", " +
                                    CIVITAS_CMAKE_BUILD_TYPE + ")\n";
  for (const auto& [path, name] : binaries) {
    std::string out;
    EXPECT_EQ(RunCmd({path, "--version"}, &out), 0) << name << ": " << out;
    EXPECT_EQ(out, name + expected_tail);
  }
  // The commit is the checkout's, or "unknown" outside git: 12 hex digits either way otherwise.
  const std::string commit(node::BuildCommit());
  if (commit != "unknown") {
    EXPECT_EQ(commit.size(), 12u);
    EXPECT_EQ(commit.find_first_not_of("0123456789abcdef"), std::string::npos) << commit;
  }
}

TEST_F(LifecycleTest, UsageErrorsExitTwoAndFailedCommandsOne) {
  std::string out;
  EXPECT_EQ(RunCmd({CIVITASD, "no-such-command"}, &out), 2) << out;
  EXPECT_EQ(RunCmd({CIVITASD}, &out), 2) << out;
  {
    ScopedEnv no_home("CIVITAS_HOME", "");
    EXPECT_EQ(RunCmd({CIVITASD, "status"}, &out), 2) << out;  // --home is required
    EXPECT_NE(out.find("--home"), std::string::npos) << out;
  }
  EXPECT_EQ(RunCmd({CIVITASD, "export", "--home", dir_, "--format", "xml"}, &out), 2) << out;
  EXPECT_EQ(RunCmd({CIVITAS, "--no-such-flag", "status"}, &out), 2) << out;
  EXPECT_EQ(RunCmd({CIVITAS, "--output", "yaml", "status"}, &out), 2) << out;
  EXPECT_EQ(RunCmd({CIVITAS_LOADGEN, "--batch", "0"}, &out), 2) << out;
  EXPECT_EQ(RunCmd({CIVITAS_ASM, "frobnicate"}, &out), 2) << out;
  // A command that was understood but failed is 1, not 2.
  EXPECT_EQ(RunCmd({CIVITASD, "status", "--home", dir_ + "/missing"}, &out), 1) << out;
  // --help is no error.
  EXPECT_EQ(RunCmd({CIVITASD, "--help"}, &out), 0) << out;
}

TEST_F(LifecycleTest, CivitasHomeIsTheDefaultHomeAndTheFlagWins) {
  const std::string home = SoloHome("envhome");
  std::string out;
  {
    ScopedEnv env("CIVITAS_HOME", home);
    EXPECT_EQ(RunCmd({CIVITASD, "config", "validate"}, &out), 0) << out;
    EXPECT_NE(out.find("config and genesis OK (chain life-test)"), std::string::npos) << out;
    // The flag wins over the environment.
    EXPECT_EQ(RunCmd({CIVITASD, "config", "validate", "--home", dir_ + "/elsewhere"}, &out), 1)
        << out;
    EXPECT_NE(out.find(dir_ + "/elsewhere"), std::string::npos) << out;
  }
  {
    // `civitasd init --solo` creates the home the environment names.
    ScopedEnv env("CIVITAS_HOME", dir_ + "/fresh");
    EXPECT_EQ(RunCmd({CIVITASD, "init", "--solo", "--chain-id", "fresh-chain"}, &out), 0) << out;
    EXPECT_TRUE(fs::exists(dir_ + "/fresh/config/genesis.json"));
  }
}

TEST_F(LifecycleTest, StatusReadyzAndMetricsCarryVersionPeersAndCatchingUp) {
  const std::string home = SoloHome("node0");
  ASSERT_TRUE(StartNode(home)) << "see " << home << ".log";
  const std::string at = "127.0.0.1:" + std::to_string(grpc_port_);

  // GetStatus through the CLI, the node named by CIVITAS_NODE.
  std::string out;
  {
    ScopedEnv env("CIVITAS_NODE", at);
    ASSERT_EQ(RunCmd({CIVITAS, "status", "-o", "json"}, &out), 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["chain_id"], "life-test");
    EXPECT_EQ(j["version"], CIVITAS_PROJECT_VERSION);
    EXPECT_EQ(j["commit"], std::string(node::BuildCommit()));
    EXPECT_EQ(j["catching_up"], false);
    EXPECT_EQ(j["peers"], 0);
    // --node wins over CIVITAS_NODE: nothing listens on port 1.
    EXPECT_EQ(RunCmd({CIVITAS, "--node", "127.0.0.1:1", "status", "-o", "json"}, &out), 1) << out;
    EXPECT_NE(out.find("grpc code 14"), std::string::npos) << out;  // UNAVAILABLE
  }

  {
    // `civitasd status` reads the running node's ledger; the home from CIVITAS_HOME.
    ScopedEnv env("CIVITAS_HOME", home);
    ASSERT_EQ(RunCmd({CIVITASD, "status"}, &out), 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["moniker"], "node0");
    EXPECT_EQ(j["version"], CIVITAS_PROJECT_VERSION);
    EXPECT_EQ(j["commit"], std::string(node::BuildCommit()));
  }
  const std::string readyz = civitas::testing::HttpGet(http_port_, "/readyz");
  EXPECT_NE(readyz.find("\r\n\r\nready\ncatching_up: false\npeers: 0\n"), std::string::npos)
      << readyz;
  const std::string metrics = civitas::testing::HttpGet(http_port_, "/metrics");
  EXPECT_NE(metrics.find(std::string("\ncivitas_build_info{version=\"") + CIVITAS_PROJECT_VERSION +
                         "\",commit=\"" + std::string(node::BuildCommit()) + "\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(civitas::testing::MetricValue(http_port_, "civitas_catching_up"), 0.0);
}

// The node's committed height from /metrics; 0 when it does not answer.
uint64_t HeightOf(int http_port) {
  const double h = civitas::testing::MetricValue(http_port, "civitas_height");
  return h > 0 ? static_cast<uint64_t>(h) : 0;
}

// Sends `request` to the abstract Unix stream socket `name`, then reads the answer until the
// node closes the connection (bounded by 30 s).
std::string AdminRequest(const std::string& name, const std::string& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buf[256];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30'000) != 1) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

// `civitasd backup` of a running validator while it commits, verified; `civitasd restore` into
// a follower's home; what each refuses (docs/OPERATIONS.md, "Backup and restore").
TEST_F(LifecycleTest, OnlineBackupWhileCommittingAndRestoreIntoAFollower) {
  const std::string home = SoloHome("val");
  ASSERT_TRUE(StartNode(home)) << "see " << home << ".log";
  for (int i = 0; i < 3000 && HeightOf(http_port_) < 5; ++i) {
    ASSERT_FALSE(node_->WaitFor(std::chrono::milliseconds(10)).has_value());
  }
  ASSERT_GE(HeightOf(http_port_), 5u);

  std::string out;
  const std::string b1 = dir_ + "/b1";
  ASSERT_EQ(RunCmd({CIVITASD, "backup", "--home", home, "--out", b1}, &out), 0) << out;
  auto m = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(m.is_discarded()) << out;
  EXPECT_EQ(m["format"], "civitas-backup-1");
  EXPECT_EQ(m["online"], true);
  EXPECT_EQ(m["chain_id"], "life-test");
  const uint64_t backed_up = m["height"].get<uint64_t>();
  EXPECT_GE(backed_up, 5u);
  EXPECT_FALSE(m["files"].empty());
  EXPECT_TRUE(fs::exists(b1 + "/manifest.json"));

  // The node kept committing: it goes on past the backup's height.
  for (int i = 0; i < 3000 && HeightOf(http_port_) < backed_up + 5; ++i) {
    ASSERT_FALSE(node_->WaitFor(std::chrono::milliseconds(10)).has_value());
  }
  EXPECT_GE(HeightOf(http_port_), backed_up + 5);
  // The admin socket: an abstract one (no file in the home), bounded requests.
  node::Config at_home;
  at_home.home = home;
  const std::string admin = node::AdminSocketPath(at_home);
  EXPECT_FALSE(fs::exists(home + "/admin.sock"));
  EXPECT_EQ(AdminRequest(admin, "backup relative/dir\n"),
            "error bad_request: backup /ABSOLUTE/DIR\n");
  EXPECT_EQ(AdminRequest(admin, std::string(5000, 'x')),
            "error bad_request: one line of at most 4096 bytes within 5 s\n");
  EXPECT_EQ(AdminRequest(admin, "backup " + b1 + "\n").substr(0, 6), "error ");
  // Only the node's user (and root) is served: a process of another user is refused.
  if (::geteuid() == 0) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(fds[0]);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(1);
      const std::string answer = AdminRequest(admin, "backup " + dir_ + "/nobody\n");
      (void)!::write(fds[1], answer.data(), answer.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string answer;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) {
      answer.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int wstatus = 0;
    ::waitpid(child, &wstatus, 0);
    EXPECT_EQ(answer, "error forbidden: only the node's user may use this socket\n");
    EXPECT_FALSE(fs::exists(dir_ + "/nobody"));
  }
  // A backup never goes into an existing folder.
  EXPECT_EQ(RunCmd({CIVITASD, "backup", "--home", home, "--out", b1}, &out), 1) << out;
  EXPECT_NE(out.find("[exists]"), std::string::npos) << out;

  // Restore into the home of a node that follows the chain (its key is no validator's).
  auto key = civitas::ReadKeyFile(home + "/config/validator_key.json");
  ASSERT_TRUE(key.ok());
  const std::string peer = ToHex(key->public_key()) + "@127.0.0.1:" + std::to_string(p2p_port_);
  const std::string follower = dir_ + "/follower";
  ASSERT_EQ(RunCmd({CIVITASD, "join", "--home", follower, "--genesis",
                    home + "/config/genesis.json", "--peer", peer},
                   &out),
            0)
      << out;
  ASSERT_EQ(RunCmd({CIVITASD, "restore", "--from", b1, "--home", follower}, &out), 0) << out;
  ASSERT_EQ(RunCmd({CIVITASD, "status", "--home", follower}, &out), 0) << out;
  auto st = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(st.is_discarded()) << out;
  EXPECT_EQ(st["height"].get<uint64_t>(), backed_up);
  // Never over an existing ledger.
  EXPECT_EQ(RunCmd({CIVITASD, "restore", "--from", b1, "--home", follower}, &out), 1) << out;
  EXPECT_NE(out.find("[exists]"), std::string::npos) << out;

  // The validator's own home: refused, its safety data in the backup is older than its votes.
  ASSERT_EQ(node_->Kill(SIGTERM) & 0x7f, 0);
  fs::rename(home + "/data", home + "/data.old");
  EXPECT_EQ(RunCmd({CIVITASD, "restore", "--from", b1, "--home", home}, &out), 1) << out;
  EXPECT_NE(out.find("[unsafe_validator_restore]"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(home + "/data"));
  fs::rename(home + "/data.old", home + "/data");
  // The node stopped: backup checkpoints the ledger itself.
  ASSERT_EQ(RunCmd({CIVITASD, "backup", "--home", home, "--out", dir_ + "/b2"}, &out), 0) << out;
  m = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(m.is_discarded()) << out;
  EXPECT_EQ(m["online"], false);
  EXPECT_GE(m["height"].get<uint64_t>(), backed_up + 5);

  // A damaged backup is refused and installs nothing.
  std::string victim;
  for (const auto& e : fs::directory_iterator(b1 + "/ledger")) {
    if (e.path().extension() == ".sst") victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x55);
    f.seekp(100);
    f.write(&c, 1);
  }
  const std::string follower2 = dir_ + "/follower2";
  ASSERT_EQ(RunCmd({CIVITASD, "join", "--home", follower2, "--genesis",
                    home + "/config/genesis.json", "--peer", peer},
                   &out),
            0)
      << out;
  EXPECT_EQ(RunCmd({CIVITASD, "restore", "--from", b1, "--home", follower2}, &out), 1) << out;
  EXPECT_NE(out.find("[bad_backup]"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(follower2 + "/data"));
}

// A unix datagram socket standing in for systemd's notification socket.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    bound_ = fd_ >= 0 && path.size() < sizeof(addr.sun_path) &&
             ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~FakeNotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram, or nullopt when none arrives within `timeout_ms`.
  std::optional<std::string> Receive(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Type=notify (packaging/civitasd@.service): READY=1 once the node serves, STOPPING=1 when a
// SIGTERM begins the graceful stop, then exit 0.
TEST_F(LifecycleTest, CivitasdNotifiesReadyWhenServingAndStoppingOnSigterm) {
  const std::string home = SoloHome("notified");
  FakeNotifySocket sock(dir_ + "/notify.sock");
  ASSERT_TRUE(sock.bound()) << dir_;
  ScopedEnv env("NOTIFY_SOCKET", dir_ + "/notify.sock");
  Process node({CIVITASD, "start", "--home", home, "--log-level", "warn"}, home + ".log");
  std::optional<std::string> ready;
  // Generous: start-up on a machine whose cores are all busy.
  for (int i = 0; i < 12 && !ready; ++i) {
    ready = sock.Receive(5'000);
    ASSERT_FALSE(node.WaitFor(std::chrono::milliseconds(0)).has_value())
        << "civitasd exited; see " << home << ".log";
  }
  ASSERT_TRUE(ready.has_value()) << "no notification; see " << home << ".log";
  EXPECT_NE(ready->find("READY=1\n"), std::string::npos) << *ready;
  EXPECT_NE(ready->find("STATUS=serving chain life-test"), std::string::npos) << *ready;
  // Ready means serving: the API answers at once, without waiting.
  EXPECT_NE(civitas::testing::HttpGet(http_port_, "/healthz").find(" 200 "), std::string::npos);
  const int grpc_fd = civitas::testing::DialLocal(grpc_port_);
  EXPECT_GE(grpc_fd, 0);
  if (grpc_fd >= 0) ::close(grpc_fd);

  ASSERT_EQ(::kill(node.pid(), SIGTERM), 0);
  const auto stopping = sock.Receive(60'000);
  ASSERT_TRUE(stopping.has_value());
  EXPECT_NE(stopping->find("STOPPING=1"), std::string::npos) << *stopping;
  const auto code = node.WaitFor(std::chrono::seconds(120));
  ASSERT_TRUE(code.has_value()) << "civitasd did not stop on SIGTERM";
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace civitas::e2e
