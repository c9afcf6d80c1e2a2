#pragma once

// The validator: drives the consensus state machine (consensus/replica.h) with the network,
// the clock, the disk and the ledger. docs/CONSENSUS.md ("In the node") describes how.
//
// One io thread runs everything that touches the replica: P2P input, timers, proposals, votes
// and commits. Payloads are ledger blocks in their canonical serialization; a block commits by
// executing it on the store (PrepareBlock + CommitPrepared) with the consensus QC converted to
// the ledger's certificate. Safety data is written (synced) before any vote or timeout leaves.
// A node that is behind fetches committed blocks with their certificates from peers (block
// sync on P2P channel 2) and re-joins consensus at its new height.
//
// Threading: Start and Stop from the owning thread; SubmitLocal and stats from any thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "consensus/replica.h"
#include "ledger/chain.h"
#include "ledger/genesis.h"
#include "ledger/store.h"
#include "node/config.h"
#include "node/health.h"
#include "node/mempool.h"
#include "node/p2p/transport.h"

namespace civitas::node {

class Validator final : public consensus::App {
 public:
  struct Callbacks {
    // Admission of a transaction gossiped by a peer, decoded and checked (signature included)
    // by the validator: the remaining checks, then the mempool. Any thread.
    std::function<Status(DecodedTx)> admit;
    // After each block is written to the store; io thread.
    std::function<void(const PreparedBlock&)> committed;
    // A fatal error (storage, or a committed chain this node cannot execute): stop the node.
    std::function<void(const Status&)> fail;
  };
  struct Stats {
    uint64_t epoch = 0;
    uint64_t round = 0;
    bool validating = false;  // a validator of the current epoch (else only following)
    uint64_t proposals = 0;
    uint64_t votes = 0;
    uint64_t timeouts = 0;
    uint64_t synced_blocks = 0;
    uint64_t dropped_messages = 0;
    size_t peers = 0;
    size_t council_size = 0;         // validators of the current epoch
    uint64_t equivocations = 0;      // proposals and votes signed twice for a round, by anyone
    uint64_t own_equivocations = 0;  // blocks under this node's key it did not propose
    uint64_t time_refused = 0;       // proposals refused as dated too far in the future
    std::optional<int64_t> clock_offset_ms;  // ClockOffset::EstimateMs (node/health.h)
    // The tip height of the council as a peer last reported it in a block-sync answer that
    // was either close to this node's height or carried blocks that verified; 0 before any.
    uint64_t peer_tip = 0;
    // Blocks a node may trail a peer's reported tip by and still count as caught up (a node
    // this close catches up through consensus itself, without block sync).
    static constexpr uint64_t kCaughtUpLag = 4;
  };

  // `store`, `mempool` and `genesis` must outlive the Validator. A node whose key is not among
  // the current epoch's validators follows the chain through block sync until it is.
  Validator(const Config& config, const Genesis& genesis, Store& store, Mempool& mempool,
            crypto::SecretKey key, Callbacks callbacks);
  ~Validator() override;

  // Restores the safety data and the committed block from the store, starts the P2P transport
  // and the io thread. Fails on missing or damaged safety data (the node must not sign) or
  // when the P2P address cannot be bound.
  Status Start();
  void Stop();

  // A transaction admitted through this node's API: gossip it (batched with the others admitted
  // meanwhile) and wake the proposer. Any thread.
  void SubmitLocal(const v1::Transaction& tx);

  Stats GetStats() const;
  // Replaces the configured peers (config `p2p.peers`, on SIGHUP): the keys admitted besides
  // the council and the addresses dialed. Refuses a malformed list, changing nothing. Any
  // thread; applied on the io thread.
  Status ReloadPeers(const std::vector<std::string>& p2p_peers);
  uint16_t p2p_port() const { return transport_ ? transport_->listen_port() : 0; }

  // consensus::App (io thread, inside replica calls).
  std::optional<Bytes> MakePayload(const consensus::Block& parent) override;
  Status VerifyPayload(const consensus::Block& block, const consensus::Block& parent) override;

 private:
  // A consensus payload decoded as a ledger block.
  struct Payload {
    v1::Block block;
    Hash32 ledger_id{};
    std::vector<DecodedTx> txs;
    bool signatures_verified = false;
  };
  Result<std::shared_ptr<Payload>> Decode(const consensus::Block& b);
  // Ledger facts of a consensus block: the epoch's genesis block for round 0.
  Result<ProposalParent> ParentOf(const consensus::Block& parent);
  ProposalParent epoch_anchor_;  // ledger facts of the epoch's genesis block (io thread)
  // The uncommitted (not yet executed) ancestors from `parent` down to the store's tip, oldest
  // first; fails if one is missing.
  Result<std::vector<std::shared_ptr<Payload>>> PendingAncestors(const consensus::Block& parent);
  // The rule book for `block` (ledger/proposal.h, CheckProposal) on top of `parent`, with the
  // transactions of the pending ancestors; not the signatures.
  Status CheckRules(const v1::Block& block, const std::vector<DecodedTx>& txs,
                    const consensus::Block& parent);

  void Post(std::function<void()> fn);
  // Broadcasts what SubmitLocal queued, in frames of at most kGossipFrameBytes (io thread).
  void FlushGossip();
  // Checks a peer's gossip frame on the verify pool (signatures in parallel), then admits its
  // transactions in order (nonces must arrive in sequence).
  void AdmitGossip(const crypto::PublicKey& from, Bytes payload);
  void OnPeerMessage(const crypto::PublicKey& from, uint8_t channel, Bytes payload);
  void OnPeerEvent(const p2p::PeerEvent& ev);
  void Run(consensus::Actions& out);
  bool Persist(const consensus::PersistAction& a);
  // Writes committed block `b` (certified by `qc`) unless the store has it already. The write
  // is not synced: the block is acknowledged (AfterCommit) by AcknowledgeCommits once a later
  // synced write (the next vote's safety record, normally) or a SyncWal has made it durable,
  // so a round costs one fsync.
  Status Commit(const consensus::Block& b, const consensus::QuorumCert& qc);
  // Acknowledges the commits written so far, after syncing them unless `synced` says a synced
  // write has just done so.
  Status AcknowledgeCommits(bool synced);
  // AcknowledgeCommits(false), unless every commit waiting is of a block without transactions
  // (no client waits for it) written less than two block intervals ago: the next vote's synced
  // write, due within one interval while the council makes progress, then makes them durable
  // and a round still costs one fsync when the leader has nothing to propose at once.
  Status AcknowledgeCommitsSoon();
  // Executes what the replica has committed but the store has not yet (commits come out of a
  // batch of actions after the replica decided them).
  Status CatchUpExecution();
  void AfterCommit(const PreparedBlock& p);
  void Tick();
  // Runs Tick soon on the io thread (at most one pending); any thread.
  void Nudge();
  // (Re)arms the single round timer; one marked only_earlier never postpones it.
  void ArmRoundTimer(const consensus::ScheduleTimerAction& t);
  // Sends what the mempool holds to a peer that just connected: it missed that gossip, and an
  // idle council's leader would not hear of a transaction sent while it was away (the council
  // waits a heartbeat unless a transaction is pending; docs/CONSENSUS.md, "Idle council").
  void GossipPoolTo(const crypto::PublicKey& peer);
  // Tells the replica whether the mempool holds a transaction (idle rounds, docs/CONSENSUS.md)
  // and carries out the timer change that may follow.
  void TellPending();
  void RequestSync(std::optional<crypto::PublicKey> peer);
  void OnSync(const crypto::PublicKey& from, const Bytes& payload);
  Status RestoreReplica(const consensus::SafetyData& safety);
  // Takes the store's current epoch: the validator set, this node's place in it, the
  // transport's admitted keys. Then (re)starts the replica from `safety`, or from fresh safety
  // data when `safety` belongs to an earlier epoch; a node outside the set only follows.
  Status EnterEpoch(std::optional<consensus::SafetyData> safety);
  // After a commit ended the epoch: enters the next one (io thread, outside replica calls).
  void SwitchEpoch();
  // The keys the transport admits: the epoch's validators and the configured peers.
  std::vector<crypto::PublicKey> AdmittedKeys() const;
  // Where to dial each admitted key, and where the address comes from: a configured peer's
  // address, else (a member of the current council) its endpoint on chain, else its genesis
  // endpoint (docs/COUNCIL.md, "Endpoints on chain"). io thread.
  std::map<crypto::PublicKey, std::pair<std::string, std::string_view>> WantedEndpoints();
  // Gives the transport every address of WantedEndpoints that changed. io thread.
  void RefreshEndpoints();
  Result<consensus::RecoveryData> Recovery(const consensus::SafetyData& safety);
  v1::QuorumCert ToLedgerQc(const consensus::QuorumCert& qc) const;
  Result<consensus::QuorumCert> FromLedgerQc(const v1::QuorumCert& qc) const;
  void FailWith(const Status& s);
  // Logs (at warning, at most once per kEquivocationLogMs per signer) and counts it.
  void OnEquivocation(const consensus::EquivocationAction& e);
  // Logs once when a validator of a council of several has lost its last peer.
  void CheckPeers();

  const Config& config_;
  const Genesis& genesis_;
  Store& store_;
  Mempool& mempool_;
  crypto::SecretKey key_;
  // What this node's proposals may hold: consensus.max_block_gas, never above the chain's.
  const uint64_t max_block_gas_;
  Callbacks callbacks_;
  Epoch epoch_;                               // the ledger's current epoch (io thread)
  consensus::ValidatorSet vs_;                // its validators, for consensus
  std::optional<consensus::ReplicaId> self_;  // this node's place in vs_, if any
  std::vector<crypto::PublicKey> peer_keys_;  // configured peers' keys
  std::map<crypto::PublicKey, std::string> configured_peers_;  // io thread after Start
  std::map<crypto::PublicKey, std::string> dial_addresses_;    // given to the transport
  bool epoch_ended_ = false;  // a commit ended the epoch; SwitchEpoch is pending
  consensus::Bip340Signer signer_;

  boost::asio::io_context io_;
  boost::asio::steady_timer round_timer_;
  consensus::Round timer_round_ = 0;  // the round the round timer is armed for
  boost::asio::steady_timer tick_timer_;
  boost::asio::thread_pool verify_pool_;

  std::mutex gossip_mu_;
  v1::TxBatch gossip_pending_;  // guarded by gossip_mu_
  size_t gossip_bytes_ = 0;     // guarded by gossip_mu_
  std::atomic<bool> gossip_scheduled_{false};
  // Received gossip frames are admitted in arrival order: frame k after frame k - 1.
  using CheckedTxs = std::vector<Result<DecodedTx>>;
  uint64_t gossip_received_ = 0;  // io thread: tickets handed out
  std::mutex admit_mu_;
  uint64_t gossip_admitted_ = 0;                                  // guarded by admit_mu_
  std::map<uint64_t, std::shared_ptr<CheckedTxs>> gossip_ready_;  // guarded by admit_mu_
  std::unique_ptr<p2p::Transport> transport_;
  std::thread io_thread_;
  std::unique_ptr<consensus::Replica> replica_;  // io thread only; null while only following

  // io thread only.
  std::map<Hash32, std::shared_ptr<Payload>> payloads_;  // by consensus block id
  // The payload MakePayload last built, by its SHA-256, until Decode meets it.
  std::pair<Hash32, std::shared_ptr<Payload>> own_payload_;
  std::vector<std::string> stale_block_keys_;  // persisted blocks now committed
  uint64_t unacknowledged_since_ms_ = 0;       // when the oldest of unacknowledged_ was written
  std::vector<PreparedBlock> unacknowledged_;  // committed, not yet known to be durable
  std::map<uint64_t, Hash32> recent_commits_;  // height -> consensus block id, last 64
  std::map<std::string, uint64_t> persisted_blocks_;  // key -> height
  uint64_t last_block_ms_ = 0;                        // steady clock: last proposal seen or made
  uint64_t last_progress_ms_ = 0;                     // steady clock: last commit or sync
  uint64_t sync_in_flight_ms_ = 0;  // steady clock of the last sync request, 0 if none
  bool failed_ = false;
  bool allow_propose_ = false;  // set by Tick around ProposeIfReady (see Run)
  // The last round this node proposed in (of epoch vs_.epoch): a replica restored after a block
  // sync does not know it, and must not propose a second, different block there.
  consensus::Round last_proposed_round_ = 0;
  std::atomic<bool> nudged_{false};

  std::atomic<uint64_t> proposals_{0}, votes_{0}, timeouts_{0}, synced_{0}, dropped_{0};
  std::atomic<uint64_t> peer_tip_{0};  // Stats::peer_tip
  std::atomic<uint64_t> round_{0}, epoch_number_{0};
  std::atomic<bool> validating_{false};
  std::atomic<size_t> council_size_{0};

  // Faults the chain absorbs (node/health.h). io thread, except the atomics.
  std::atomic<uint64_t> equivocations_{0}, own_equivocations_{0}, time_refused_{0};
  ClockOffset clock_offset_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::atomic<bool> clock_offset_known_{false};
  std::map<std::pair<int, consensus::ReplicaId>, uint64_t> equivocation_logged_ms_;
  uint64_t equivocations_unlogged_ = 0;  // suppressed by the rate limit since the last line
  uint64_t last_time_refusal_log_ms_ = 0;
  bool warned_no_peers_ = false;
  uint64_t started_ms_ = 0;       // steady clock at Start
  uint64_t disk_checked_ms_ = 0;  // steady clock of the last CheckFreeSpace
};

}  // namespace civitas::node
