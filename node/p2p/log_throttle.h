#pragma once

// Private to node/p2p/: bounds how many lines one kind of event may log, so that a flood of
// refused connections costs the node a few lines per window, not a line per connection.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace civitas::p2p {

// At most `burst` lines per `window` (a fixed window, restarted by the first line after it
// ends); the rest are counted and the count is reported with the next line let through. Not
// thread-safe: callers hold their own lock.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  LogThrottle(size_t burst, std::chrono::milliseconds window) : burst_(burst), window_(window) {}

  // True if a line may be logged at `now`; then *suppressed is the number of lines refused since
  // the previous line let through.
  bool Allow(Clock::time_point now, uint64_t* suppressed) {
    if (used_ == 0 || now - window_start_ >= window_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= burst_) {
      ++suppressed_;
      return false;
    }
    ++used_;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const size_t burst_;
  const std::chrono::milliseconds window_;
  Clock::time_point window_start_{};
  size_t used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace civitas::p2p
