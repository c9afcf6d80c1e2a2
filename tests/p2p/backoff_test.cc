#include "node/p2p/backoff.h"

#include <gtest/gtest.h>

namespace civitas::p2p {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheCapWithJitter) {
  Backoff b(milliseconds(100), milliseconds(5000), 42);
  int64_t expected[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int64_t d : expected) {
    int64_t got = b.Next().count();
    EXPECT_GE(got, d - d / 2) << d;
    EXPECT_LE(got, d) << d;
  }
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
}

TEST(BackoffTest, SameSeedSameDelaysOtherSeedDiffers) {
  Backoff a(milliseconds(100), milliseconds(5000), 1);
  Backoff b(milliseconds(100), milliseconds(5000), 1);
  Backoff c(milliseconds(100), milliseconds(5000), 2);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    auto x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace civitas::p2p
