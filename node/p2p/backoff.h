#pragma once

// Reconnect delays: exponential backoff with "equal jitter". Attempt k (from 0) waits
// d = min(max, initial * 2^k), drawn uniformly from [d/2, d], so peers that lost each other at
// the same moment do not redial in lockstep. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <random>

namespace civitas::p2p {

class Backoff {
 public:
  // Precondition: 0 < initial <= max. `seed` makes the jitter reproducible.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
      : initial_(initial), max_(max), rng_(seed) {}

  // The delay before the next attempt; each call counts one attempt.
  std::chrono::milliseconds Next();
  // After a successful connection: the next delay is drawn from [initial/2, initial] again.
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

}  // namespace civitas::p2p
