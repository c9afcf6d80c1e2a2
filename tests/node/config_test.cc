#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/keyfile.h"
#include "node/config.h"
#include "node/home.h"
#include "node/log.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

namespace fs = std::filesystem;

class HomeTest : public ::testing::Test {
 protected:
  void SetUp() override { home_ = civitas::testing::TestDir("home"); }
  void TearDown() override { fs::remove_all(home_); }
  void AppendConfig(const std::string& text) {
    std::ofstream(home_ + "/config/config.toml", std::ios::app) << text;
  }
  // Rewrites the config with its first `from` replaced by `to`; false if `from` is not there.
  bool ReplaceInConfig(const std::string& from, const std::string& to) {
    const std::string path = home_ + "/config/config.toml";
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto pos = text.find(from);
    if (pos == std::string::npos) return false;
    text.replace(pos, from.size(), to);
    std::ofstream(path) << text;
    return true;
  }
  std::string home_;
};

TEST_F(HomeTest, InitWritesALoadableHome) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  auto loaded = LoadHome(home_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->genesis.chain_id, "test-chain");
  EXPECT_EQ(loaded->config.moniker, "n0");
  struct stat st;
  ASSERT_EQ(::stat((home_ + "/config/validator_key.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((home_ + "/keys/operator.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = ReadKeyFile(home_ + "/config/validator_key.json");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(loaded->genesis.validator_set().Contains(key->public_key()));
  // A second init must not overwrite the keys.
  EXPECT_FALSE(InitSoloHome({home_, "test-chain", "n0"}).ok());
}

TEST_F(HomeTest, ConfigTyposAndBadValuesAreErrors) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  AppendConfig("\n[extra]\nblok_interval = 3\n");
  auto r = LoadConfig(home_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("extra.blok_interval"), std::string::npos);
}

TEST_F(HomeTest, BlockGasBudgetIsReadAndMustBePositive) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  // Written with its default.
  ASSERT_TRUE(ReplaceInConfig("max_block_gas = 25000000", "max_block_gas = 7000000"));
  auto r = LoadConfig(home_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_block_gas, 7'000'000u);
  ASSERT_TRUE(ReplaceInConfig("max_block_gas = 7000000", "max_block_gas = 0"));
  EXPECT_EQ(LoadConfig(home_).status().reason(), "bad_config");
}

TEST_F(HomeTest, StateHistoryIsArchiveOrAWindowOfAtLeastTheMinimum) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  auto r = LoadConfig(home_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state_history, 0u);  // written as an archive node
  ASSERT_TRUE(ReplaceInConfig("state_history = 0", "state_history = 1000"));
  r = LoadConfig(home_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state_history, 1000u);
  ASSERT_TRUE(ReplaceInConfig("state_history = 1000",
                              "state_history = " + std::to_string(kMinStateHistory - 1)));
  EXPECT_EQ(LoadConfig(home_).status().reason(), "bad_config");
}

// config.toml is written by toml++ (issue 25): a moniker with quotes, backslashes, a line break
// or a TOML comment sign reads back exactly, and so do peers and paths.
TEST_F(HomeTest, ConfigWithAwkwardStringsRoundTrips) {
  Config c;
  c.home = home_;
  c.moniker = "Ana \"the\" council\nmember \\ # not a comment \t\x01 \u00e9";
  c.grpc_tls_cert = "certs/\"odd\".pem";
  c.grpc_tls_key = "certs/key\n.pem";
  c.p2p_peers = {std::string(64, 'a') + "@host.example:26656"};
  const std::string text = ConfigToToml(c);
  auto back = ParseConfig(text, home_, "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(back->moniker, c.moniker);
  EXPECT_EQ(back->grpc_tls_cert, c.grpc_tls_cert);
  EXPECT_EQ(back->grpc_tls_key, c.grpc_tls_key);
  EXPECT_EQ(back->p2p_peers, c.p2p_peers);
  // Re-writing what was read gives the same file.
  EXPECT_EQ(ConfigToToml(*back), text);
}

TEST_F(HomeTest, InitWithAQuotedMonikerWritesALoadableHome) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "say \"hi\"\nthere"}).ok());
  auto loaded = LoadHome(home_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->config.moniker, "say \"hi\"\nthere");
}

// `config validate` and `start` accept the same listen addresses: an IP address (IPv6 in
// brackets) or a hostname, which the HTTP server and the P2P transport resolve at start.
TEST(ListenAddressTest, ValidateAcceptsWhatStartBinds) {
  Config c;
  ASSERT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c).ToString();
  for (const char* host : {"localhost:26660", "127.0.0.1:26660", "[::1]:26660"}) {
    Config http = c;
    http.http_listen = host;
    EXPECT_TRUE(ValidateConfig(http).ok()) << host << ": " << ValidateConfig(http).ToString();
    Config p2p = c;
    p2p.p2p_listen = host;
    EXPECT_TRUE(ValidateConfig(p2p).ok()) << host << ": " << ValidateConfig(p2p).ToString();
  }
  Config bad = c;
  bad.p2p_listen = "node-1.example.org";  // no port
  EXPECT_EQ(ValidateConfig(bad).reason(), "bad_config");
}

TEST_F(HomeTest, ConfigWrongTypeIsAnError) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  ASSERT_TRUE(ReplaceInConfig("block_interval_ms = 500", "block_interval_ms = \"fast\""));
  auto r = LoadConfig(home_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_config");
}

TEST(LogLevelsTest, ADefaultLevelAndPerModuleOverrides) {
  auto l = ParseLogLevels("warn,p2p=debug,consensus=trace");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->fallback, spdlog::level::warn);
  EXPECT_EQ(l->modules[static_cast<size_t>(Module::kP2p)], spdlog::level::debug);
  EXPECT_EQ(l->modules[static_cast<size_t>(Module::kConsensus)], spdlog::level::trace);
  EXPECT_EQ(l->modules[static_cast<size_t>(Module::kApi)], spdlog::level::warn);
  EXPECT_EQ(ParseLogLevels("p2p=debug")->modules[0], spdlog::level::info);
  for (const char* bad : {"loud", "info,warn", "info,chain=debug", "p2p=verbose"}) {
    auto r = ParseLogLevels(bad);
    EXPECT_EQ(r.status().reason(), "bad_config") << bad;
  }
  EXPECT_NE(ParseLogLevels("info,chain=debug").status().message().find("chain"), std::string::npos);
}

TEST(LogFormatTest, JsonLinesParseWhateverTheMessageHolds) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("p2p", sink);
  logger.set_formatter(MakeLogFormatter("json", "n\"0\" 100%"));
  // What a peer might send to be logged: quotes that would close the field, a newline that
  // would start a forged line, a backslash, a byte that is not UTF-8.
  const std::string hostile = "chain \"x\"}\n{\"level\":\"critical\" \\ \xff";
  logger.warn("peer says {}", hostile);
  logger.info("second");
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    parsed.push_back(j);
  }
  ASSERT_EQ(parsed.size(), 2u) << out.str();
  EXPECT_EQ(parsed[0]["level"], "warning");
  EXPECT_EQ(parsed[0]["module"], "p2p");
  EXPECT_EQ(parsed[0]["node"], "n\"0\" 100%");
  EXPECT_EQ(parsed[0]["msg"], "peer says chain \"x\"}\n{\"level\":\"critical\" \\ \xEF\xBF\xBD");
  EXPECT_TRUE(parsed[0]["ts"].is_string());
  EXPECT_EQ(parsed[1]["msg"], "second");

  // Plain lines carry the moniker and module literally.
  std::ostringstream plain_out;
  spdlog::logger plain("api", std::make_shared<spdlog::sinks::ostream_sink_mt>(plain_out));
  plain.set_formatter(MakeLogFormatter("plain", "n0 100%"));
  plain.info("hello");
  EXPECT_NE(plain_out.str().find("[n0 100% api] hello"), std::string::npos) << plain_out.str();
}

TEST_F(HomeTest, UnknownLogFormatIsRefused) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  std::string path = home_ + "/config/config.toml";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto pos = text.find("format = \"plain\"");
  ASSERT_NE(pos, std::string::npos) << text;
  text.replace(pos, 16, "format = \"xml\"");
  std::ofstream(path) << text;
  auto r = LoadConfig(home_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_config");
  EXPECT_NE(r.status().message().find("log format"), std::string::npos);
}

TEST_F(HomeTest, TestnetHomesFormOneCouncil) {
  TestnetOptions opts;
  opts.output = home_;
  opts.validators = 4;
  opts.base_port = 30000;
  ASSERT_TRUE(InitTestnet(opts).ok());
  std::vector<crypto::PublicKey> keys;
  for (int i = 0; i < 4; ++i) {
    auto loaded = LoadHome(home_ + "/node" + std::to_string(i));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->genesis.validators.size(), 4u);
    // The validators reach each other through the genesis endpoints of their offers.
    EXPECT_TRUE(loaded->config.p2p_peers.empty());
    EXPECT_EQ(loaded->config.p2p_listen, "127.0.0.1:" + std::to_string(30000 + 10 * i));
    EXPECT_EQ(loaded->genesis.validators[i].p2p, loaded->config.p2p_listen);
    auto key = ReadKeyFile(loaded->config.ValidatorKeyPath());
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(loaded->genesis.validators[i].public_key, key->public_key());
  }
  // The ceremony's files: an offer per node, the draft and the genesis every home installed.
  EXPECT_TRUE(fs::exists(home_ + "/ceremony/node3.offer.json"));
  auto genesis = LoadGenesisFile(home_ + "/genesis.json");
  ASSERT_TRUE(genesis.ok());
  EXPECT_EQ(genesis->hash, LoadHome(home_ + "/node0")->genesis.hash);
  EXPECT_EQ(InitTestnet(opts).reason(), "exists");
}

TEST_F(HomeTest, KeyFileReadableByOthersIsRefused) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  std::string path = home_ + "/keys/operator.json";
  ASSERT_TRUE(ReadKeyFile(path).ok());
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(ReadKeyFile(path).status().reason(), "bad_key_file");
}

TEST_F(HomeTest, DamagedGenesisIsRefused) {
  ASSERT_TRUE(InitSoloHome({home_, "test-chain", "n0"}).ok());
  std::ofstream(home_ + "/config/genesis.json") << "{\"chain_id\": \"x\", \"validators\": []}";
  auto r = LoadHome(home_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_genesis");
}

}  // namespace
}  // namespace civitas::node
