#pragma once

// The messages StreamBlocks sends for one block. A block's receipts can be several MiB
// (docs/PROTOCOL.md, "Receipt limits"), more than a default gRPC client accepts in one message
// (4 MiB), and building them all in memory once per stream let ten streams take a node to
// 4.5 GB (issue 22). So a block goes out as messages of at most a byte budget, each built from
// receipts read one at a time and written before the next is read.

#include <functional>

#include "civitas/v1/node.pb.h"
#include "ledger/store.h"

namespace civitas::node {

// What StreamBlocks gives every message: under the 4 MiB default of gRPC clients, with room
// for the framing, and more than a block of honest size with its certificate.
inline constexpr size_t kStreamMessageBytes = 3 << 20;

// Reads block `height` of `store` and its receipts and calls `write` with its messages in
// order: the first holds the block and the receipts that fit within `budget` bytes (none if
// the block alone reaches it), each next one the following receipts within `budget`, with
// first_receipt and more_receipts set (proto/civitas/v1/node.proto). A message passes `budget`
// only when it holds the block alone or a single receipt. Stops when `write` returns false
// (then returns OK); fails on a store error.
Status ForEachBlockMessage(const Store& store, uint64_t height, size_t budget,
                           const std::function<bool(const v1::StreamBlocksResponse&)>& write);

}  // namespace civitas::node
