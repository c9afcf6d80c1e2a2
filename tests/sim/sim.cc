#include "tests/sim/sim.h"

#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <variant>
#include <vector>

#include "consensus/codec.h"
#include "consensus/replica.h"
#include "consensus/verify.h"

namespace civitas::consensus::sim {
namespace {

constexpr char kChainId[] = "civitas-sim";
constexpr Epoch kEpoch = 1;
constexpr uint64_t kBaseTimeoutMs = 200;
constexpr uint64_t kMaxTimeoutMs = 3200;
constexpr uint64_t kCalmDelayMs = 20;
constexpr uint64_t kIdleMs = 50;  // how long a leader without a payload waits to propose
constexpr uint64_t kMaxSimMs = 30 * 60 * 1000;
constexpr uint64_t kMaxSteps = 20'000'000;

// Raw engine output and our own modulo: the same numbers with every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t Below(uint64_t k) { return k == 0 ? 0 : engine_() % k; }
  bool Chance(uint64_t permille) { return Below(1000) < permille; }

 private:
  std::mt19937_64 engine_;
};

// A keyed hash stands in for BIP-340 so that thousands of seeds run in seconds: only the
// holder of the secret can produce a signature the verifier accepts, which is all the
// protocol relies on. Some seeds run with real BIP-340 (SimOptions::real_crypto).
class FakeSigner final : public Signer {
 public:
  explicit FakeSigner(const Hash32& secret) : secret_(secret) {}
  crypto::Signature Sign(std::string_view tag, const Bytes& msg) const override {
    Bytes m(secret_.begin(), secret_.end());
    Append(m, msg);
    Hash32 h = crypto::TaggedHash(tag, m);
    crypto::Signature sig{};
    std::copy(h.begin(), h.end(), sig.begin());
    return sig;
  }

 private:
  Hash32 secret_;
};

class FakeVerifier final : public Verifier {
 public:
  void Add(const crypto::PublicKey& pk, const Hash32& secret) { secrets_[pk] = secret; }
  bool Verify(const crypto::PublicKey& pk, std::string_view tag, const Bytes& msg,
              const crypto::Signature& sig) const override {
    auto it = secrets_.find(pk);
    return it != secrets_.end() && FakeSigner(it->second).Sign(tag, msg) == sig;
  }

 private:
  std::map<crypto::PublicKey, Hash32> secrets_;
};

// The node's execution, reduced to a hash chain of committed payloads. A payload claims the
// state root of the proposer's last executed height; honest replicas refuse a wrong claim.
class SimApp final : public App {
 public:
  explicit SimApp(ReplicaId self) : self_(self) {}
  static constexpr size_t kPayloadSize = 8 + 32 + 8;

  std::optional<Bytes> MakePayload(const Block&) override {
    if (declining) return std::nullopt;
    Bytes p;
    PutU64(p, roots_.size() - 1);
    Append(p, roots_.back());
    PutU64(p, (uint64_t{self_} << 48) | ++counter_);
    return p;
  }
  Status VerifyPayload(const Block& block, const Block&) override {
    if (block.payload.size() != kPayloadSize) return Status::Invalid("bad_payload", "size");
    uint64_t h = GetU64(block.payload.data());
    if (h >= block.height) return Status::Invalid("bad_payload", "claims a future height");
    if (h >= roots_.size()) return Status::Invalid("root_unknown", "not executed yet");
    if (!std::equal(roots_[h].begin(), roots_[h].end(), block.payload.begin() + 8)) {
      return Status::Invalid("state_root_mismatch", "claimed root differs from ours");
    }
    return Status::Ok();
  }
  void Execute(const Block& b) {
    Bytes m(roots_.back().begin(), roots_.back().end());
    Append(m, b.payload);
    roots_.push_back(crypto::TaggedHash("civitas/sim-root", m));
  }
  const Hash32& root(Height h) const { return roots_[h]; }
  bool declining = false;  // no payload now (nothing to order yet)

 private:
  ReplicaId self_;
  uint64_t counter_ = 0;
  std::vector<Hash32> roots_{Hash32{}};
};

struct Node {
  ReplicaId id = 0;
  bool byzantine = false;
  bool up = true;
  uint64_t incarnation = 0;
  uint64_t timer_gen = 0;
  Round timer_round = 0;  // the armed timer
  uint64_t timer_deadline = 0;
  bool propose_pending = false;  // a kPropose event is queued for this incarnation
  uint64_t propose_at = 0;       // the time of that event
  bool txs = false;              // heartbeat mode: the node holds a pending transaction
  uint64_t last_block_ms = 0;    // heartbeat mode: when it last saw or made a proposal
  std::unique_ptr<Signer> signer;
  std::unique_ptr<Replica> replica;
  // "Disk": survives a crash.
  std::optional<SafetyData> safety;
  std::vector<Block> committed;
  std::vector<QuorumCert> committed_qcs;
  std::map<Hash32, size_t> committed_index;
  std::map<Hash32, Block> voted_blocks;  // from PersistAction::block, pruned on commit
  std::unique_ptr<SimApp> app;
  // Byzantine bookkeeping.
  std::set<Hash32> byz_voted;
  std::map<std::pair<Round, Hash32>, std::map<ReplicaId, crypto::Signature>> byz_votes;
  std::map<Round, std::vector<QuorumCert>> byz_qcs;
  std::map<Hash32, Block> byz_blocks;
};

enum class EventKind { kDeliver, kTimer, kFault, kRestart, kCalm, kPropose, kTraffic, kPending };

struct Event {
  uint64_t time = 0;
  uint64_t seq = 0;
  EventKind kind = EventKind::kDeliver;
  ReplicaId from = 0, to = 0;
  std::shared_ptr<const Message> msg;
  Round round = 0;
  uint64_t gen = 0;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

const char* KindName(const Message& m) {
  static const char* kNames[] = {"proposal",      "vote",           "timeout",
                                 "block_request", "block_response", "qc"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[m.index()];
}

class Simulator {
 public:
  explicit Simulator(const SimOptions& o) : o_(o), rng_(o.seed) {}

  SimResult Run() {
    Setup();
    while (!queue_.empty() && result_.ok) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.time;
      ++result_.steps;
      Step(e);
      if (result_.ok) CheckProgress();
    }
    if (result_.ok && !done_) Fail("event queue ran dry before liveness was shown");
    result_.sim_ms = now_;
    Hash32 d = digest_.Finish();
    result_.digest = ToHex(d);
    for (const auto& n : nodes_) {
      if (!n.byzantine && n.replica) result_.rounds = std::max(result_.rounds, n.replica->round());
    }
    result_.height = global_commits_.size();
    return result_;
  }

 private:
  void Fail(std::string why) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.violation = std::move(why);
  }

  void Setup() {
    vs_.chain_id = kChainId;
    vs_.epoch = kEpoch;
    vs_.quorum = o_.quorum;
    std::vector<Hash32> secrets;
    for (uint32_t i = 0; i < o_.n; ++i) {
      Hash32 secret{};
      secret[0] = 0x5e;
      secret[30] = static_cast<uint8_t>(i >> 8);
      secret[31] = static_cast<uint8_t>(i + 1);
      secrets.push_back(secret);
      if (o_.real_crypto) {
        vs_.keys.push_back(crypto::SecretKey::FromBytes(secret).value().public_key());
      } else {
        vs_.keys.push_back(crypto::Sha256(AsStringView(secret)));
        fake_verifier_.Add(vs_.keys.back(), secret);
      }
    }
    // Byzantine replicas are consecutive leaders, starting at a seed-chosen index.
    uint32_t first_byz = static_cast<uint32_t>(rng_.Below(o_.n));
    nodes_.resize(o_.n);
    for (uint32_t i = 0; i < o_.n; ++i) {
      Node& n = nodes_[i];
      n.id = i;
      n.byzantine = (i + o_.n - first_byz) % o_.n < o_.byzantine;
      if (o_.real_crypto) {
        n.signer = std::make_unique<Bip340Signer>(crypto::SecretKey::FromBytes(secrets[i]).value());
      } else {
        n.signer = std::make_unique<FakeSigner>(secrets[i]);
      }
      n.app = std::make_unique<SimApp>(i);
    }
    // Per-seed network weather during the fault phase.
    static constexpr uint64_t kDrops[] = {0, 50, 200};
    static constexpr uint64_t kDups[] = {0, 50, 200};
    static constexpr uint64_t kDelays[] = {10, 100, 1000};
    drop_permille_ = kDrops[rng_.Below(3)];
    dup_permille_ = kDups[rng_.Below(3)];
    max_delay_ms_ = kDelays[rng_.Below(3)];
    partition_.assign(o_.n, 0);
    if (o_.trace) {
      std::fprintf(stderr, "sim seed=%llu drop=%llu dup=%llu max_delay=%llu byz_from=%u\n",
                   static_cast<unsigned long long>(o_.seed),
                   static_cast<unsigned long long>(drop_permille_),
                   static_cast<unsigned long long>(dup_permille_),
                   static_cast<unsigned long long>(max_delay_ms_), first_byz);
    }
    for (auto& n : nodes_) StartReplica(n);
    if (o_.fault_ms > 0 && (o_.partitions || o_.crashes))
      Push(At(rng_.Below(500), EventKind::kFault));
    if (o_.heartbeat_ms > 0) Push(At(o_.heartbeat_ms * (1 + rng_.Below(4)), EventKind::kTraffic));
    Push(At(o_.fault_ms, EventKind::kCalm));
  }

  static Event At(uint64_t time, EventKind kind) {
    Event e;
    e.time = time;
    e.kind = kind;
    return e;
  }

  void Push(Event e) {
    e.seq = next_seq_++;
    queue_.push(std::move(e));
  }

  Config MakeConfig(const Node& n) const {
    Config c;
    c.validators = vs_;
    c.self = n.id;
    c.signer = n.signer.get();
    c.verifier = o_.real_crypto ? nullptr : &fake_verifier_;
    c.base_timeout_ms = kBaseTimeoutMs;
    c.max_timeout_ms = kMaxTimeoutMs;
    if (o_.idle_timers) c.idle_round_ms = o_.heartbeat_ms;
    return c;
  }

  void StartReplica(Node& n) {
    n.up = true;
    n.replica = std::make_unique<Replica>(MakeConfig(n), *n.app);
    if (n.safety || !n.committed.empty()) {
      RecoveryData r;
      r.safety = n.safety.value_or(SafetyData{kEpoch, 0, 0, GenesisQc(kEpoch)});
      r.last_committed = n.committed.empty() ? GenesisBlock(kEpoch) : n.committed.back();
      r.last_committed_qc = n.committed.empty() ? GenesisQc(kEpoch) : n.committed_qcs.back();
      for (const auto& [id, b] : n.voted_blocks) r.blocks.push_back(b);
      Status st = n.replica->Restore(r);
      if (!st.ok()) Fail("restore failed: " + st.ToString());
    }
    Actions out;
    // A restarted node's mempool is refilled by gossip: it knows the traffic of the moment.
    n.txs = load_;
    n.replica->SetTransactionsPending(n.txs, out);
    n.last_block_ms = now_;
    Decide(n);
    n.replica->Start(out);
    Handle(n, out);
    AfterStep(n);
  }

  // Whether the node's app has a payload during the next step. In heartbeat mode an idle
  // node has none (its empty block waits for the heartbeat: AfterStep, kPropose).
  void Decide(Node& n) {
    n.app->declining =
        (o_.heartbeat_ms > 0 && !n.txs) || (o_.idle_permille > 0 && rng_.Chance(o_.idle_permille));
  }

  // Heartbeat mode: the earliest time an idle leader may propose an empty block.
  uint64_t HeartbeatDue(const Node& n) const {
    return o_.heartbeat_ms > 0 && !n.txs ? n.last_block_ms + o_.heartbeat_ms : 0;
  }

  // A leader left without a proposal announces its QC and proposes a little later.
  void AfterStep(Node& n) {
    if (!n.up || !result_.ok || !n.replica->AwaitingProposal()) return;
    Actions out;
    n.replica->AnnounceQc(out);
    Handle(n, out);
    if (n.propose_pending && o_.heartbeat_ms == 0) return;
    uint64_t at = std::max(now_ + 1 + rng_.Below(kIdleMs), HeartbeatDue(n));
    // One kPropose queued at a time; an earlier one replaces it (a heartbeat's wait ends when
    // transactions come).
    if (!n.propose_pending || at < n.propose_at) {
      n.propose_pending = true;
      n.propose_at = at;
      Push({at, 0, EventKind::kPropose, n.id, n.id, nullptr, 0, n.incarnation});
    }
  }

  void Crash(Node& n) {
    n.up = false;
    n.propose_pending = false;
    n.timer_round = 0;
    n.replica.reset();
    ++n.incarnation;
    if (!o_.persist_safety) n.safety.reset();  // negative control: nothing reached the disk
  }

  // ---- network ----

  void Send(ReplicaId from, ReplicaId to, std::shared_ptr<const Message> msg) {
    if (from == to) return;
    bool faulty = !calm_;
    if (faulty && partition_[from] != partition_[to]) return;
    if (faulty && rng_.Chance(drop_permille_)) return;
    uint64_t max_delay = faulty ? max_delay_ms_ : kCalmDelayMs;
    Push({now_ + 1 + rng_.Below(max_delay), 0, EventKind::kDeliver, from, to, msg});
    if (faulty && rng_.Chance(dup_permille_)) {
      Push({now_ + 1 + rng_.Below(max_delay), 0, EventKind::kDeliver, from, to, msg});
    }
  }

  void Broadcast(ReplicaId from, std::shared_ptr<const Message> msg) {
    for (uint32_t j = 0; j < o_.n; ++j) Send(from, j, msg);
  }

  // ---- events ----

  void Step(const Event& e) {
    switch (e.kind) {
      case EventKind::kDeliver:
        return Deliver(e);
      case EventKind::kTimer: {
        Node& n = nodes_[e.to];
        if (!n.up || e.gen != n.timer_gen) return;
        Trace(n.id, "timer", e.round);
        Actions out;
        Decide(n);
        n.replica->OnLocalTimeout(e.round, out);
        if (!n.byzantine && !out.empty()) {
          ++result_.timeouts;
          const Node& leader = nodes_[vs_.Leader(e.round)];
          if (leader.up && !leader.byzantine && leader.replica->round() == e.round &&
              leader.replica->AwaitingProposal()) {
            ++result_.waiting_leader_timeouts;
          }
        }
        Handle(n, out);
        return AfterStep(n);
      }
      case EventKind::kPropose: {
        Node& n = nodes_[e.to];
        if (!n.up || e.gen != n.incarnation || !n.propose_pending || e.time != n.propose_at) {
          return;  // replaced by an earlier one
        }
        if (HeartbeatDue(n) > now_) {  // a proposal seen since: the heartbeat moved
          n.propose_at = HeartbeatDue(n);
          Push({n.propose_at, 0, EventKind::kPropose, n.id, n.id, nullptr, 0, n.incarnation});
          return;
        }
        Trace(n.id, "propose", n.replica->round());
        n.propose_pending = false;
        n.app->declining = false;
        Actions out;
        n.replica->ProposeIfReady(out);
        Handle(n, out);
        return AfterStep(n);
      }
      case EventKind::kFault:
        return Fault();
      case EventKind::kRestart: {
        Node& n = nodes_[e.to];
        if (!n.up && e.gen == n.incarnation) {
          Trace(n.id, "restart", 0);
          StartReplica(n);
        }
        return;
      }
      case EventKind::kCalm:
        return Calm();
      case EventKind::kTraffic:
        return Traffic();
      case EventKind::kPending: {
        Node& n = nodes_[e.to];
        if (!n.up || e.gen != n.incarnation) return;
        n.txs = e.round != 0;
        Trace(n.id, n.txs ? "txs_pending" : "txs_none", 0);
        Actions out;
        Decide(n);
        n.replica->SetTransactionsPending(n.txs, out);
        if (n.txs) n.replica->ProposeIfReady(out);  // a waiting leader now has a payload
        Handle(n, out);
        return AfterStep(n);
      }
    }
  }

  // Heartbeat mode: the next phase of traffic; gossip brings it to each replica after a
  // network delay (or drops it, during faults: the node learns of it a little later).
  void Traffic() {
    load_ = o_.traffic && !load_;
    uint64_t next = load_ ? 100 + rng_.Below(1900) : o_.heartbeat_ms * (1 + rng_.Below(4));
    Trace(0, load_ ? "load" : "idle", 0);
    for (const Node& n : nodes_) {
      uint64_t delay = calm_ ? kCalmDelayMs : max_delay_ms_;
      if (!calm_ && rng_.Chance(drop_permille_)) delay += max_delay_ms_;
      Push({now_ + 1 + rng_.Below(delay), 0, EventKind::kPending, n.id, n.id, nullptr,
            load_ ? 1u : 0u, n.incarnation});
    }
    Push(At(now_ + next, EventKind::kTraffic));
  }

  void Fault() {
    if (calm_) return;
    uint64_t next = now_ + 50 + rng_.Below(700);
    switch (rng_.Below(3)) {
      case 0:
        if (o_.partitions) {
          if (rng_.Chance(500)) {
            for (auto& p : partition_) p = static_cast<int>(rng_.Below(2));
          } else {  // a run of consecutive leaders on one side
            uint64_t first = rng_.Below(o_.n), len = 1 + rng_.Below(o_.n - 1);
            for (uint32_t i = 0; i < o_.n; ++i) partition_[i] = (i + o_.n - first) % o_.n < len;
          }
          next = now_ + 200 + rng_.Below(5000);  // long enough for both sides to commit
          Trace(0, "partition", 0);
        }
        break;
      case 1:
        if (o_.partitions) std::fill(partition_.begin(), partition_.end(), 0);
        break;
      default:
        if (o_.crashes) {
          uint32_t down = 0;
          for (const auto& n : nodes_) down += n.up ? 0 : 1;
          Node& victim = nodes_[rng_.Below(o_.n)];
          if (!victim.byzantine && victim.up && down < std::max<uint32_t>(1, vs_.f())) {
            Trace(victim.id, "crash", 0);
            Crash(victim);
            Push({now_ + 50 + rng_.Below(1500), 0, EventKind::kRestart, 0, victim.id, nullptr, 0,
                  victim.incarnation});
          }
        }
    }
    if (next < o_.fault_ms) Push(At(next, EventKind::kFault));
  }

  void Calm() {
    calm_ = true;
    std::fill(partition_.begin(), partition_.end(), 0);
    for (auto& n : nodes_) {
      if (!n.up) StartReplica(n);
    }
    calm_round_ = 0;
    Height top = 0;
    for (const auto& n : nodes_) {
      if (n.byzantine) continue;
      calm_round_ = std::max(calm_round_, n.replica->round());
      top = std::max<Height>(top, n.committed.size());
    }
    calm_target_ = top + o_.calm_commits;
    Trace(0, "calm", calm_round_);
  }

  void CheckProgress() {
    if (!calm_) return;
    Round max_round = 0;
    bool all = true;
    for (const auto& n : nodes_) {
      if (n.byzantine) continue;
      max_round = std::max(max_round, n.replica->round());
      all = all && n.committed.size() >= calm_target_;
    }
    if (all) {
      done_ = true;
      while (!queue_.empty()) queue_.pop();
      return;
    }
    if (max_round > calm_round_ + o_.liveness_rounds) {
      Fail("liveness: no commit within " + std::to_string(o_.liveness_rounds) +
           " rounds after faults stopped (round " + std::to_string(max_round) + ")");
    } else if (now_ > o_.fault_ms + kMaxSimMs || result_.steps > kMaxSteps) {
      Fail("liveness: simulation limit reached");
    }
  }

  void Deliver(const Event& e) {
    Node& n = nodes_[e.to];
    if (!n.up) return;
    const Message& m = *e.msg;
    Trace(n.id, KindName(m), e.from);
    Actions out;
    if (const auto* req = std::get_if<BlockRequest>(&m)) {
      Serve(n, e.from, *req);
      return;
    }
    if (n.byzantine) ByzantineObserve(n, e.from, m);
    if (const auto* p = std::get_if<Proposal>(&m); p && p->block.round >= n.replica->round()) {
      n.last_block_ms = now_;
    }
    Decide(n);
    Status st = n.replica->OnMessage(e.from, m, out);
    if (o_.trace && !st.ok()) std::fprintf(stderr, "    dropped: %s\n", st.ToString().c_str());
    CheckStatus(n, st);
    Handle(n, out);
    AfterStep(n);
  }

  // The node answers block requests from its consensus store and its committed blocks.
  void Serve(Node& n, ReplicaId to, const BlockRequest& req) {
    auto resp = std::make_shared<Message>(BlockResponse{});
    auto& blocks = std::get<BlockResponse>(*resp).blocks;
    Hash32 id = req.block_id;
    while (blocks.size() < std::min(req.max_blocks, kMaxBlocksPerResponse)) {
      const Block* b = n.replica->FindBlock(id);
      if (!b) {
        auto it = n.committed_index.find(id);
        if (it != n.committed_index.end()) b = &n.committed[it->second];
      }
      if (!b) {
        auto it = n.voted_blocks.find(id);
        if (it != n.voted_blocks.end()) b = &it->second;
      }
      if (!b) {
        auto it = n.byz_blocks.find(id);
        if (it != n.byz_blocks.end()) b = &it->second;
      }
      if (!b) break;
      if (b->height <= req.stop_height) break;
      blocks.push_back(*b);
      id = b->parent_id;
    }
    if (!blocks.empty()) Send(n.id, to, resp);
  }

  void CheckStatus(const Node& n, const Status& st) {
    if (!n.byzantine && st.code() == Status::Code::kInternal) {
      Fail("replica " + std::to_string(n.id) + ": " + st.ToString());
    }
  }

  // ---- actions ----

  void Handle(Node& n, const Actions& out) {
    for (const Action& a : out) {
      if (!result_.ok) return;
      if (const auto* s = std::get_if<SendAction>(&a)) {
        if (const auto* v = std::get_if<Vote>(&s->msg)) CheckVote(n, *v);
        if (n.byzantine && std::holds_alternative<Vote>(s->msg)) {
          n.byz_voted.insert(std::get<Vote>(s->msg).block_id);
        }
        Send(n.id, s->to, std::make_shared<Message>(s->msg));
      } else if (const auto* b = std::get_if<BroadcastAction>(&a)) {
        if (std::holds_alternative<Proposal>(b->msg)) n.last_block_ms = now_;
        if (n.byzantine && std::holds_alternative<Proposal>(b->msg)) {
          Equivocate(n, std::get<Proposal>(b->msg));
        } else {
          Broadcast(n.id, std::make_shared<Message>(b->msg));
        }
      } else if (const auto* p = std::get_if<PersistAction>(&a)) {
        n.safety = p->data;
        if (p->block) n.voted_blocks.emplace(p->block->Id(), *p->block);
      } else if (const auto* c = std::get_if<CommitAction>(&a)) {
        Commit(n, *c);
      } else if (const auto* t = std::get_if<ScheduleTimerAction>(&a)) {
        if (t->only_earlier && t->round == n.timer_round &&
            now_ + t->duration_ms >= n.timer_deadline) {
          continue;
        }
        n.timer_round = t->round;
        n.timer_deadline = now_ + t->duration_ms;
        Push({now_ + t->duration_ms, 0, EventKind::kTimer, n.id, n.id, nullptr, t->round,
              ++n.timer_gen});
      } else if (const auto* f = std::get_if<FetchAction>(&a)) {
        Send(n.id, f->peer, std::make_shared<Message>(f->request));
      }
    }
  }

  void CheckVote(const Node& n, const Vote& v) {
    if (n.byzantine) return;
    if (!n.safety || n.safety->last_voted_round < v.round) {
      Fail("replica " + std::to_string(n.id) + " sent a vote before persisting its safety data");
      return;
    }
    auto [it, fresh] = honest_votes_.emplace(std::make_pair(n.id, v.round), v.block_id);
    if (!fresh && it->second != v.block_id) {
      Fail("honest replica " + std::to_string(n.id) + " voted for two blocks in round " +
           std::to_string(v.round));
    }
  }

  void Commit(Node& n, const CommitAction& c) {
    Height h = c.block.height;
    if (h != n.committed.size() + 1) {
      if (!n.byzantine) Fail("replica " + std::to_string(n.id) + " committed with a gap");
      return;
    }
    Hash32 id = c.block.Id();
    n.committed_index[id] = n.committed.size();
    n.committed.push_back(c.block);
    n.committed_qcs.push_back(c.qc);
    n.app->Execute(c.block);
    std::erase_if(n.voted_blocks, [&](const auto& kv) { return kv.second.height <= h; });
    if (n.byzantine) return;
    auto [it, fresh] = global_commits_.emplace(h, id);
    if (!fresh && it->second != id) {
      Fail("safety: replicas committed different blocks at height " + std::to_string(h));
      return;
    }
    auto [rit, rfresh] = global_roots_.emplace(h, n.app->root(h));
    if (!rfresh && rit->second != n.app->root(h)) {
      Fail("state roots differ at height " + std::to_string(h));
      return;
    }
    digest_.Update(id);
    Trace(n.id, "commit", h);
  }

  // ---- the byzantine replica ----

  void ByzVote(Node& n, const Block& b) {
    Hash32 id = b.Id();
    if (!n.byz_voted.insert(id).second) return;
    Vote v{kEpoch, b.round, id, n.id, {}};
    v.sig = n.signer->Sign(kVoteTag, VoteSigningBytes(kChainId, kEpoch, b.round, id));
    auto msg = std::make_shared<Message>(v);
    ReplicaId leader = vs_.Leader(b.round + 1);
    Send(n.id, leader, msg);
    for (const auto& peer : nodes_) {
      if (peer.byzantine && peer.id != leader) Send(n.id, peer.id, msg);
    }
    if (leader == n.id) ByzAggregate(n, v);
  }

  // Votes for every proposal it sees, collects QCs for every block, and shows each QC to
  // everybody inside a timeout message.
  void ByzantineObserve(Node& n, ReplicaId, const Message& m) {
    if (const auto* p = std::get_if<Proposal>(&m)) {
      n.byz_blocks.emplace(p->block.Id(), p->block);
      ByzVote(n, p->block);
    } else if (const auto* v = std::get_if<Vote>(&m)) {
      ByzAggregate(n, *v);
    }
  }

  void ByzAggregate(Node& n, const Vote& v) {
    auto key = std::make_pair(v.round, v.block_id);
    auto& sigs = n.byz_votes[key];
    if (sigs.size() >= vs_.Quorum()) return;
    sigs[v.voter] = v.sig;
    if (sigs.size() < vs_.Quorum()) return;
    QuorumCert qc{kEpoch, v.round, v.block_id, {}};
    for (const auto& [s, sig] : sigs) qc.sigs.push_back({s, sig});
    n.byz_qcs[v.round].push_back(qc);
    TimeoutMsg t{kEpoch, v.round + 1, qc, std::nullopt, n.id, {}};
    t.sig = n.signer->Sign(kTimeoutTag, TimeoutSigningBytes(kChainId, kEpoch, t.round, qc.round));
    Broadcast(n.id, std::make_shared<Message>(t));
  }

  // Two proposals for the round, both sent to everybody (the network decides who sees which
  // first), both voted for. The second extends another QC of the same round when there is
  // one, and now and then claims a wrong state root.
  void Equivocate(Node& n, const Proposal& p) {
    QuorumCert alt_qc = p.block.qc;
    const Block* parent = n.replica->FindBlock(p.block.parent_id);
    for (const QuorumCert& qc : n.byz_qcs[p.block.qc.round]) {
      if (qc.block_id == p.block.qc.block_id) continue;
      auto it = n.byz_blocks.find(qc.block_id);
      if (it != n.byz_blocks.end()) {
        alt_qc = qc;
        parent = &it->second;
      }
    }
    Bytes payload = p.block.payload;
    if (parent) payload = *n.app->MakePayload(*parent);
    if (rng_.Chance(200) && payload.size() > 9) payload[9] ^= 0x55;
    Height height = parent ? parent->height + 1 : p.block.height;
    Block b2 = MakeBlock(kEpoch, p.block.round, height, alt_qc.block_id, n.id, alt_qc, payload);
    Proposal p2{b2, p.tc, {}};
    p2.sig =
        n.signer->Sign(kProposalTag, ProposalSigningBytes(kChainId, kEpoch, b2.round, b2.Id()));
    n.byz_blocks.emplace(p.block.Id(), p.block);
    n.byz_blocks.emplace(b2.Id(), b2);
    Broadcast(n.id, std::make_shared<Message>(p));
    Broadcast(n.id, std::make_shared<Message>(p2));
    ByzVote(n, p.block);
    ByzVote(n, b2);
  }

  void Trace(ReplicaId id, const char* what, uint64_t arg) {
    if (!o_.trace) return;
    std::fprintf(stderr, "t=%llu r%u %s %llu\n", static_cast<unsigned long long>(now_), id, what,
                 static_cast<unsigned long long>(arg));
  }

  const SimOptions o_;
  Rng rng_;
  ValidatorSet vs_;
  FakeVerifier fake_verifier_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;
  uint64_t drop_permille_ = 0, dup_permille_ = 0, max_delay_ms_ = 10;
  std::vector<int> partition_;
  bool calm_ = false;
  bool done_ = false;
  bool load_ = false;  // heartbeat mode: the current traffic phase
  Round calm_round_ = 0;
  Height calm_target_ = 0;
  std::map<Height, Hash32> global_commits_;
  std::map<Height, Hash32> global_roots_;
  std::map<std::pair<ReplicaId, Round>, Hash32> honest_votes_;
  crypto::Sha256Hasher digest_;
  SimResult result_;
};

}  // namespace

SimResult RunSim(const SimOptions& options) { return Simulator(options).Run(); }

std::string ReplayFlags(const SimOptions& o) {
  std::string s = "--seed " + std::to_string(o.seed) + " --n " + std::to_string(o.n) + " --byz " +
                  std::to_string(o.byzantine) + " --fault-ms " + std::to_string(o.fault_ms);
  if (!o.partitions) s += " --no-partitions";
  if (!o.crashes) s += " --no-crashes";
  if (o.quorum) s += " --quorum " + std::to_string(o.quorum);
  if (!o.persist_safety) s += " --no-persist";
  if (o.real_crypto) s += " --real-crypto";
  s += " --idle " + std::to_string(o.idle_permille);
  if (o.heartbeat_ms) s += " --heartbeat-ms " + std::to_string(o.heartbeat_ms);
  if (!o.traffic) s += " --no-traffic";
  if (!o.idle_timers) s += " --no-idle-timers";
  if (o.calm_commits != SimOptions{}.calm_commits) {
    s += " --calm-commits " + std::to_string(o.calm_commits);
  }
  if (o.liveness_rounds != SimOptions{}.liveness_rounds) {
    s += " --liveness-rounds " + std::to_string(o.liveness_rounds);
  }
  return s;
}

}  // namespace civitas::consensus::sim
