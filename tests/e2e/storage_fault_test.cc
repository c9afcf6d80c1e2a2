// Storage faults on a real civitasd (issue 9; docs/RELIABILITY.md, "Storage faults"): a ledger
// with committed blocks is damaged after the node stopped (bytes flipped in table files, the
// WAL, the MANIFEST or CURRENT; files deleted; the consensus safety record damaged or deleted;
// the validator key file corrupt or another member's). Each time `civitasd start` must exit
// non-zero with an error that names the problem, leave the data directory byte for byte as it
// was (no reset, no new ledger), and never sign: once the damage is undone the node resumes
// at the height it had.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/keyfile.h"
#include "ledger/store.h"
#include "ledger/tx.h"
#include "node/home.h"
#include "node_client.h"
#include "process.h"
#include "tests/test_files.h"

namespace civitas::e2e {
namespace {

namespace fs = std::filesystem;
constexpr char kChain[] = "storage-faults";

using civitas::testing::ReadAll;

void WriteAll(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// The database files of a data directory and their contents. RocksDB's own diagnostics (LOG,
// LOG.old.*) and the LOCK file are left out: every open attempt rotates the first and takes
// the second.
using Snapshot = std::map<std::string, std::string>;
Snapshot DataFiles(const fs::path& dir) {
  Snapshot out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("LOG") || name == "LOCK") continue;
    out[name] = ReadAll(e.path());
  }
  return out;
}

std::vector<fs::path> FilesEndingWith(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with(suffix)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

fs::path Manifest(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("MANIFEST-")) return e.path();
  }
  return {};
}

// Inverts `n` bytes at `offset` (as bit rot or a stray write would change them).
void FlipBytes(const fs::path& p, uint64_t offset, size_t n = 8) {
  std::string data = ReadAll(p);
  for (size_t i = 0; i < n && offset + i < data.size(); ++i) data[offset + i] ^= '\xff';
  WriteAll(p, data);
}

struct Outcome {
  std::optional<int> exit_code;  // nullopt: the node was still running (and has been stopped)
  std::string log;
};

class StorageFaultTest : public ::testing::Test {
 protected:
  // One ledger for all the tests, each of which damages a copy: `clean` after a clean stop
  // (everything in table files), `crashed` after a SIGKILL (the last blocks only in the WAL).
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("civitas-storage-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    setup_error_ = BuildLedgers();
  }
  static void TearDownTestSuite() {
    if (!failed_) fs::remove_all(dir_);
  }
  void SetUp() override { ASSERT_EQ(setup_error_, "") << "setup failed; see " << dir_; }
  void TearDown() override {
    if (HasFailure()) failed_ = true;
  }

  static std::unique_ptr<Process> Launch(const std::string& home, int grpc_port) {
    return std::make_unique<Process>(
        std::vector<std::string>{CIVITASD, "start", "--home", home, "--grpc-listen",
                                 "127.0.0.1:" + std::to_string(grpc_port), "--http-listen",
                                 "127.0.0.1:0", "--p2p-listen", "127.0.0.1:0",
                                 "--block-interval-ms", "20", "--log-level", "warn"},
        home + ".log");
  }

  static std::unique_ptr<v1::Node::Stub> Connect(int port) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
      return nullptr;
    }
    return v1::Node::NewStub(channel);
  }

  static uint64_t Height(v1::Node::Stub& stub) {
    v1::GetStatusResponse st;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub.GetStatus(&ctx, {}, &st).ok() ? st.height() : 0;
  }

  static std::string Transfer(v1::Node::Stub& stub, const crypto::SecretKey& from, uint64_t nonce) {
    v1::TxBody body;
    body.set_chain_id(kChain);
    body.set_nonce(nonce);
    body.set_gas_limit(100'000);
    body.mutable_transfer()->set_to(
        std::string(AsStringView(AddressOf(crypto::SecretKey::Generate().public_key()))));
    body.mutable_transfer()->set_amount(5);
    auto out = civitas::testing::SubmitTx(stub, SignTx(from, body), /*wait=*/true);
    if (!out.status.ok() || !out.resp.committed()) {
      return "transfer " + std::to_string(nonce) +
             " did not commit: " + out.status.error_message() + " " + out.reason;
    }
    return "";
  }

  // Runs the node until `min_height` with `txs` transfers committed, then stops it with `sig`.
  static std::string Run(const std::string& home, uint64_t& nonce, int txs, uint64_t min_height,
                         int sig) {
    const int port = FreePort();
    auto node = Launch(home, port);
    auto stub = Connect(port);
    if (!stub) return "node did not start; see " + home + ".log";
    auto key = civitas::ReadKeyFile(home + "/keys/operator.json");
    if (!key.ok()) return key.status().ToString();
    for (int i = 0; i < txs; ++i) {
      std::string err = Transfer(*stub, *key, nonce++);
      if (!err.empty()) return err;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Height(*stub) < min_height) {
      if (std::chrono::steady_clock::now() > deadline) return "height not reached";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the height
    }
    int status = node->Kill(sig);
    if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      return "node did not stop cleanly; see " + home + ".log";
    }
    return "";
  }

  static std::string BuildLedgers() {
    const std::string clean = dir_ + "/clean";
    if (!node::InitSoloHome(
             {.home = clean, .chain_id = kChain, .moniker = "node0", .heartbeat_ms = 20})
             .ok())
      return "init failed";
    uint64_t nonce = 0;
    // Two runs, so the ledger has table files of both (a clean stop flushes the memtables).
    std::string err = Run(clean, nonce, 3, 15, SIGTERM);
    if (err.empty()) err = Run(clean, nonce, 2, 30, SIGTERM);
    if (!err.empty()) return err;
    auto genesis = LoadGenesisFile(clean + "/config/genesis.json");
    if (!genesis.ok()) return genesis.status().ToString();
    genesis_ = *genesis;
    {
      auto store = Store::Open(clean + "/data", genesis_, Store::Mode::kReadOnly);
      if (!store.ok()) return store.status().ToString();
      height_ = (*store)->height();
    }
    fs::copy(clean, dir_ + "/crashed", fs::copy_options::recursive);
    return Run(dir_ + "/crashed", nonce, 2, height_ + 5, SIGKILL);
  }

  // A fresh copy of a prepared home.
  static std::string Copy(const std::string& from, const std::string& name) {
    const std::string to = dir_ + "/" + name;
    fs::remove_all(to);
    fs::copy(dir_ + "/" + from, to, fs::copy_options::recursive);
    return to;
  }

  // Starts the node and waits (bounded) for it to exit by itself.
  static Outcome Start(const std::string& home) {
    fs::remove(home + ".log");
    auto node = Launch(home, FreePort());
    Outcome out;
    // Generous: a sanitizer build on a loaded 2-core machine may take long to open a ledger.
    out.exit_code = node->WaitFor(std::chrono::seconds(90));
    if (!out.exit_code) node->Kill(SIGKILL);
    out.log = ReadAll(home + ".log");
    return out;
  }

  // The node must refuse to start, say why (every one of `expected` in its output), and leave
  // the data directory as it was.
  // With `same_bytes` false the refusal comes after the ledger was opened read-write, which
  // rewrites the MANIFEST and flushes on close: the contents must then be checked otherwise.
  static void ExpectRefused(const std::string& home, const std::vector<std::string>& expected,
                            const std::string& fault, bool same_bytes = true) {
    SCOPED_TRACE(fault);
    const bool has_data = fs::exists(home + "/data");
    Snapshot before = has_data ? DataFiles(home + "/data") : Snapshot{};
    Outcome out = Start(home);
    ASSERT_TRUE(out.exit_code.has_value()) << "the node ran despite " << fault << "\n" << out.log;
    EXPECT_NE(*out.exit_code, 0) << out.log;
    for (const auto& word : expected) {
      EXPECT_NE(out.log.find(word), std::string::npos) << "'" << word << "' not in:\n" << out.log;
    }
    EXPECT_EQ(out.log.find("chain storage-faults at height"), std::string::npos) << out.log;
    EXPECT_EQ(fs::exists(home + "/data"), has_data) << "a data directory was created";
    if (has_data && same_bytes) {
      EXPECT_TRUE(DataFiles(home + "/data") == before) << "the data files changed";
    }
  }

  // The ledger of `home` opens (read-only, as `civitasd status` does) at the original height.
  static void ExpectIntact(const std::string& home) {
    auto store = Store::Open(home + "/data", genesis_, Store::Mode::kReadOnly);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->height(), height_);
  }

  // The node starts on `home` and commits above the original height: nothing was lost.
  static void ExpectResumes(const std::string& home) {
    const int port = FreePort();
    auto node = Launch(home, port);
    auto stub = Connect(port);
    ASSERT_TRUE(stub) << "node did not start; see " << home << ".log";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Height(*stub) <= height_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the height
    }
    EXPECT_GT(Height(*stub), height_);
    node->Kill(SIGTERM);
  }

  static std::string dir_;
  static std::string setup_error_;
  static bool failed_;
  static Genesis genesis_;
  static uint64_t height_;
};

std::string StorageFaultTest::dir_;
std::string StorageFaultTest::setup_error_;
bool StorageFaultTest::failed_ = false;
Genesis StorageFaultTest::genesis_;
uint64_t StorageFaultTest::height_ = 0;

TEST_F(StorageFaultTest, UndamagedCopyStartsAtItsHeight) {
  ExpectResumes(Copy("clean", "undamaged"));
  ExpectResumes(Copy("crashed", "undamaged-crashed"));
}

TEST_F(StorageFaultTest, FlippedBytesInAnyTableFileAreRefused) {
  auto tables = FilesEndingWith(dir_ + "/clean/data", ".sst");
  ASSERT_GE(tables.size(), 5u);
  for (const auto& table : tables) {
    for (double at : {0.1, 0.5, 0.9}) {
      const std::string home = Copy("clean", "flip-table");
      const fs::path target = home + "/data/" + table.filename().string();
      FlipBytes(target, static_cast<uint64_t>(fs::file_size(target) * at));
      // Either RocksDB reports the bad checksum, or (a damaged properties block, see
      // docs/RELIABILITY.md) its assertion aborts the process; the message names the ledger
      // and the reason either way.
      ExpectRefused(home, {"the ledger at " + home + "/data", "[corruption]"},
                    table.filename().string() + " flipped at " + std::to_string(at));
    }
  }
}

TEST_F(StorageFaultTest, DeletedTableFileIsRefused) {
  auto tables = FilesEndingWith(dir_ + "/clean/data", ".sst");
  ASSERT_FALSE(tables.empty());
  const std::string home = Copy("clean", "no-table");
  const std::string name = tables.back().filename().string();
  fs::remove(home + "/data/" + name);
  ExpectRefused(home, {"is damaged", name.substr(0, name.size() - 4), "[corruption]"},
                name + " deleted");
}

// Before the fix RocksDB's default WAL recovery dropped everything after a damaged record and
// the node started lower, without a word, and re-committed other blocks at those heights.
TEST_F(StorageFaultTest, DamagedWalRecordIsRefused) {
  auto wals = FilesEndingWith(dir_ + "/crashed/data", ".log");
  ASSERT_FALSE(wals.empty());
  std::sort(wals.begin(), wals.end(), [](const fs::path& a, const fs::path& b) {
    return fs::file_size(a) > fs::file_size(b);
  });
  const uint64_t size = fs::file_size(wals[0]);
  ASSERT_GT(size, 1000u) << "the crashed ledger should have blocks in its WAL";
  for (double at : {0.2, 0.5, 0.8}) {
    const std::string home = Copy("crashed", "flip-wal");
    FlipBytes(home + "/data/" + wals[0].filename().string(), static_cast<uint64_t>(size * at));
    ExpectRefused(home, {"is damaged", "checksum mismatch", "[corruption]"},
                  "WAL flipped at " + std::to_string(at));
  }
}

TEST_F(StorageFaultTest, MissingCurrentIsRefusedNotRecreated) {
  const std::string home = Copy("clean", "no-current");
  const std::string current = ReadAll(home + "/data/CURRENT");
  fs::remove(home + "/data/CURRENT");
  ExpectRefused(home, {"lost its CURRENT file", "[corruption]"}, "CURRENT deleted");
  EXPECT_FALSE(fs::exists(home + "/data/CURRENT")) << "a new database was created";
  WriteAll(home + "/data/CURRENT", current);
  ExpectIntact(home);
}

TEST_F(StorageFaultTest, DamagedCurrentIsRefused) {
  const std::string home = Copy("clean", "bad-current");
  const std::string current = ReadAll(home + "/data/CURRENT");
  WriteAll(home + "/data/CURRENT", "");
  ExpectRefused(home, {"is damaged", "CURRENT", "[corruption]"}, "CURRENT empty");
  WriteAll(home + "/data/CURRENT", "MANIFEST-999999\n");
  ExpectRefused(home, {"is damaged", "MANIFEST-999999", "[corruption]"},
                "CURRENT names a missing MANIFEST");
  WriteAll(home + "/data/CURRENT", current);
  ExpectIntact(home);
}

TEST_F(StorageFaultTest, DamagedOrMissingManifestIsRefused) {
  const std::string home = Copy("clean", "bad-manifest");
  const fs::path manifest = Manifest(home + "/data");
  ASSERT_FALSE(manifest.empty());
  const std::string original = ReadAll(manifest);
  WriteAll(manifest, original.substr(0, original.size() / 2));
  ExpectRefused(home, {"is damaged", "MANIFEST", "[corruption]"}, "MANIFEST truncated");
  WriteAll(manifest, original);
  FlipBytes(manifest, original.size() / 2);
  ExpectRefused(home, {"is damaged", "MANIFEST", "[corruption]"}, "MANIFEST flipped");
  fs::remove(manifest);
  ExpectRefused(home, {"is damaged", manifest.filename().string(), "[corruption]"},
                "MANIFEST deleted");
  WriteAll(manifest, original);
  ExpectIntact(home);
}

// The safety record (last voted round, locked and highest certificate) is what stops a
// restarted validator from voting twice; docs/CONSENSUS.md.
TEST_F(StorageFaultTest, DamagedOrMissingSafetyDataStopsTheNodeBeforeItSigns) {
  const std::string home = Copy("clean", "safety");
  std::string original;
  auto edit = [&](const std::vector<std::pair<std::string, std::string>>& puts,
                  const std::vector<std::string>& deletes) {
    auto store = Store::Open(home + "/data", genesis_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    if (original.empty()) {
      auto got = (*store)->GetConsensus("safety");
      ASSERT_TRUE(got.ok() && got->has_value());
      original = **got;
    }
    ASSERT_TRUE((*store)->WriteConsensus(puts, deletes).ok());
  };
  auto record = [&]() -> std::optional<std::string> {
    auto store = Store::Open(home + "/data", genesis_, Store::Mode::kReadOnly);
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return std::nullopt;
    auto got = (*store)->GetConsensus("safety");
    return got.ok() ? *got : std::nullopt;
  };

  edit({{"safety", "\x01garbage"}}, {});
  ExpectRefused(home, {"safety data is damaged", "refusing to sign", "[corruption]"},
                "safety record garbled", /*same_bytes=*/false);
  EXPECT_EQ(record(), std::optional<std::string>("\x01garbage")) << "the record was replaced";

  edit({{"safety", original.substr(0, original.size() - 1)}}, {});
  ExpectRefused(home, {"safety data is damaged", "[corruption]"}, "safety record truncated",
                /*same_bytes=*/false);
  ExpectIntact(home);

  edit({}, {"safety"});
  ExpectRefused(home, {"safety data is missing", "refusing to sign", "[corruption]"},
                "safety record deleted", /*same_bytes=*/false);
  ExpectIntact(home);
  EXPECT_EQ(record(), std::nullopt) << "a fresh safety record was written";

  edit({{"safety", original}}, {});
  ExpectResumes(home);
}

TEST_F(StorageFaultTest, CorruptOrForeignKeyFileIsRefused) {
  const std::string home = Copy("clean", "keys");
  const std::string path = home + "/config/validator_key.json";
  const std::string original = ReadAll(path);

  WriteAll(path, "{\"type\": \"bip340-secp256k1\", \"secret_key\": \"12");
  ExpectRefused(home, {path, "is not a Civitas key file", "[bad_key_file]"}, "truncated JSON");
  WriteAll(path, "{\"secret_key\": \"" + std::string(63, 'a') + "\"}");
  ExpectRefused(home, {path, "64 hex digits", "[bad_key_file]"}, "short secret");
  WriteAll(path, std::string(original.size(), '\0'));
  ExpectRefused(home, {path, "[bad_key_file]"}, "zeroed file");
  // A valid secret with the public key of another.
  auto other = crypto::SecretKey::Generate();
  std::string mixed = original;
  auto secret_at = mixed.find("\"secret_key\": \"") + 15;
  mixed.replace(secret_at, 64, ToHex(other.bytes()));
  WriteAll(path, mixed);
  ExpectRefused(home, {path, "does not match", "[bad_key_file]"}, "public and secret disagree");
  // Readable by others: refused before it is used.
  WriteAll(path, original);
  ::chmod(path.c_str(), 0644);
  ExpectRefused(home, {"readable by others", "[bad_key_file]"}, "mode 0644");
  fs::remove(path);
  ExpectRefused(home, {"no key file", path}, "key file deleted");
  // A well-formed key that is not the one the genesis gives this node (its moniker).
  ASSERT_TRUE(civitas::WriteKeyFile(path, other).ok());
  ExpectRefused(home, {path, ToHex(other.public_key()), "'node0'", "[wrong_key]"},
                "stranger's key");

  fs::remove(path);
  WriteAll(path, original);
  ::chmod(path.c_str(), 0600);
  ExpectResumes(home);
}

// Another council member's key would have this node sign as that member, next to it: a
// double-signing machine. The genesis names the member the node's moniker says it is.
TEST_F(StorageFaultTest, AnotherMembersKeyIsRefused) {
  node::TestnetOptions opts;
  opts.output = dir_ + "/council";
  opts.validators = 2;
  opts.chain_id = kChain;
  opts.base_port = 20000 + (FreePort() % 1200) * 10;  // below the ephemeral range (32768+)
  ASSERT_TRUE(node::InitTestnet(opts).ok());
  const std::string home = opts.output + "/node0";
  fs::remove(home + "/config/validator_key.json");
  fs::copy_file(opts.output + "/node1/config/validator_key.json",
                home + "/config/validator_key.json");
  ExpectRefused(home, {"key of council member 'node1'", "this node is 'node0'", "[wrong_key]"},
                "node1's key in node0's home");
}

}  // namespace
}  // namespace civitas::e2e
