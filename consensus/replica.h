#pragma once

// The consensus protocol of one validator as a pure state machine (see docs/CONSENSUS.md).
//
// Events go in through the On* methods; what the node must do comes out as Actions, appended to
// `out` in the order the node must carry them out. In particular a PersistAction always
// precedes the vote or timeout it protects: the node writes the SafetyData durably before it
// sends anything that follows it. No clock, no I/O, no threads, no randomness: the same events
// in the same order give the same actions, which is what the simulator in tests/sim relies on.
//
// Thread safety: none; one thread drives a Replica.

#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "consensus/types.h"
#include "consensus/verify.h"
#include "ledger/status.h"

namespace civitas::consensus {

// What must survive a restart so that the validator never votes twice in a round and never
// votes against its lock. Written by PersistAction before any vote or timeout leaves the node.
struct SafetyData {
  Epoch epoch = 0;
  Round last_voted_round = 0;  // highest round voted or timed out in
  Round preferred_round = 0;   // highest QC round this validator voted on top of
  QuorumCert high_qc;          // highest QC known when the data was written
  bool operator==(const SafetyData&) const = default;
};

// What the node hands back after a restart: its persisted SafetyData and its last committed
// block with the QC that certifies it (the node stores both with every CommitAction).
struct RecoveryData {
  SafetyData safety;
  Block last_committed;
  QuorumCert last_committed_qc;
  // Blocks from PersistAction::block above the committed height, in any order (optional: the
  // replica fetches what it lacks from peers).
  std::vector<Block> blocks;
};

// The node's view of payloads. Calls happen synchronously inside On* methods and must be
// deterministic functions of what the node has executed.
class App {
 public:
  virtual ~App() = default;
  // The payload of a new block extending `parent`; called only on the round's leader.
  // nullopt means "not yet" (for example nothing to order and no empty block due): the
  // replica does not propose until the node calls Replica::ProposeIfReady.
  virtual std::optional<Bytes> MakePayload(const Block& parent) = 0;
  // Checks a proposed block's payload before this validator votes for it, for example that
  // the state root it claims equals this node's own execution of that height.
  // A non-ok Status means no vote.
  virtual Status VerifyPayload(const Block& block, const Block& parent) = 0;
};

struct SendAction {
  ReplicaId to = 0;
  Message msg;
};
struct BroadcastAction {  // to every validator but this one
  Message msg;
};
// Write `data` (replacing the previous one) and, when present, store `block`, the block about
// to be voted for: every certified block is then on the disk of f+1 honest validators, so it
// can be fetched even after they all restart.
struct PersistAction {
  SafetyData data;
  std::optional<Block> block;
};
// `block` is committed; `qc` certifies it. Commits come in height order without gaps.
struct CommitAction {
  Block block;
  QuorumCert qc;
};
// Call OnLocalTimeout(round) after duration_ms unless the round has changed; a newer timer
// replaces older ones. With `only_earlier` the timer is re-armed only when the armed one is of
// another round or would fire later than duration_ms from now (a timer it never postpones).
struct ScheduleTimerAction {
  Round round = 0;
  uint64_t duration_ms = 0;
  bool only_earlier = false;
};
// Ask `peer` for blocks (a BlockRequest); deliver the answer to OnFetchedBlocks.
struct FetchAction {
  ReplicaId peer = 0;
  BlockRequest request;
};
// Evidence of a fault the protocol absorbs but an operator must hear of: `signer` signed two
// different proposals (kProposal) or votes (kVote) for `round`, or a block certified or
// proposed under this replica's own key differs from the one it proposed (kOwnKey: another
// process signs with this validator's key). Reported once per signer, round and kind seen;
// nothing to carry out for safety, the node logs and counts it.
struct EquivocationAction {
  enum class Kind { kProposal, kVote, kOwnKey };
  Kind kind = Kind::kProposal;
  ReplicaId signer = 0;
  Round round = 0;
};
using Action = std::variant<SendAction, BroadcastAction, PersistAction, CommitAction,
                            ScheduleTimerAction, FetchAction, EquivocationAction>;
using Actions = std::vector<Action>;

struct Config {
  ValidatorSet validators;
  ReplicaId self = 0;
  const Signer* signer = nullptr;      // required; must outlive the Replica
  const Verifier* verifier = nullptr;  // null: BIP-340
  uint64_t base_timeout_ms = 1000;
  uint64_t max_timeout_ms = 60000;
  uint32_t max_future_rounds = 1000;  // votes/timeouts further ahead are dropped
  // The chain's heartbeat interval (genesis params.heartbeat_ms): an idle leader, one with no
  // transaction to order, proposes an empty block only once this has passed since the last
  // block. While this replica knows of no pending transaction (SetTransactionsPending) a
  // round's timer is this much longer, so an honest idle leader is not timed out. 0: every
  // round has the normal timer (the leader proposes within base_timeout_ms).
  uint64_t idle_round_ms = 0;
};

class Replica {
 public:
  // `app` must outlive the Replica. The Replica starts at the epoch's genesis unless Restore is
  // called before Start.
  Replica(Config config, App& app);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // After a restart, before Start.
  [[nodiscard]] Status Restore(const RecoveryData& data);
  // Enters the first round: schedules its timer and proposes if this replica leads it.
  void Start(Actions& out);

  // Peer input. A non-ok Status says why the input was dropped (reason as in verify.h, or
  // "stale", "already_voted", "unsafe", "equivocation", "unsolicited", "payload"); kInternal
  // with reason "safety_violation" means the protocol's assumptions were broken.
  [[nodiscard]] Status OnMessage(ReplicaId from, const Message& msg, Actions& out);
  [[nodiscard]] Status OnProposal(ReplicaId from, const Proposal& p, Actions& out);
  [[nodiscard]] Status OnVote(ReplicaId from, const Vote& v, Actions& out);
  [[nodiscard]] Status OnTimeoutMsg(ReplicaId from, const TimeoutMsg& t, Actions& out);
  [[nodiscard]] Status OnBlockRequest(ReplicaId from, const BlockRequest& req, Actions& out);
  [[nodiscard]] Status OnFetchedBlocks(ReplicaId from, const BlockResponse& resp, Actions& out);
  [[nodiscard]] Status OnQc(ReplicaId from, const QcMsg& m, Actions& out);
  // The timer scheduled for `round` fired.
  void OnLocalTimeout(Round round, Actions& out);
  // Proposes now if this replica leads the current round, has not proposed in it, and
  // App::MakePayload gives a payload. The node calls it when transactions arrive or an empty
  // block falls due.
  void ProposeIfReady(Actions& out) { TryPropose(out); }
  // When this replica leads the current round, entered it by the QC of the round before, and
  // has not proposed: broadcasts that QC (a QcMsg), once per round. The node calls it when it
  // has nothing to propose at once, so that what the QC commits is committed everywhere now
  // rather than with the next block (which would otherwise have to be proposed empty at once).
  void AnnounceQc(Actions& out);
  // The node tells whether it holds a transaction waiting for a block (its mempool is not
  // empty). While none is pending, round timers are idle_round_ms longer (Config). When a
  // transaction appears the current round's timer is brought forward to a normal timeout from
  // now (never postponed), so a round whose leader crashed during an idle period ends at most
  // a normal timeout later. When the last one goes (it committed) the current round's timer is
  // re-armed idle from now, at most once per round, so flapping cannot postpone a round's end
  // indefinitely. Starts as "none pending". Not a safety input: it only sets timer durations.
  void SetTransactionsPending(bool pending, Actions& out);
  bool transactions_pending() const { return txs_pending_; }
  // True when this replica leads the current round and has not proposed in it yet.
  bool AwaitingProposal() const {
    return vs_.Leader(round_) == config_.self && proposed_round_ < round_;
  }

  Round round() const { return round_; }
  const QuorumCert& high_qc() const { return high_qc_; }
  const Block& committed() const { return committed_; }
  // The QC certifying committed().
  const QuorumCert& committed_qc() const { return committed_qc_; }
  SafetyData safety() const;
  const Block* FindBlock(const Hash32& id) const;
  const Config& config() const { return config_; }

 private:
  Status ProcessQc(const QuorumCert& qc, ReplicaId from, Actions& out);
  void ProcessTc(const TimeoutCert& tc, Actions& out);
  Status TryCommit(const QuorumCert& qc, ReplicaId from, Actions& out);
  void AdvanceRound(Round r, Actions& out);
  void TryPropose(Actions& out);
  Status TryVote(const Proposal& p, Actions& out);
  Status AddVote(const Vote& v, Actions& out);
  Status AddTimeout(const TimeoutMsg& t, Actions& out);
  void RequestBlock(const Hash32& id, ReplicaId peer, Actions& out);
  void RetryPending(ReplicaId from, Actions& out);
  void Persist(Actions& out);
  uint64_t TimeoutFor(Round r) const;
  void Prune();
  // Reports kOwnKey when `id` (certified or proposed for `round` under our key) is not the
  // block this replica proposed in `round`.
  void CheckOwnBlock(Round round, const Hash32& id, Actions& out);

  const Config config_;
  const ValidatorSet& vs_;
  Bip340Verifier default_verifier_;
  CertVerifier cv_;
  App& app_;

  Round round_ = 0;
  Round last_voted_round_ = 0;
  Round preferred_round_ = 0;
  Round timed_out_round_ = 0;
  Round proposed_round_ = 0;
  Round announced_round_ = 0;
  bool txs_pending_ = false;
  Round idle_rearmed_round_ = 0;  // the round whose timer was last lengthened by an idle change
  QuorumCert high_qc_;
  std::optional<TimeoutCert> last_tc_;
  Block committed_;
  QuorumCert committed_qc_;
  std::optional<QuorumCert> pending_commit_;

  std::map<Hash32, Block> blocks_;
  std::map<Round, Hash32> proposals_seen_;
  std::map<Round, Proposal> pending_proposals_;             // waiting for their parent
  std::map<Round, std::map<ReplicaId, Hash32>> voted_for_;  // verified votes, per round
  std::map<Round, Hash32> own_proposals_;  // what this replica proposed, last kOwnRounds rounds
  std::map<std::pair<Round, Hash32>, std::map<ReplicaId, crypto::Signature>> votes_;
  std::set<std::pair<Round, Hash32>> certified_;
  std::map<Round, std::map<ReplicaId, TimeoutSig>> timeouts_;
  std::set<Round> tc_formed_;
  std::set<Hash32> wanted_;
  std::map<Hash32, Round> requested_at_;
  uint32_t fetch_rotation_ = 0;
};

}  // namespace civitas::consensus
