#include "node/p2p/backoff.h"

#include <algorithm>

namespace civitas::p2p {

std::chrono::milliseconds Backoff::Next() {
  int64_t d = initial_.count();
  for (int i = 0; i < attempts_ && d < max_.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, max_.count());
  if (attempts_ < 64) ++attempts_;
  std::uniform_int_distribution<int64_t> jitter(d - d / 2, d);
  return std::chrono::milliseconds(jitter(rng_));
}

}  // namespace civitas::p2p
