#include "node/p2p/send_queue.h"

#include <gtest/gtest.h>

namespace civitas::p2p {
namespace {

SendQueue::Item Item(uint8_t channel, bool critical, size_t size, uint8_t tag) {
  return {channel, critical, std::make_shared<const Bytes>(size, tag)};
}

std::vector<uint8_t> Tags(SendQueue& q) {
  std::vector<uint8_t> tags;
  while (auto it = q.Pop()) tags.push_back((*it->frame)[0]);
  return tags;
}

TEST(SendQueueTest, EvictsOldestNonCriticalWhenCountIsReached) {
  SendQueue q(3, 1000);
  ASSERT_TRUE(q.Push(Item(1, false, 10, 1)).ok());
  ASSERT_TRUE(q.Push(Item(0, true, 10, 2)).ok());
  ASSERT_TRUE(q.Push(Item(1, false, 10, 3)).ok());
  ASSERT_TRUE(q.Push(Item(0, true, 10, 4)).ok());   // evicts 1
  ASSERT_TRUE(q.Push(Item(1, false, 10, 5)).ok());  // evicts 3
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(Tags(q), (std::vector<uint8_t>{2, 4, 5}));
}

TEST(SendQueueTest, EvictsByBytes) {
  SendQueue q(100, 100);
  ASSERT_TRUE(q.Push(Item(1, false, 40, 1)).ok());
  ASSERT_TRUE(q.Push(Item(1, false, 40, 2)).ok());
  ASSERT_TRUE(q.Push(Item(0, true, 50, 3)).ok());  // 130 > 100: evicts 1 only
  EXPECT_EQ(q.bytes(), 90u);
  EXPECT_EQ(Tags(q), (std::vector<uint8_t>{2, 3}));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(SendQueueTest, RefusesAndKeepsQueueWhenOnlyCriticalFramesRemain) {
  SendQueue q(2, 1000);
  ASSERT_TRUE(q.Push(Item(0, true, 10, 1)).ok());
  ASSERT_TRUE(q.Push(Item(1, false, 10, 2)).ok());
  ASSERT_TRUE(q.Push(Item(0, true, 10, 3)).ok());  // evicts 2
  Status s = q.Push(Item(0, true, 10, 4));
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(s.reason(), "queue_full");
  s = q.Push(Item(1, false, 10, 5));  // a non-critical frame never evicts a critical one
  EXPECT_EQ(s.reason(), "queue_full");
  EXPECT_EQ(Tags(q), (std::vector<uint8_t>{1, 3}));
}

TEST(SendQueueTest, RefusalLeavesNonCriticalFramesInPlace) {
  SendQueue q(10, 100);
  ASSERT_TRUE(q.Push(Item(0, true, 60, 1)).ok());
  ASSERT_TRUE(q.Push(Item(1, false, 20, 2)).ok());
  // 60 + 20 + 50 > 100 and evicting 2 is not enough: refused, 2 stays.
  EXPECT_FALSE(q.Push(Item(0, true, 50, 3)).ok());
  EXPECT_EQ(q.dropped(), 0u);
  EXPECT_EQ(Tags(q), (std::vector<uint8_t>{1, 2}));
}

TEST(SendQueueTest, ClearCountsDrops) {
  SendQueue q(10, 100);
  ASSERT_TRUE(q.Push(Item(0, true, 10, 1)).ok());
  ASSERT_TRUE(q.Push(Item(1, false, 10, 2)).ok());
  q.Clear();
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.dropped(), 2u);
}

}  // namespace
}  // namespace civitas::p2p
