// The validator's safety data: a node never signs without it. Damaged or missing safety data
// above height 0 stops the node at start with a clear error; nothing is reset silently.
#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/store.h"
#include "node/node.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

class SafetyDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.home = civitas::testing::TestDir("safety");
    config_.grpc_listen = config_.http_listen = config_.p2p_listen = "127.0.0.1:0";
    config_.block_interval_ms = 10;
    config_.timeout_base_ms = 200;
  }
  void TearDown() override { std::filesystem::remove_all(config_.home); }

  Status StartAndStop(uint64_t min_height) {
    auto node = Node::Open(config_, chain_.genesis, chain_.validators[0]);
    if (!node.ok()) return node.status();
    Status s = (*node)->Start();
    if (!s.ok()) return s;
    for (int i = 0; i < 500 && (*node)->store().height() < min_height; ++i) {
      (*node)->WaitForCommit(Hash32{}, 10);  // returns at the next commit or after 10 ms
    }
    EXPECT_GE((*node)->store().height(), min_height);
    (*node)->Stop();
    return Status::Ok();
  }

  void EditSafety(const std::vector<std::pair<std::string, std::string>>& puts,
                  const std::vector<std::string>& deletes) {
    auto store = Store::Open(config_.DataPath(), chain_.genesis);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->WriteConsensus(puts, deletes).ok());
  }

  civitas::testing::TestChain chain_ = civitas::testing::MakeTestChain(1);
  Config config_;
};

TEST_F(SafetyDataTest, ARestartedValidatorResumesFromItsSafetyData) {
  ASSERT_TRUE(StartAndStop(3).ok());
  uint64_t before;
  {
    auto store = Store::Open(config_.DataPath(), chain_.genesis);
    ASSERT_TRUE(store.ok());
    before = (*store)->height();
    ASSERT_TRUE((*(*store)->GetConsensus("safety")).has_value());
  }
  ASSERT_TRUE(StartAndStop(before + 2).ok());
}

TEST_F(SafetyDataTest, DamagedSafetyDataStopsTheNodeAtStart) {
  ASSERT_TRUE(StartAndStop(2).ok());
  EditSafety({{"safety", "\x01garbage"}}, {});
  Status s = StartAndStop(0);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("refusing to sign"), std::string::npos) << s.message();
}

TEST_F(SafetyDataTest, MissingSafetyDataAboveGenesisStopsTheNodeAtStart) {
  ASSERT_TRUE(StartAndStop(2).ok());
  EditSafety({}, {"safety"});
  Status s = StartAndStop(0);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace civitas::node
