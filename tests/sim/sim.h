#pragma once

// A deterministic simulator for the consensus state machine: n replicas in one thread, a
// seeded scheduler that delays, drops, duplicates and reorders messages, partitions that heal,
// crashes that lose everything not persisted, and equivocating byzantine replicas.
// Invariants are checked after every step; see docs/CONSENSUS.md "Simulator".
//
// Everything random comes from one std::mt19937_64 seeded with `seed`, read through our own
// modulo (std distributions differ between standard libraries), so a seed replays exactly on
// any machine.

#include <cstdint>
#include <string>

namespace civitas::consensus::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint32_t n = 4;
  uint32_t byzantine = 1;    // equivocating replicas (consecutive leaders)
  uint64_t fault_ms = 4000;  // simulated time with network faults, partitions and crashes
  bool partitions = true;
  bool crashes = true;
  // Negative controls: deliberately broken rules that the checker must catch.
  uint32_t quorum = 0;         // 0: 2f+1; f+1 breaks quorum intersection
  bool persist_safety = true;  // false: a crash loses the safety data
  bool real_crypto = false;    // BIP-340 instead of the fast keyed-hash stand-in
  // Leaders with nothing to propose: in this many per mille of the steps a replica takes, its
  // app has no payload. A leader left waiting announces its QC (Replica::AnnounceQc) and
  // proposes a little later, as the node does with its empty-block interval.
  uint32_t idle_permille = 300;
  // Liveness: once faults stop, every honest replica commits `calm_commits` new heights
  // before the highest honest round grows by more than `liveness_rounds`.
  uint64_t liveness_rounds = 60;
  uint64_t calm_commits = 3;
  bool trace = false;  // print every event to stderr
};

struct SimResult {
  bool ok = true;
  std::string violation;  // empty when ok
  uint64_t rounds = 0;    // highest round any honest replica reached
  uint64_t height = 0;    // highest committed height
  uint64_t steps = 0;     // events processed
  uint64_t sim_ms = 0;    // simulated time at the end
  std::string digest;     // hash of every honest commit, for replay checks
};

SimResult RunSim(const SimOptions& options);

// "--seed 7 --n 4 --byz 1 ..." : the flags of civitas_sim that replay `options`.
std::string ReplayFlags(const SimOptions& options);

}  // namespace civitas::consensus::sim
