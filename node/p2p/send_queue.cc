#include "node/p2p/send_queue.h"

#include <string>

namespace civitas::p2p {

Status SendQueue::Push(Item item) {
  const size_t size = item.frame->size();
  if (size > max_bytes_) {
    return Status::Error(Status::Code::kResourceExhausted, "queue_full",
                         "frame of " + std::to_string(size) + " bytes exceeds the queue's " +
                             std::to_string(max_bytes_));
  }
  // First decide, without changing anything, how many of the oldest non-critical frames must go.
  size_t count = items_.size();
  size_t bytes = bytes_;
  size_t evict = 0;  // number of non-critical frames, from the front, to evict
  for (const Item& it : items_) {
    if (count + 1 <= max_msgs_ && bytes + size <= max_bytes_) break;
    if (it.critical) continue;
    --count;
    bytes -= it.frame->size();
    ++evict;
  }
  if (count + 1 > max_msgs_ || bytes + size > max_bytes_) {
    return Status::Error(Status::Code::kResourceExhausted, "queue_full",
                         "send queue full of critical frames (" + std::to_string(items_.size()) +
                             " frames, " + std::to_string(bytes_) + " bytes)");
  }
  if (evict > 0) {
    std::deque<Item> kept;
    for (Item& it : items_) {
      if (evict > 0 && !it.critical) {
        --evict;
        ++dropped_;
        continue;
      }
      kept.push_back(std::move(it));
    }
    items_ = std::move(kept);
  }
  bytes_ = bytes + size;
  items_.push_back(std::move(item));
  return Status::Ok();
}

std::optional<SendQueue::Item> SendQueue::Pop() {
  if (items_.empty()) return std::nullopt;
  Item it = std::move(items_.front());
  items_.pop_front();
  bytes_ -= it.frame->size();
  return it;
}

void SendQueue::Clear() {
  dropped_ += items_.size();
  items_.clear();
  bytes_ = 0;
}

}  // namespace civitas::p2p
