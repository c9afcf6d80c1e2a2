#include "ledger/generational_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace civitas {
namespace {

using StateCache =
    GenerationalCache<std::string, std::optional<std::string>, std::hash<std::string>>;

TEST(GenerationalCache, AFillThatAWriteOvertookIsDropped) {
  StateCache cache(64);
  std::optional<std::string> out;
  // A reader misses, takes its ticket and reads the old value from the database; a writer
  // commits a new value and puts it; the reader's fill must not bring the old value back.
  ASSERT_FALSE(cache.Get("acct", &out));
  const uint64_t ticket = cache.Ticket("acct");
  cache.Put("acct", std::string("new"));
  cache.Fill("acct", std::string("old"), ticket);
  ASSERT_TRUE(cache.Get("acct", &out));
  EXPECT_EQ(out, std::optional<std::string>("new"));
  // Also when the writer's value is one the cache does not hold (Erase): the key stays absent.
  const uint64_t ticket2 = cache.Ticket("big");
  cache.Erase("big");
  cache.Fill("big", std::string("stale"), ticket2);
  EXPECT_FALSE(cache.Get("big", &out));
  // A fill with no write in between is kept, absent values included.
  const uint64_t ticket3 = cache.Ticket("missing");
  cache.Fill("missing", std::nullopt, ticket3);
  ASSERT_TRUE(cache.Get("missing", &out));
  EXPECT_FALSE(out.has_value());
}

TEST(GenerationalCache, WritesReplaceAndEraseRemovesFromBothGenerations) {
  StateCache cache(16);  // 16 shards of 2 entries per generation
  cache.Put("k", std::string("1"));
  // Push "k" into the previous generation of its shard (other keys rotate the shards).
  for (int i = 0; i < 200; ++i) cache.Put("other" + std::to_string(i), std::string("x"));
  cache.Put("k", std::string("2"));
  std::optional<std::string> out;
  ASSERT_TRUE(cache.Get("k", &out));
  EXPECT_EQ(out, std::optional<std::string>("2"));
  cache.Erase("k");
  EXPECT_FALSE(cache.Get("k", &out));
  int kept = 0;
  for (int i = 0; i < 200; ++i) kept += cache.Get("other" + std::to_string(i), &out) ? 1 : 0;
  EXPECT_LE(kept, 16 * 2 * 2);  // bounded: two generations of at most 2 (+1) per shard
  EXPECT_GT(kept, 0);
}

}  // namespace
}  // namespace civitas
