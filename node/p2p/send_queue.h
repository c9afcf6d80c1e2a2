#pragma once

// The bounded queue of frames waiting to be written to one peer.
//
// Policy when a new frame does not fit (by count or by bytes): the oldest *non-critical* frames
// are evicted, oldest first, until it fits; if evicting every non-critical frame would still not
// make room, the new frame is refused (Status kResourceExhausted, reason "queue_full") and the
// queue is left unchanged. Critical frames (consensus) are therefore never dropped by the queue:
// the sender learns of the refusal and the protocol's own retransmission (timeouts) takes over,
// while gossip and sync traffic make room for them. Not thread-safe; the transport locks it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "ledger/bytes.h"
#include "ledger/status.h"

namespace civitas::p2p {

class SendQueue {
 public:
  struct Item {
    uint8_t channel = 0;
    bool critical = false;
    std::shared_ptr<const Bytes> frame;  // a whole frame; shared by a broadcast's queues
  };

  // Precondition: max_msgs >= 1 and max_bytes >= the largest frame that will be pushed.
  SendQueue(size_t max_msgs, size_t max_bytes) : max_msgs_(max_msgs), max_bytes_(max_bytes) {}

  // Adds `item` at the back, evicting as described above.
  Status Push(Item item);
  // Removes and returns the front frame; nullopt when empty.
  std::optional<Item> Pop();
  // Drops every queued frame (counted as dropped).
  void Clear();

  size_t size() const { return items_.size(); }
  size_t bytes() const { return bytes_; }
  // Frames evicted or cleared since construction.
  uint64_t dropped() const { return dropped_; }

 private:
  size_t max_msgs_;
  size_t max_bytes_;
  std::deque<Item> items_;
  size_t bytes_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace civitas::p2p
