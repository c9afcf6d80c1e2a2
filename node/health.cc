#include "node/health.h"

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
