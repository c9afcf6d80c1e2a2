// Readiness for faults the chain absorbs (issue 22; node/health.h).
#include "node/health.h"

#include <gtest/gtest.h>

namespace civitas::node {
namespace {

HealthInputs Healthy() {
  HealthInputs in;
  in.validating = true;
  in.council_size = 4;
  in.peers = 3;
  return in;
}

TEST(HealthTest, AConnectedValidatorWithAFairClockIsReady) {
  EXPECT_EQ(NotReadyReason(Healthy()), "");
  HealthInputs in = Healthy();
  in.clock_offset_ms = 9'000;  // within the bound
  EXPECT_EQ(NotReadyReason(in), "");
}

TEST(HealthTest, AValidatorWithoutPeersIsNotReadyUnlessItIsTheWholeCouncil) {
  HealthInputs in = Healthy();
  in.peers = 0;
  EXPECT_EQ(NotReadyReason(in),
            "no peers: a validator of a council of 4 connected to none of the others");
  in.council_size = 1;
  EXPECT_EQ(NotReadyReason(in), "");
  in.council_size = 4;
  in.validating = false;  // a follower waits for block sync; not a validator's fault
  EXPECT_EQ(NotReadyReason(in), "");
}

TEST(HealthTest, ItsOwnKeyEquivocatingMakesItUnready) {
  HealthInputs in = Healthy();
  in.own_equivocations = 2;
  EXPECT_NE(NotReadyReason(in).find("another process signs with this validator's key"),
            std::string::npos);
}

TEST(HealthTest, AClockBeyondTheConsensusBoundMakesItUnready) {
  HealthInputs in = Healthy();
  in.clock_offset_ms = -60'000;
  EXPECT_EQ(NotReadyReason(in),
            "clock 60 s behind the council's (bound 10 s): its proposals or its votes are refused");
  in.clock_offset_ms = 60'000;
  EXPECT_NE(NotReadyReason(in).find("clock 60 s ahead of"), std::string::npos);
}

TEST(ClockOffsetTest, TheMedianOfRecentProposalsIgnoresOneWrongProposer) {
  ClockOffset c;
  EXPECT_FALSE(c.EstimateMs());
  c.Add(-60'000);
  c.Add(-60'010);
  EXPECT_FALSE(c.EstimateMs()) << "two samples are not an estimate";
  c.Add(-59'990);
  ASSERT_TRUE(c.EstimateMs());
  EXPECT_EQ(*c.EstimateMs(), -60'000);
  // Of four proposers one has a wrong clock: every fourth sample is off; the median holds.
  ClockOffset d;
  for (int i = 0; i < 40; ++i) d.Add(i % 4 == 0 ? 120'000 : 5);
  EXPECT_EQ(*d.EstimateMs(), 5);
  // The window moves: a clock set right shows within kSamples proposals.
  for (size_t i = 0; i < ClockOffset::kSamples; ++i) c.Add(3);
  EXPECT_EQ(*c.EstimateMs(), 3);
}

}  // namespace
}  // namespace civitas::node
