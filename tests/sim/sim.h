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
  // Quiet idle council (docs/CONSENSUS.md, "Idle council"): 0 keeps the model above. Otherwise
  // traffic comes in phases, idle (1 to 4 heartbeats long) and load (100 ms to 2 s); each
  // phase change reaches each replica after a network delay (gossip) as
  // Replica::SetTransactionsPending. While idle the app has no payload, and a leader proposes
  // an empty block only once `heartbeat_ms` passed since the last proposal it saw; the
  // replicas' round timers are heartbeat_ms longer (Config::idle_round_ms).
  uint64_t heartbeat_ms = 0;
  bool traffic = true;      // false: never a load phase (an idle council from start to end)
  bool idle_timers = true;  // negative control: false leaves the replicas' timers normal
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
  uint64_t timeouts = 0;  // round timers of honest replicas that fired (each sends a timeout)
  // Of those, the ones that fired while the round's leader (honest, up, in that round) was
  // still waiting to propose: the pacemaker timed out a leader that only waited for its
  // heartbeat or its payload.
  uint64_t waiting_leader_timeouts = 0;
  std::string digest;  // hash of every honest commit, for replay checks
};

SimResult RunSim(const SimOptions& options);

// "--seed 7 --n 4 --byz 1 ..." : the flags of civitas_sim that replay `options`.
std::string ReplayFlags(const SimOptions& options);

}  // namespace civitas::consensus::sim
