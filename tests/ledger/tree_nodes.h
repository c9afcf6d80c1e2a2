#pragma once

// Test helper: the node set of a state tree, to compare trees node by node.

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "ledger/smt.h"

namespace civitas::testing {

// Every node of the tree at `root` in `reader` (a missing or malformed node fails the test).
inline std::set<Hash32> ReachableNodes(const smt::NodeReader& reader, const Hash32& root) {
  std::set<Hash32> out;
  std::vector<Hash32> todo{root};
  while (!todo.empty()) {
    const Hash32 h = todo.back();
    todo.pop_back();
    if (h == smt::kEmptyRoot || !out.insert(h).second) continue;
    Bytes raw;
    Status s = reader.GetNode(h, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(raw.size(), 65u);
    if (!s.ok() || raw.size() != 65 || raw[0] != 1) continue;  // a leaf
    Hash32 left, right;
    std::copy(raw.begin() + 1, raw.begin() + 33, left.begin());
    std::copy(raw.begin() + 33, raw.end(), right.begin());
    todo.push_back(left);
    todo.push_back(right);
  }
  return out;
}

}  // namespace civitas::testing
