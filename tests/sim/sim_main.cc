// civitas_sim: runs the consensus simulator over a range of seeds.
//
//   civitas_sim --seeds 1000 [--start 1] [--n 4|7] [--byz 1] [--fault-ms 4000]
//               [--no-partitions] [--no-crashes] [--quorum Q] [--no-persist]
//               [--real-crypto] [--idle PERMILLE] [--heartbeat-ms MS] [--no-traffic]
//               [--no-idle-timers] [--calm-commits K] [--liveness-rounds R] [--trace]
//               [--seed S]
//
// --seed S runs one seed (what a failure report prints). Exit status 1 if any seed fails.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/sim.h"

using civitas::consensus::sim::ReplayFlags;
using civitas::consensus::sim::RunSim;
using civitas::consensus::sim::SimOptions;

int main(int argc, char** argv) {
  SimOptions o;
  uint64_t seeds = 100, start = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--seeds")
      seeds = next();
    else if (a == "--start")
      start = next();
    else if (a == "--seed") {
      start = next();
      seeds = 1;
    } else if (a == "--n")
      o.n = static_cast<uint32_t>(next());
    else if (a == "--byz")
      o.byzantine = static_cast<uint32_t>(next());
    else if (a == "--fault-ms")
      o.fault_ms = next();
    else if (a == "--quorum")
      o.quorum = static_cast<uint32_t>(next());
    else if (a == "--no-persist")
      o.persist_safety = false;
    else if (a == "--no-partitions")
      o.partitions = false;
    else if (a == "--no-crashes")
      o.crashes = false;
    else if (a == "--real-crypto")
      o.real_crypto = true;
    else if (a == "--idle")
      o.idle_permille = static_cast<uint32_t>(next());
    else if (a == "--heartbeat-ms")
      o.heartbeat_ms = next();
    else if (a == "--calm-commits")
      o.calm_commits = next();
    else if (a == "--liveness-rounds")
      o.liveness_rounds = next();
    else if (a == "--no-traffic")
      o.traffic = false;
    else if (a == "--no-idle-timers")
      o.idle_timers = false;
    else if (a == "--trace")
      o.trace = true;
    else {
      std::fprintf(stderr, "unknown flag %s (see the comment at the top of sim_main.cc)\n",
                   a.c_str());
      return 2;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t failed = 0, rounds = 0, heights = 0, steps = 0, sim_ms = 0;
  for (uint64_t s = start; s < start + seeds; ++s) {
    o.seed = s;
    auto r = RunSim(o);
    rounds += r.rounds;
    heights += r.height;
    steps += r.steps;
    sim_ms += r.sim_ms;
    if (!r.ok) {
      ++failed;
      std::printf("FAIL seed=%llu: %s\n  replay: civitas_sim %s --trace\n",
                  static_cast<unsigned long long>(s), r.violation.c_str(), ReplayFlags(o).c_str());
    } else if (seeds == 1) {
      std::printf(
          "ok seed=%llu rounds=%llu height=%llu steps=%llu timeouts=%llu "
          "waiting_leader_timeouts=%llu "
          "sim_ms=%llu digest=%s\n",
          static_cast<unsigned long long>(s), static_cast<unsigned long long>(r.rounds),
          static_cast<unsigned long long>(r.height), static_cast<unsigned long long>(r.steps),
          static_cast<unsigned long long>(r.timeouts),
          static_cast<unsigned long long>(r.waiting_leader_timeouts),
          static_cast<unsigned long long>(r.sim_ms), r.digest.c_str());
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "seeds=%llu (%llu..%llu) n=%u byz=%u failed=%llu simulated_rounds=%llu "
      "committed_heights=%llu "
      "steps=%llu simulated_time=%.1fs wall=%.1fs\n",
      static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(start),
      static_cast<unsigned long long>(start + seeds - 1), o.n, o.byzantine,
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(rounds),
      static_cast<unsigned long long>(heights), static_cast<unsigned long long>(steps),
      sim_ms / 1000.0, wall);
  return failed ? 1 : 0;
}
