#include "node/health.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdlib>

namespace civitas::node {

void ClockOffset::Add(int64_t local_minus_block_ms) {
  if (ring_.size() < kSamples) {
    ring_.push_back(local_minus_block_ms);
  } else {
    ring_[next_] = local_minus_block_ms;
    next_ = (next_ + 1) % kSamples;
  }
}

std::optional<int64_t> ClockOffset::EstimateMs() const {
  if (ring_.size() < kMinSamples) return std::nullopt;
  std::vector<int64_t> v = ring_;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

Status CheckFreeSpace(const std::string& path, uint64_t min_free) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return Status::Ok();
  const uint64_t free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free >= min_free) return Status::Ok();
  return Status::Error(Status::Code::kResourceExhausted, "disk_full",
                       "the disk holding the ledger at " + path + " is full (" +
                           std::to_string(free >> 20) + " MiB free, below the " +
                           std::to_string(min_free >> 20) +
                           " MiB the node keeps in reserve). Nothing acknowledged as committed "
                           "is lost; free space on that file system and start the node again");
}

std::string NotReadyReason(const HealthInputs& in) {
  if (in.own_equivocations > 0) {
    return "another process signs with this validator's key (" +
           std::to_string(in.own_equivocations) +
           " blocks of this key that this node did not propose); stop one of them";
  }
  if (in.validating && in.council_size > 1 && in.peers == 0) {
    return "no peers: a validator of a council of " + std::to_string(in.council_size) +
           " connected to none of the others";
  }
  if (in.validating && in.clock_offset_ms &&
      static_cast<uint64_t>(std::llabs(*in.clock_offset_ms)) > kMaxClockSkewMs) {
    const int64_t s = *in.clock_offset_ms / 1000;
    return "clock " + std::to_string(std::llabs(s)) + " s " + (s > 0 ? "ahead of" : "behind") +
           " the council's (bound " + std::to_string(kMaxClockSkewMs / 1000) +
           " s): its proposals or its votes are refused";
  }
  return "";
}

}  // namespace civitas::node
