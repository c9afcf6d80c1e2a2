#include "node/validator.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>

#include "consensus/codec.h"
#include "genesis/nation_state.h"
#include "ledger/pending.h"
#include "node/log.h"
#include "node/penalty.h"

namespace civitas::node {
namespace {

using consensus::Actions;

// `p2p.peers` entries, "<public key hex>@host:port": the local key's entry is dropped.
Result<std::map<crypto::PublicKey, std::string>> ParseConfiguredPeers(
    const std::vector<std::string>& peers, const crypto::PublicKey& self) {
  std::map<crypto::PublicKey, std::string> out;
  for (const auto& peer : peers) {
    auto at = peer.find('@');
    auto key = at == std::string::npos ? std::nullopt : FixedFromHex<32>(peer.substr(0, at));
    if (!key) return Status::Invalid("bad_config", "p2p peer '" + peer + "' has no valid key");
    auto address = peer.substr(at + 1);
    if (auto hp = p2p::ParseHostPort(address); !hp.ok()) {
      return Status::Invalid("bad_config", "p2p peer '" + peer + "': " + hp.status().message());
    }
    if (*key != self) out[*key] = address;
  }
  return out;
}

// Whether a block may have changed a validator's endpoint on chain.
bool TouchesValidatorEndpoints(const PreparedBlock& p) {
  for (const auto& r : p.exec.receipts) {
    for (const auto& e : r.events()) {
      if (nation::ChangesDidServices(e)) return true;
    }
  }
  return false;
}

constexpr uint32_t kSyncBatch = 64;
constexpr uint64_t kSyncLag = Validator::Stats::kCaughtUpLag;
constexpr size_t kSyncResponseBytes = 6 << 20;
constexpr uint64_t kEquivocationLogMs = 10'000;  // per signer and kind
// How often the free space of the ledger's file system is checked (a statvfs).
constexpr uint64_t kDiskCheckMs = 200;
constexpr uint64_t kTickMs = 20;
constexpr size_t kGossipFrameBytes = 1 << 20;
constexpr size_t kGossipChunk = 64;  // transactions per verification task
constexpr char kSafetyKey[] = "safety";
constexpr char kBlockPrefix[] = "b/";

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
// CIVITAS_CLOCK_SKEW_MS (fault injection, docs/OPERATIONS.md): milliseconds added to this
// node's wall clock, so a test can run a validator whose clock is off (libfaketime cannot be
// preloaded into civitasd). Read once; warned about at start.
int64_t ClockSkewMs() {
  static const int64_t skew = [] {
    const char* v = std::getenv("CIVITAS_CLOCK_SKEW_MS");
    if (!v || !*v) return int64_t{0};
    char* end = nullptr;
    const long long ms = std::strtoll(v, &end, 10);
    return *end == '\0' ? static_cast<int64_t>(ms) : int64_t{0};
  }();
  return skew;
}
uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count() +
                               ClockSkewMs());
}
std::string Str(const Bytes& b) { return std::string(AsStringView(b)); }
template <size_t N>
std::string Str(const std::array<uint8_t, N>& a) {
  return std::string(AsStringView(a));
}
// A payload no honest leader proposes.
Status BadPayload(const std::string& msg) { return Status::PeerFault("bad_payload", msg); }

std::string BlockKey(const consensus::Block& b) {
  Bytes k(kBlockPrefix, kBlockPrefix + 2);
  PutU64(k, b.height);
  Append(k, b.Id());
  return Str(k);
}

}  // namespace

Validator::Validator(const Config& config, const Genesis& genesis, Store& store, Mempool& mempool,
                     crypto::SecretKey key, Callbacks callbacks)
    : config_(config),
      genesis_(genesis),
      store_(store),
      mempool_(mempool),
      key_(key),
      max_block_gas_(std::min(config.max_block_gas, genesis.params.max_block_gas)),
      callbacks_(std::move(callbacks)),
      signer_(std::move(key)),
      round_timer_(io_),
      tick_timer_(io_),
      verify_pool_(std::max(1u, std::thread::hardware_concurrency())) {}

Validator::~Validator() { Stop(); }

Status Validator::Start() {
  if (Status s = CheckFreeSpace(config_.DataPath()); !s.ok()) return s;
  if (ClockSkewMs() != 0) {
    Log(Module::kNode)
        .warn(
            "CIVITAS_CLOCK_SKEW_MS: this node's clock is moved by {} ms (fault "
            "injection; never set it in production)",
            ClockSkewMs());
  }
  if (config_.max_block_gas > genesis_.params.max_block_gas) {
    Log(Module::kConsensus)
        .warn(
            "consensus.max_block_gas {} is above the chain's max_block_gas {} (genesis params): "
            "this node proposes blocks of at most {} gas",
            config_.max_block_gas, genesis_.params.max_block_gas, max_block_gas_);
  }
  p2p::Options opts;
  auto peers = ParseConfiguredPeers(config_.p2p_peers, key_.public_key());
  if (!peers.ok()) return peers.status();
  configured_peers_ = std::move(*peers);
  for (const auto& kv : configured_peers_) peer_keys_.push_back(kv.first);

  std::optional<consensus::SafetyData> safety;
  auto stored = store_.GetConsensus(kSafetyKey);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    auto d = consensus::DecodeSafetyData(**stored);
    if (!d.ok()) {
      return Status::Corruption("the consensus safety data is damaged (" + d.status().message() +
                                "); refusing to sign. Restore it from a backup of this node");
    }
    if (d->epoch > store_.CurrentEpoch().number) {
      return Status::Corruption("the consensus safety data is of epoch " +
                                std::to_string(d->epoch) + " but the ledger is in epoch " +
                                std::to_string(store_.CurrentEpoch().number) +
                                "; refusing to sign (the ledger lost committed blocks)");
    }
    safety = *d;
  } else if (store_.height() > 0) {
    return Status::Corruption(
        "the ledger is at height " + std::to_string(store_.height()) +
        " but the consensus safety data is missing; refusing to sign (it could vote twice)");
  } else {
    auto voted = store_.ScanConsensus(kBlockPrefix);
    if (!voted.ok()) return voted.status();
    if (!voted->empty()) {
      return Status::Corruption(
          "this node voted for blocks but its consensus safety data is missing; refusing to "
          "sign (it could vote twice)");
    }
  }
  Status s = EnterEpoch(safety);
  if (!s.ok()) return s;

  opts.listen = config_.p2p_listen;
  opts.chain_id = genesis_.chain_id;
  opts.council = AdmittedKeys();
  for (const auto& [key, where] : WantedEndpoints()) {
    opts.peers.push_back({key, where.first});
    dial_addresses_[key] = where.first;
  }
  opts.max_frame_bytes = consensus::kMaxMessageBytes + 64;
  opts.max_queue_bytes = 4 * opts.max_frame_bytes;
  opts.critical_channels = {p2p::kChannelConsensus, p2p::kChannelSync};
  transport_ = std::make_unique<p2p::Transport>(
      io_, opts, key_,
      [this](const crypto::PublicKey& from, uint8_t channel, Bytes payload) {
        OnPeerMessage(from, channel, std::move(payload));
      },
      [this](const p2p::PeerEvent& ev) { OnPeerEvent(ev); });
  s = transport_->Start();
  if (!s.ok()) return s;
  Log(Module::kConsensus)
      .info("P2P port {}, committed height {}", transport_->listen_port(), store_.height());

  last_block_ms_ = last_progress_ms_ = started_ms_ = SteadyMs();
  Post([this] {
    if (replica_) {
      Actions out;
      replica_->Start(out);
      Run(out);
    }
    Tick();
  });
  io_thread_ = std::thread([this] { io_.run(); });
  return Status::Ok();
}

void Validator::Stop() {
  if (io_thread_.joinable()) {
    Post([this] {
      transport_->Stop();
      round_timer_.cancel();
      tick_timer_.cancel();
      io_.stop();
    });
    io_thread_.join();
  } else if (transport_) {
    transport_->Stop();
  }
  verify_pool_.stop();
  verify_pool_.join();
}

void Validator::Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

void Validator::FailWith(const Status& s) {
  if (failed_) return;
  failed_ = true;
  callbacks_.fail(s);
}

void Validator::OnEquivocation(const consensus::EquivocationAction& e) {
  using Kind = consensus::EquivocationAction::Kind;
  (e.kind == Kind::kOwnKey ? own_equivocations_ : equivocations_).fetch_add(1);
  const uint64_t now = SteadyMs();
  uint64_t& last = equivocation_logged_ms_[{static_cast<int>(e.kind), e.signer}];
  if (last != 0 && now - last < kEquivocationLogMs) {
    ++equivocations_unlogged_;
    return;
  }
  last = now;
  const std::string key =
      e.signer < vs_.keys.size() ? ToHex(vs_.keys[e.signer]).substr(0, 16) : "?";
  const std::string more =
      equivocations_unlogged_ > 0
          ? " (" + std::to_string(equivocations_unlogged_) + " more equivocations not logged)"
          : "";
  equivocations_unlogged_ = 0;
  if (e.kind == Kind::kOwnKey) {
    Log(Module::kConsensus)
        .error(
            "another process signs with this validator's key {}: a block of round {} under "
            "our key is not the one we proposed; stop the other instance (not ready until "
            "restarted){}",
            key, e.round, more);
  } else {
    Log(Module::kConsensus)
        .warn("validator {} ({}) equivocated: two different {} for round {}{}", e.signer, key,
              e.kind == Kind::kProposal ? "proposals" : "votes", e.round, more);
  }
}

void Validator::CheckPeers() {
  if (!validating_ || council_size_ <= 1 || warned_no_peers_) return;
  if (!transport_ || !transport_->ConnectedPeers().empty()) return;
  warned_no_peers_ = true;
  Log(Module::kConsensus)
      .warn("no peers: this validator of a council of {} is connected to none of the others",
            council_size_.load());
}

Validator::Stats Validator::GetStats() const {
  Stats st;
  st.epoch = epoch_number_.load();
  st.validating = validating_.load();
  st.round = round_.load();
  st.proposals = proposals_.load();
  st.votes = votes_.load();
  st.timeouts = timeouts_.load();
  st.synced_blocks = synced_.load();
  st.dropped_messages = dropped_.load();
  st.peers = transport_ ? transport_->ConnectedPeers().size() : 0;
  st.council_size = council_size_.load();
  st.equivocations = equivocations_.load();
  st.own_equivocations = own_equivocations_.load();
  st.time_refused = time_refused_.load();
  if (clock_offset_known_.load()) st.clock_offset_ms = clock_offset_ms_.load();
  st.peer_tip = peer_tip_.load();
  return st;
}

// ---- transactions ----

void Validator::SubmitLocal(const v1::Transaction& tx) {
  {
    std::lock_guard lock(gossip_mu_);
    *gossip_pending_.add_txs() = tx;
  }
  if (!gossip_scheduled_.exchange(true)) Post([this] { FlushGossip(); });
  Nudge();
}

void Validator::FlushGossip() {
  gossip_scheduled_ = false;
  v1::TxBatch pending;
  {
    std::lock_guard lock(gossip_mu_);
    pending.Swap(&gossip_pending_);
  }
  if (!transport_) return;
  v1::TxBatch frame;
  size_t bytes = 0;
  auto send = [&] {
    std::string out = frame.SerializeAsString();
    transport_->Broadcast(p2p::kChannelMempool, Bytes(out.begin(), out.end()));
    frame.Clear();
    bytes = 0;
  };
  for (auto& tx : *pending.mutable_txs()) {
    const size_t size = tx.ByteSizeLong() + 8;
    if (bytes + size > kGossipFrameBytes && frame.txs_size() > 0) send();
    bytes += size;
    frame.mutable_txs()->Add(std::move(tx));
  }
  if (frame.txs_size() > 0) send();
}

void Validator::GossipPoolTo(const crypto::PublicKey& peer) {
  if (!transport_ || mempool_.size() == 0) return;
  // At most a block's worth: the rest follows in blocks, or on the next connection.
  std::vector<DecodedTx> txs =
      mempool_.Select(kMaxBlockTxs, kMaxBlockBytes, [](const DecodedTx&) { return true; });
  v1::TxBatch frame;
  size_t bytes = 0;
  auto send = [&] {
    std::string out = frame.SerializeAsString();
    (void)transport_->Send(peer, p2p::kChannelMempool, Bytes(out.begin(), out.end()));
    frame.Clear();
    bytes = 0;
  };
  for (DecodedTx& tx : txs) {
    const size_t size = tx.size + 8;
    if (bytes + size > kGossipFrameBytes && frame.txs_size() > 0) send();
    bytes += size;
    *frame.add_txs() = std::move(tx.envelope);
  }
  if (frame.txs_size() > 0) send();
}

void Validator::AdmitGossip(const crypto::PublicKey& from, Bytes payload) {
  auto batch = std::make_shared<v1::TxBatch>();
  if (!batch->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    dropped_.fetch_add(1);
    transport_->Penalize(from, "malformed_gossip");
    return;
  }
  // Decode and verify chunks on every pool thread. The chunk that finishes a frame hands it
  // over; frames are admitted in the order they arrived, each in its own order.
  const size_t n = static_cast<size_t>(batch->txs_size());
  if (n == 0) return;
  const uint64_t ticket = gossip_received_++;
  auto checked =
      std::make_shared<CheckedTxs>(n, Result<DecodedTx>(Status::Invalid("unchecked", "")));
  const size_t chunks = (n + kGossipChunk - 1) / kGossipChunk;
  auto remaining = std::make_shared<std::atomic<size_t>>(chunks);
  for (size_t c = 0; c < chunks; ++c) {
    boost::asio::post(verify_pool_, [this, from, batch, checked, remaining, ticket, c, n] {
      std::optional<std::string> penalty;
      for (size_t i = c * kGossipChunk; i < std::min(n, (c + 1) * kGossipChunk); ++i) {
        const v1::Transaction& envelope = batch->txs(static_cast<int>(i));
        // A full pool would refuse it anyway: spare the verification.
        if (Status room = mempool_.CheckRoom(envelope.ByteSizeLong()); !room.ok()) {
          (*checked)[i] = room;
          continue;
        }
        (*checked)[i] = mempool_.Check(envelope, genesis_.chain_id, genesis_.params);
        // A validator gossips only what it checked: a bad signature or encoding is on purpose.
        if (!penalty) penalty = PenaltyFor(PeerInput::kGossip, (*checked)[i].status());
      }
      if (penalty) transport_->Penalize(from, *penalty);
      if (remaining->fetch_sub(1) != 1) return;
      bool admitted = false;
      std::lock_guard lock(admit_mu_);
      gossip_ready_.emplace(ticket, checked);
      for (auto it = gossip_ready_.begin();
           it != gossip_ready_.end() && it->first == gossip_admitted_;
           it = gossip_ready_.erase(it), ++gossip_admitted_) {
        for (auto& tx : *it->second) {
          Status s = tx.ok() ? callbacks_.admit(std::move(*tx)) : tx.status();
          // Duplicates are normal: every validator gossips what its clients sent.
          if (!s.ok() && s.reason() != "duplicate_tx") dropped_.fetch_add(1);
          admitted |= s.ok();
        }
      }
      if (admitted) Nudge();
    });
  }
}

void Validator::Nudge() {
  if (!nudged_.exchange(true)) {
    Post([this] {
      nudged_ = false;
      Tick();
    });
  }
}

// ---- P2P input ----

void Validator::OnPeerMessage(const crypto::PublicKey& from, uint8_t channel, Bytes payload) {
  if (failed_) return;
  switch (channel) {
    case p2p::kChannelConsensus: {
      auto it = std::find(vs_.keys.begin(), vs_.keys.end(), from);
      if (!replica_ || epoch_ended_ || it == vs_.keys.end()) {
        dropped_.fetch_add(1);  // not validating, or not from a validator of this epoch
        return;
      }
      auto peer = static_cast<consensus::ReplicaId>(it - vs_.keys.begin());
      auto msg = consensus::DecodeMessage(payload);
      if (!msg.ok()) {
        dropped_.fetch_add(1);
        Log(Module::kConsensus)
            .warn("dropped a consensus message from validator {}: {}", peer,
                  msg.status().ToString());
        transport_->Penalize(from, "malformed_consensus_message");
        return;
      }
      Actions out;
      Status s = replica_->OnMessage(peer, *msg, out);
      if (s.ok() && std::holds_alternative<consensus::Proposal>(*msg)) last_block_ms_ = SteadyMs();
      if (!s.ok()) {
        dropped_.fetch_add(1);
        if (s.reason() == "safety_violation") {
          Log(Module::kConsensus)
              .error("consensus message from validator {}: {}", peer, s.ToString());
        } else if (auto penalty = PenaltyFor(PeerInput::kConsensus, s)) {
          Log(Module::kConsensus)
              .warn("invalid consensus message from validator {}: {}", peer, s.ToString());
          transport_->Penalize(from, *penalty);
        } else {
          Log(Module::kConsensus)
              .debug("consensus message from validator {} dropped: {}", peer, s.ToString());
        }
      }
      Run(out);
      return;
    }
    case p2p::kChannelMempool:
      if (payload.size() > kGossipFrameBytes + kMaxTxBytes + 1024) {
        dropped_.fetch_add(1);
        return;
      }
      AdmitGossip(from, std::move(payload));
      return;
    case p2p::kChannelSync:
      OnSync(from, payload);
      return;
    default:
      dropped_.fetch_add(1);
  }
}

void Validator::OnPeerEvent(const p2p::PeerEvent& ev) {
  if (ev.kind == p2p::PeerEvent::Kind::kConnected && ev.key) {
    warned_no_peers_ = false;
    Log(Module::kConsensus).info("peer {} connected ({})", ToHex(*ev.key).substr(0, 16), ev.remote);
    RequestSync(*ev.key);
    GossipPoolTo(*ev.key);
  } else if (ev.kind == p2p::PeerEvent::Kind::kDisconnected && ev.key) {
    Log(Module::kConsensus)
        .info("peer {} disconnected: {}", ToHex(*ev.key).substr(0, 16), ev.reason);
    CheckPeers();
  } else if (ev.kind == p2p::PeerEvent::Kind::kRefused) {
    Log(Module::kConsensus).warn("refused a P2P connection from {}: {}", ev.remote, ev.reason);
  }
}

// ---- actions ----

void Validator::Run(Actions& out) {
  // Nothing of an epoch that has ended is acted on (SwitchEpoch is pending).
  for (size_t i = 0; i < out.size() && !failed_ && !epoch_ended_; ++i) {
    auto& action = out[i];
    if (auto* send = std::get_if<consensus::SendAction>(&action)) {
      if (self_ && send->to == *self_) {
        Post([this, msg = send->msg, epoch = vs_.epoch] {
          if (!replica_ || epoch_ended_ || vs_.epoch != epoch) return;
          Actions more;
          (void)replica_->OnMessage(*self_, msg, more);
          Run(more);
        });
        continue;
      }
      (void)transport_->Send(vs_.keys[send->to], p2p::kChannelConsensus,
                             consensus::EncodeMessage(send->msg));
    } else if (auto* bc = std::get_if<consensus::BroadcastAction>(&action)) {
      if (std::holds_alternative<consensus::Proposal>(bc->msg)) {
        proposals_.fetch_add(1);
        last_block_ms_ = SteadyMs();
      } else if (std::holds_alternative<consensus::TimeoutMsg>(bc->msg)) {
        timeouts_.fetch_add(1);
      }
      transport_->Broadcast(p2p::kChannelConsensus, consensus::EncodeMessage(bc->msg));
    } else if (auto* persist = std::get_if<consensus::PersistAction>(&action)) {
      // Nothing after a failed write may leave the node: it could be a vote.
      if (!Persist(*persist)) return;
      if (persist->block) votes_.fetch_add(1);
    } else if (auto* commit = std::get_if<consensus::CommitAction>(&action)) {
      Status s = Commit(commit->block, commit->qc);
      if (!s.ok()) {
        FailWith(s);
        return;
      }
    } else if (auto* timer = std::get_if<consensus::ScheduleTimerAction>(&action)) {
      ArmRoundTimer(*timer);
    } else if (auto* eq = std::get_if<consensus::EquivocationAction>(&action)) {
      OnEquivocation(*eq);
    } else if (auto* fetch = std::get_if<consensus::FetchAction>(&action)) {
      (void)transport_->Send(vs_.keys[fetch->peer], p2p::kChannelConsensus,
                             consensus::EncodeMessage(fetch->request));
      if (sync_in_flight_ms_ == 0) RequestSync(vs_.keys[fetch->peer]);
    }
  }
  if (failed_ || epoch_ended_) return;  // an epoch's last commit is acknowledged in Commit
  const uint64_t entered = replica_->round();
  const bool new_round = round_.exchange(entered) != entered;
  // Propose from a fresh call, after this batch's commits are written (and, with one
  // validator, without recursing through our own votes). Only on entering a round: a leader
  // with nothing to propose waits for a transaction (SubmitLocal, AdmitGossip) or the next
  // tick instead of spinning.
  if (new_round && replica_->AwaitingProposal()) Nudge();
  // While that Tick is queued the commits wait for its proposal: our own vote on it is a
  // synced write that makes them durable. Tick's own Run clears nudged_ first, so it syncs
  // them if it proposes nothing.
  if (nudged_ && replica_->AwaitingProposal()) return;
  if (Status s = AcknowledgeCommitsSoon(); !s.ok()) FailWith(s);
  TellPending();
}

void Validator::TellPending() {
  if (failed_ || epoch_ended_ || !replica_) return;
  // The mempool holds only transactions a proposer can take (next nonces, covered fees), and
  // keeps them until they commit.
  Actions out;
  replica_->SetTransactionsPending(mempool_.size() > 0, out);
  if (!out.empty()) Run(out);
}

bool Validator::Persist(const consensus::PersistAction& a) {
  std::vector<std::pair<std::string, std::string>> puts{
      {kSafetyKey, Str(consensus::EncodeSafetyData(a.data))}};
  if (a.block) {
    Bytes enc;
    consensus::EncodeBlock(enc, *a.block);
    std::string key = BlockKey(*a.block);
    persisted_blocks_[key] = a.block->height;
    puts.emplace_back(key, Str(enc));
  }
  std::vector<std::string> stale;
  stale.swap(stale_block_keys_);
  // Synced: it also makes the commits written since the last sync durable.
  Status s = store_.WriteConsensus(puts, stale);
  if (s.ok()) s = AcknowledgeCommits(/*synced=*/true);
  if (!s.ok()) {
    FailWith(s);
    return false;
  }
  return true;
}

void Validator::ArmRoundTimer(const consensus::ScheduleTimerAction& t) {
  const consensus::Round round = t.round;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(t.duration_ms);
  if (t.only_earlier && round == timer_round_ && deadline >= round_timer_.expiry()) return;
  timer_round_ = round;
  round_timer_.expires_at(deadline);
  round_timer_.async_wait([this, round](const boost::system::error_code& ec) {
    if (ec || failed_ || !replica_ || epoch_ended_) return;
    Actions out;
    replica_->OnLocalTimeout(round, out);
    Run(out);
  });
}

void Validator::Tick() {
  if (failed_) return;
  const uint64_t now = SteadyMs();
  // Peers connect within a second or two of the start; a validator alone after that is told.
  if (now - started_ms_ > 2 * config_.timeout_base_ms) CheckPeers();
  if (now - disk_checked_ms_ >= kDiskCheckMs) {
    disk_checked_ms_ = now;
    if (Status s = CheckFreeSpace(config_.DataPath()); !s.ok()) {
      FailWith(s);
      return;
    }
  }
  if (replica_ && !epoch_ended_ && replica_->AwaitingProposal()) {
    Actions out;
    allow_propose_ = true;
    replica_->ProposeIfReady(out);
    allow_propose_ = false;
    // Nothing to propose now: announce the QC this leader entered the round with, so that the
    // block it commits (the certified block's parent) commits everywhere at once, without an
    // empty block to carry the QC.
    replica_->AnnounceQc(out);
    Run(out);
  }
  // No commit of transactions waits for a proposal longer than a tick.
  if (!failed_ && !nudged_) {
    if (Status s = AcknowledgeCommitsSoon(); !s.ok()) FailWith(s);
  }
  TellPending();
  if (now - last_progress_ms_ > 2ull * config_.timeout_base_ms &&
      (sync_in_flight_ms_ == 0 || now - sync_in_flight_ms_ > config_.timeout_base_ms)) {
    RequestSync(std::nullopt);
  }
  tick_timer_.expires_after(std::chrono::milliseconds(kTickMs));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

// ---- payloads ----

Result<std::shared_ptr<Validator::Payload>> Validator::Decode(const consensus::Block& b) {
  Hash32 id = b.Id();
  auto it = payloads_.find(id);
  if (it != payloads_.end()) return it->second;
  if (own_payload_.second && own_payload_.first == b.payload_digest) {
    auto own = std::move(own_payload_.second);
    own_payload_ = {};
    payloads_.emplace(id, own);
    return own;
  }
  auto p = std::make_shared<Payload>();
  if (!p->block.ParseFromArray(b.payload.data(), static_cast<int>(b.payload.size()))) {
    return BadPayload("payload is not a ledger block");
  }
  if (CanonicalBlockBytes(p->block) != AsStringView(b.payload)) {
    return BadPayload("payload is not in canonical form");
  }
  auto lid = BlockId(p->block.header());
  if (!lid.ok()) return BadPayload(lid.status().message());
  p->ledger_id = *lid;
  auto txs = DecodeBlockTxs(p->block, genesis_, /*verify_signatures=*/false);
  if (!txs.ok()) return BadPayload(txs.status().message());
  p->txs = std::move(*txs);
  payloads_.emplace(id, p);
  return p;
}

Result<ProposalParent> Validator::ParentOf(const consensus::Block& parent) {
  if (parent.round == 0) {  // the epoch's genesis block
    ProposalParent anchor = epoch_anchor_;
    anchor.height = parent.height;
    return anchor;
  }
  auto p = Decode(parent);
  if (!p.ok()) return p.status();
  const auto& h = (*p)->block.header();
  return ProposalParent{(*p)->ledger_id, parent.height, h.time_ms(), h.state_height()};
}

Result<std::vector<std::shared_ptr<Validator::Payload>>> Validator::PendingAncestors(
    const consensus::Block& parent) {
  std::vector<std::shared_ptr<Payload>> chain;
  const consensus::Block* b = &parent;
  while (b->height > store_.height()) {
    auto p = Decode(*b);
    if (!p.ok()) return p.status();
    chain.push_back(*p);
    b = replica_->FindBlock(b->parent_id);
    if (!b) {
      return Status::NotFound("an uncommitted ancestor is missing")
          .WithBlame(Status::Blame::kLocal);
    }
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

namespace {

// The rule book's view of a proposal (ledger/proposal.h): its parent, this node's executed
// state, and the transactions of the ancestors in between, ordered but not yet executed.
class PayloadReader final : public ProposalReader {
 public:
  PayloadReader(const Store& store, const ProposalParent& parent,
                std::vector<const DecodedTx*> pending)
      : store_(store), parent_(parent), pending_(std::move(pending)) {}
  ProposalParent Parent() const override { return parent_; }
  uint64_t ExecutedHeight() const override { return store_.height(); }
  Result<Hash32> StateRoot(uint64_t height) const override { return store_.StateRoot(height); }
  const StateReader& ExecutedState() const override { return store_; }
  std::vector<const DecodedTx*> PendingTxs() const override { return pending_; }

 private:
  const Store& store_;
  const ProposalParent parent_;
  const std::vector<const DecodedTx*> pending_;
};

}  // namespace

Status Validator::CheckRules(const v1::Block& block, const std::vector<DecodedTx>& txs,
                             const consensus::Block& parent) {
  auto par = ParentOf(parent);
  if (!par.ok()) return par.status();
  auto ancestors = PendingAncestors(parent);
  if (!ancestors.ok()) return ancestors.status();
  std::vector<const DecodedTx*> pending;
  for (const auto& a : *ancestors) {
    for (const DecodedTx& tx : a->txs) pending.push_back(&tx);
  }
  return CheckProposal(genesis_, epoch_, PayloadReader(store_, *par, std::move(pending)), block,
                       txs);
}

std::optional<Bytes> Validator::MakePayload(const consensus::Block& parent) {
  if (!allow_propose_ || epoch_ended_ || replica_->round() <= last_proposed_round_) {
    return std::nullopt;
  }
  Status s = CatchUpExecution();
  if (!s.ok()) {
    FailWith(s);
    return std::nullopt;
  }
  if (epoch_ended_) return std::nullopt;
  auto par = ParentOf(parent);
  auto ancestors = PendingAncestors(parent);
  if (!par.ok() || !ancestors.ok()) return std::nullopt;
  if (par->state_height > store_.height()) return std::nullopt;  // we lag behind the parent

  // Nonces in sequence and covered fees also leave out what the pending ancestors hold (the
  // rule book, CheckProposal). A sender's transaction left out leaves out its later ones.
  std::vector<const DecodedTx*> pending;
  for (const auto& a : *ancestors) {
    for (const DecodedTx& tx : a->txs) pending.push_back(&tx);
  }
  PendingSenders senders(store_, genesis_.params);
  if (!senders.TrackAll(pending).ok()) return std::nullopt;
  uint64_t gas = 0;  // the selected transactions' gas limits
  std::vector<DecodedTx> txs =
      mempool_.Select(config_.max_block_txs, kMaxBlockBytes - (64 << 10), [&](const DecodedTx& tx) {
        if (tx.body.gas_limit() > max_block_gas_ - gas) return false;
        auto sender = senders.Get(tx.sender);
        if (!sender.ok() || (*sender)->next_nonce != tx.body.nonce()) return false;
        if (!senders.Covered(**sender, tx)) return false;
        senders.Track(**sender, tx);
        gas += tx.body.gas_limit();
        return true;
      });
  // Transactions in the parent commit only once this block is certified (the 2-chain): do not
  // make them wait for the empty-block interval. The QC of this block, which commits them, the
  // next leader announces by itself when it has nothing to propose (Tick).
  bool parent_txs = false;
  if (parent.round > 0) {
    auto p = Decode(parent);
    parent_txs = p.ok() && !(*p)->txs.empty();
  }
  if (txs.empty() && !parent_txs && SteadyMs() - last_block_ms_ < genesis_.params.heartbeat_ms) {
    return std::nullopt;
  }
  auto root = store_.StateRoot(store_.height());
  if (!root.ok()) {
    FailWith(root.status());
    return std::nullopt;
  }
  BlockTemplate t;
  t.height = parent.height + 1;
  t.parent_id = par->id;
  t.parent_time_ms = par->time_ms;
  t.state_height = store_.height();
  t.state_root = *root;
  t.epoch = vs_.epoch;
  t.round = replica_->round();
  auto own = std::make_shared<Payload>();
  own->block = AssembleBlock(genesis_, t, key_.public_key(), WallMs(), txs);
  // The proposer keeps the rule book too: a block it would refuse as a voter is a bug here.
  if (Status rules = CheckRules(own->block, txs, parent); !rules.ok()) {
    Log(Module::kConsensus)
        .error("not proposing in round {}: the block built breaks a rule: {}", replica_->round(),
               rules.ToString());
    return std::nullopt;
  }
  std::string bytes = CanonicalBlockBytes(own->block);
  auto lid = BlockId(own->block.header());
  if (!lid.ok()) {
    FailWith(lid.status());
    return std::nullopt;
  }
  // Our own vote decodes this payload next: hand it over decoded. Its transactions came out
  // of the mempool, which holds only verified ones.
  own->ledger_id = *lid;
  own->txs = std::move(txs);
  own->signatures_verified = true;
  own_payload_ = {crypto::Sha256(bytes), std::move(own)};
  allow_propose_ = false;  // one proposal per call (see Tick)
  last_proposed_round_ = replica_->round();
  return Bytes(bytes.begin(), bytes.end());
}

Status Validator::VerifyPayload(const consensus::Block& block, const consensus::Block& parent) {
  Status s = CatchUpExecution();
  if (!s.ok()) {
    FailWith(s);
    return s;
  }
  if (epoch_ended_) {
    return Status::Invalid("epoch_ended", "the epoch ended at a commit")
        .WithBlame(Status::Blame::kStale);
  }
  auto decoded = Decode(block);
  if (!decoded.ok()) return decoded.status();
  Payload& p = **decoded;
  const auto& h = p.block.header();
  if (h.height() != block.height || h.epoch() != block.epoch || h.round() != block.round) {
    return BadPayload("header height, epoch or round differs from the consensus block");
  }
  if (h.proposer() != Str(vs_.keys[block.proposer])) {
    return BadPayload("header proposer is not the block's leader");
  }
  const uint64_t now = WallMs();
  if (!self_ || block.proposer != *self_) {
    // Another validator's clock, as its block says: the median over recent proposals
    // estimates how far ours is from the council's (node/health.h).
    clock_offset_.Add(static_cast<int64_t>(now) - static_cast<int64_t>(h.time_ms()));
    if (auto est = clock_offset_.EstimateMs()) {
      clock_offset_ms_ = *est;
      clock_offset_known_ = true;
    }
  }
  if (h.time_ms() > now + kMaxClockSkewMs) {
    time_refused_.fetch_add(1);
    if (SteadyMs() - last_time_refusal_log_ms_ >= kEquivocationLogMs) {
      last_time_refusal_log_ms_ = SteadyMs();
      Log(Module::kConsensus)
          .warn(
              "refused a proposal of round {} dated {} ms ahead of this node's clock (bound "
              "{} ms): is this node's clock behind? ({} refused so far)",
              block.round, h.time_ms() - now, kMaxClockSkewMs, time_refused_.load());
    }
    // This node's clock may be the one behind.
    return BadPayload("time is in the future").WithBlame(Status::Blame::kLocal);
  }
  // The rule book: linkage to the parent, the header, the certified state, the tx root,
  // nonces and fee cover through the pending ancestors.
  s = CheckRules(p.block, p.txs, parent);
  if (!s.ok()) return s;
  // The block gas limit, a consensus rule (docs/PROTOCOL.md, "Block gas limit"): execution at
  // the commit would refuse the block too, too late to keep it out of the chain.
  if (Status gas = CheckBlockGas(genesis_.params, p.txs); !gas.ok()) return gas;
  // Signatures last, and from the back: the gossip of the block's newest transactions often
  // arrives with it and is verified on the pool threads from the front, each side noting what
  // it verified, so the two meet rather than verify the same transactions.
  if (!p.signatures_verified) {
    for (size_t i = p.txs.size(); i-- > 0;) {
      const DecodedTx& tx = p.txs[i];
      if (mempool_.Verified(tx.id, tx.envelope.signature())) continue;
      if (!VerifyTxSignature(tx)) {
        return Status::PeerFault(
            "bad_signature", "transaction " + std::to_string(i) + ": signature does not verify");
      }
      mempool_.NoteVerified(tx);
    }
    p.signatures_verified = true;
  }
  return Status::Ok();
}

// ---- commits ----

v1::QuorumCert Validator::ToLedgerQc(const consensus::QuorumCert& qc) const {
  v1::QuorumCert out;
  out.set_epoch(qc.epoch);
  out.set_round(qc.round);
  out.set_block_id(Str(qc.block_id));
  for (const auto& s : qc.sigs) {
    auto* signer = out.add_signers();
    signer->set_public_key(Str(vs_.keys.at(s.signer)));
    signer->set_signature(Str(s.sig));
  }
  return out;
}

Result<consensus::QuorumCert> Validator::FromLedgerQc(const v1::QuorumCert& qc) const {
  consensus::QuorumCert out;
  out.epoch = qc.epoch();
  out.round = qc.round();
  auto id = FixedFromBytes<32>(qc.block_id());
  if (!id) return Status::Corruption("stored certificate has a bad block id");
  out.block_id = *id;
  for (const auto& s : qc.signers()) {
    auto key = FixedFromBytes<32>(s.public_key());
    auto sig = FixedFromBytes<64>(s.signature());
    auto it = key ? std::find(vs_.keys.begin(), vs_.keys.end(), *key) : vs_.keys.end();
    if (it == vs_.keys.end() || !sig) return Status::Corruption("stored certificate is damaged");
    out.sigs.push_back({static_cast<consensus::ReplicaId>(it - vs_.keys.begin()), *sig});
  }
  std::sort(out.sigs.begin(), out.sigs.end(),
            [](const auto& a, const auto& b) { return a.signer < b.signer; });
  return out;
}

Status Validator::Commit(const consensus::Block& b, const consensus::QuorumCert& qc) {
  if (epoch_ended_) return Status::Ok();  // blocks after an epoch's last are never executed
  const uint64_t tip = store_.height();
  if (b.height <= tip) {
    // Usually committed a moment ago by CatchUpExecution: compare ids without reading the block.
    Hash32 id{};
    if (auto it = recent_commits_.find(b.height); it != recent_commits_.end()) {
      id = it->second;
    } else {
      auto stored = store_.GetBlock(b.height);
      if (!stored.ok()) return stored.status();
      auto qc_id = FixedFromBytes<32>(stored->commit_qc().block_id());
      if (qc_id) id = *qc_id;
    }
    if (id != b.Id()) {
      return Status::Error(Status::Code::kInternal, "safety_violation",
                           "consensus committed block " + std::to_string(b.height) +
                               " but the ledger holds a different one");
    }
    return Status::Ok();
  }
  if (b.height != tip + 1) {
    return Status::Error(Status::Code::kInternal, "commit_gap",
                         "consensus committed height " + std::to_string(b.height) +
                             " above the ledger's " + std::to_string(tip));
  }
  auto p = Decode(b);
  if (!p.ok()) return p.status();
  // A block this node voted for was decoded and its signatures checked then: no second pass.
  auto prepared = (*p)->signatures_verified
                      ? PrepareDecodedBlock(store_, genesis_, (*p)->block, (*p)->txs)
                      : PrepareBlock(store_, genesis_, (*p)->block);
  if (!prepared.ok()) {
    return Status::Error(Status::Code::kInternal, "invalid_committed_block",
                         "the council committed block " + std::to_string(b.height) +
                             " that this node cannot execute: " + prepared.status().ToString());
  }
  // The replica verified every signature of `qc` (received in a block, or formed from votes
  // it verified) before it committed `b`: the ledger certificate is its conversion.
  Status s = CommitVerifiedBlock(
      store_, *prepared,
      WithCertificate(*prepared, ToLedgerQc(qc), Str(consensus::BlockHeaderBytes(b))),
      Durability::kDeferred);
  if (!s.ok()) return s;
  recent_commits_[b.height] = b.Id();
  while (recent_commits_.size() > 64) recent_commits_.erase(recent_commits_.begin());
  const bool ends_epoch = prepared->next_epoch.has_value();
  if (unacknowledged_.empty()) unacknowledged_since_ms_ = SteadyMs();
  unacknowledged_.push_back(std::move(*prepared));
  if (ends_epoch) {
    s = AcknowledgeCommits(/*synced=*/false);
    if (!s.ok()) return s;
    // Leave the replica's call stack before replacing it.
    epoch_ended_ = true;
    Post([this] { SwitchEpoch(); });
  }
  return Status::Ok();
}

Status Validator::CatchUpExecution() {
  const consensus::Block& c = replica_->committed();
  if (c.height <= store_.height()) return Status::Ok();
  std::vector<std::pair<const consensus::Block*, consensus::QuorumCert>> chain;
  consensus::QuorumCert qc = replica_->committed_qc();
  const consensus::Block* b = &c;
  while (b && b->height > store_.height()) {
    chain.emplace_back(b, qc);
    qc = b->qc;
    b = replica_->FindBlock(b->parent_id);
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    Status s = Commit(*it->first, it->second);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Validator::AcknowledgeCommits(bool synced) {
  if (unacknowledged_.empty()) return Status::Ok();
  if (!synced) {
    Status s = store_.SyncWal();
    if (!s.ok()) return s;
  }
  std::vector<PreparedBlock> done;
  done.swap(unacknowledged_);
  for (const PreparedBlock& p : done) AfterCommit(p);
  return Status::Ok();
}

Status Validator::AcknowledgeCommitsSoon() {
  const bool no_txs = std::all_of(unacknowledged_.begin(), unacknowledged_.end(),
                                  [](const PreparedBlock& p) { return p.txs.empty(); });
  if (no_txs && SteadyMs() - unacknowledged_since_ms_ < 2ull * config_.block_interval_ms) {
    return Status::Ok();
  }
  return AcknowledgeCommits(/*synced=*/false);
}

void Validator::AfterCommit(const PreparedBlock& p) {
  const uint64_t height = p.block.header().height();
  mempool_.RemoveCommitted(p.txs, [this](const Address& a) -> Result<uint64_t> {
    StateOverlay view(store_);
    auto acct = view.GetAccount(a);
    if (!acct.ok()) return acct.status();
    return acct->nonce;
  });
  std::erase_if(payloads_,
                [&](const auto& kv) { return kv.second->block.header().height() <= height; });
  for (auto it = persisted_blocks_.begin(); it != persisted_blocks_.end();) {
    if (it->second <= height) {
      stale_block_keys_.push_back(it->first);
      it = persisted_blocks_.erase(it);
    } else {
      ++it;
    }
  }
  last_progress_ms_ = SteadyMs();
  if (TouchesValidatorEndpoints(p)) RefreshEndpoints();
  callbacks_.committed(p);
}

// ---- recovery and sync ----

Result<consensus::RecoveryData> Validator::Recovery(const consensus::SafetyData& safety) {
  consensus::RecoveryData rd;
  rd.safety = safety;
  const uint64_t h = store_.height();
  if (h < epoch_.start_height) {
    rd.last_committed = vs_.Genesis();
    rd.last_committed_qc = vs_.GenesisCert();
  } else {
    auto cb = store_.GetBlock(h);
    if (!cb.ok()) return cb.status();
    std::string payload = CanonicalBlockBytes(cb->block());
    auto block =
        consensus::DecodeBlockHeader(cb->consensus_header(), Bytes(payload.begin(), payload.end()));
    if (!block.ok()) {
      return Status::Corruption("stored block " + std::to_string(h) +
                                " does not match its consensus header");
    }
    auto qc = FromLedgerQc(cb->commit_qc());
    if (!qc.ok()) return qc.status();
    rd.last_committed = std::move(*block);
    rd.last_committed_qc = std::move(*qc);
  }
  auto records = store_.ScanConsensus(kBlockPrefix);
  if (!records.ok()) return records.status();
  for (const auto& [key, value] : *records) {
    auto b = consensus::DecodeBlock(value);
    if (!b.ok()) return Status::Corruption("a stored consensus block is damaged");
    if (b->height <= h || b->epoch != vs_.epoch) {
      stale_block_keys_.push_back(key);
    } else {
      persisted_blocks_[key] = b->height;
      rd.blocks.push_back(std::move(*b));
    }
  }
  return rd;
}

std::map<crypto::PublicKey, std::pair<std::string, std::string_view>> Validator::WantedEndpoints() {
  std::map<crypto::PublicKey, std::pair<std::string, std::string_view>> out;
  for (const auto& key : AdmittedKeys()) {
    if (key == key_.public_key()) continue;
    if (auto it = configured_peers_.find(key); it != configured_peers_.end()) {
      out[key] = {it->second, "config"};
      continue;
    }
    if (epoch_.validators.Contains(key)) {
      auto on_chain = nation::ReadValidatorEndpoint(store_, key);
      if (!on_chain.ok()) {
        Log(Module::kP2p)
            .warn("cannot read the endpoint of validator {} on chain: {}", ToHex(key).substr(0, 12),
                  on_chain.status().ToString());
      } else if (*on_chain) {
        out[key] = {**on_chain, "chain"};
        continue;
      }
    }
    for (const auto& v : genesis_.validators) {
      if (v.public_key == key && !v.p2p.empty()) out[key] = {v.p2p, "genesis"};
    }
  }
  return out;
}

void Validator::RefreshEndpoints() {
  if (!transport_) return;
  for (const auto& [key, where] : WantedEndpoints()) {
    auto it = dial_addresses_.find(key);
    if (it != dial_addresses_.end() && it->second == where.first) continue;
    Status s = transport_->SetPeerAddress({key, where.first});
    if (!s.ok()) {
      Log(Module::kP2p)
          .warn("validator {}: cannot dial {} (from {}): {}", ToHex(key).substr(0, 12), where.first,
                where.second, s.ToString());
      continue;
    }
    Log(Module::kP2p)
        .info("validator {} is dialed at {} (from {})", ToHex(key).substr(0, 12), where.first,
              where.second);
    dial_addresses_[key] = where.first;
  }
}

Status Validator::ReloadPeers(const std::vector<std::string>& p2p_peers) {
  auto peers = ParseConfiguredPeers(p2p_peers, key_.public_key());
  if (!peers.ok()) return peers.status();
  Post([this, peers = std::move(*peers)]() mutable {
    if (!transport_) return;
    configured_peers_ = std::move(peers);
    peer_keys_.clear();
    for (const auto& kv : configured_peers_) peer_keys_.push_back(kv.first);
    transport_->SetCouncil(AdmittedKeys());
    RefreshEndpoints();
    Log(Module::kP2p).info("peer list reloaded: {} configured peers", configured_peers_.size());
  });
  return Status::Ok();
}

std::vector<crypto::PublicKey> Validator::AdmittedKeys() const {
  std::vector<crypto::PublicKey> keys = vs_.keys;
  for (const auto& k : peer_keys_) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  return keys;
}

Status Validator::EnterEpoch(std::optional<consensus::SafetyData> safety) {
  epoch_ = store_.CurrentEpoch();
  vs_ = consensus::ValidatorSet{};
  vs_.chain_id = genesis_.chain_id;
  vs_.epoch = epoch_.number;
  vs_.keys = epoch_.validators.keys();
  epoch_anchor_ = ProposalParent{Hash32{}, 0, genesis_.genesis_time_ms, 0};
  if (epoch_.start_height > 1) {
    // The epoch's genesis block continues the previous epoch's last block.
    auto last = store_.GetBlock(epoch_.start_height - 1);
    if (!last.ok()) return last.status();
    auto id = BlockId(last->block().header());
    if (!id.ok()) return id.status();
    vs_.genesis_height = epoch_.start_height - 1;
    vs_.genesis_parent = *id;
    epoch_anchor_ =
        ProposalParent{*id, last->block().header().height(), last->block().header().time_ms(),
                       last->block().header().state_height()};
  }
  auto self = std::find(vs_.keys.begin(), vs_.keys.end(), key_.public_key());
  self_.reset();
  if (self != vs_.keys.end()) self_ = static_cast<consensus::ReplicaId>(self - vs_.keys.begin());
  if (!safety || safety->epoch < epoch_.number) {
    // Nothing was signed in this epoch yet: start its safety data, and forget the blocks voted
    // for in earlier epochs.
    safety = consensus::SafetyData{epoch_.number, 0, 0, vs_.GenesisCert()};
    auto old = store_.ScanConsensus(kBlockPrefix);
    if (!old.ok()) return old.status();
    std::vector<std::string> stale;
    for (const auto& kv : *old) stale.push_back(kv.first);
    Status s =
        store_.WriteConsensus({{kSafetyKey, Str(consensus::EncodeSafetyData(*safety))}}, stale);
    if (!s.ok()) return s;
    persisted_blocks_.clear();
    stale_block_keys_.clear();
  }
  epoch_ended_ = false;
  last_proposed_round_ = 0;
  epoch_number_ = epoch_.number;
  validating_ = self_.has_value();
  council_size_ = vs_.keys.size();
  replica_.reset();
  payloads_.clear();
  if (!self_) {
    Log(Module::kConsensus)
        .info(
            "epoch {} (from height {}): {} validators; this node is not one of them and "
            "follows the chain through block sync",
            epoch_.number, epoch_.start_height, vs_.n());
    return Status::Ok();
  }
  Log(Module::kConsensus)
      .info("epoch {} (from height {}): validator {} of {}", epoch_.number, epoch_.start_height,
            *self_, vs_.n());
  return RestoreReplica(*safety);
}

void Validator::SwitchEpoch() {
  if (!epoch_ended_ || failed_) return;
  Status s = EnterEpoch(std::nullopt);
  if (!s.ok()) {
    FailWith(s);
    return;
  }
  transport_->SetCouncil(AdmittedKeys());
  RefreshEndpoints();
  last_block_ms_ = last_progress_ms_ = SteadyMs();
  if (replica_) {
    Actions out;
    replica_->Start(out);
    Run(out);
  }
}

Status Validator::RestoreReplica(const consensus::SafetyData& safety) {
  auto rd = Recovery(safety);
  if (!rd.ok()) return rd.status();
  consensus::Config cfg;
  cfg.validators = vs_;
  cfg.self = *self_;
  cfg.signer = &signer_;
  cfg.base_timeout_ms = config_.timeout_base_ms;
  cfg.max_timeout_ms = config_.timeout_max_ms;
  cfg.idle_round_ms = genesis_.params.heartbeat_ms;
  auto replica = std::make_unique<consensus::Replica>(cfg, *this);
  Status s = replica->Restore(*rd);
  if (!s.ok()) return s;
  replica_ = std::move(replica);
  timer_round_ = 0;
  payloads_.clear();
  return Status::Ok();
}

void Validator::RequestSync(std::optional<crypto::PublicKey> peer) {
  if (!transport_) return;
  if (!peer) {
    auto peers = transport_->ConnectedPeers();
    if (peers.empty()) return;
    peer = peers[(SteadyMs() / kTickMs) % peers.size()];
  }
  v1::SyncMessage msg;
  msg.mutable_request()->set_from_height(store_.height() + 1);
  msg.mutable_request()->set_max_blocks(kSyncBatch);
  std::string bytes = msg.SerializeAsString();
  if (transport_->Send(*peer, p2p::kChannelSync, Bytes(bytes.begin(), bytes.end())).ok()) {
    sync_in_flight_ms_ = SteadyMs();
  }
}

void Validator::OnSync(const crypto::PublicKey& from, const Bytes& payload) {
  v1::SyncMessage msg;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    dropped_.fetch_add(1);
    return;
  }
  if (msg.has_request()) {
    v1::SyncMessage answer;
    auto* resp = answer.mutable_response();
    const uint64_t tip = store_.height();
    resp->set_tip_height(tip);
    size_t bytes = 0;
    uint32_t max = std::min(msg.request().max_blocks(), kSyncBatch);
    for (uint64_t h = std::max<uint64_t>(msg.request().from_height(), 1);
         h <= tip && static_cast<uint32_t>(resp->blocks_size()) < max; ++h) {
      auto cb = store_.GetBlock(h);
      if (!cb.ok()) break;
      bytes += cb->ByteSizeLong();
      if (bytes > kSyncResponseBytes && resp->blocks_size() > 0) break;
      *resp->add_blocks() = std::move(*cb);
    }
    std::string out = answer.SerializeAsString();
    (void)transport_->Send(from, p2p::kChannelSync, Bytes(out.begin(), out.end()));
    return;
  }
  if (!msg.has_response()) return;
  sync_in_flight_ms_ = 0;
  // A node a few blocks behind catches up through consensus itself (commits and block
  // fetches); re-joining from the ledger resets the replica's round, so only a node that is
  // well behind does it.
  // A node that only follows, or has made no progress for two timeouts (say, it missed the
  // commit that ended its epoch), takes any block it is missing.
  const bool stalled = SteadyMs() - last_progress_ms_ > 2ull * config_.timeout_base_ms;
  if (replica_ && !epoch_ended_ && !stalled &&
      msg.response().tip_height() < store_.height() + kSyncLag) {
    peer_tip_ = msg.response().tip_height();
    return;
  }
  uint64_t applied = 0;
  for (const auto& cb : msg.response().blocks()) {
    const uint64_t h = cb.block().header().height();
    if (h <= store_.height()) continue;
    if (h != store_.height() + 1) break;
    auto prepared = PrepareBlock(store_, genesis_, cb.block());
    Status s = prepared.ok() ? CommitPrepared(store_, genesis_, *prepared, cb.commit_qc(),
                                              cb.consensus_header(), Durability::kDeferred)
                             : prepared.status();
    if (!s.ok()) {
      dropped_.fetch_add(1);
      Log(Module::kConsensus)
          .warn("sync: block {} from {} refused: {}", h, ToHex(from).substr(0, 16), s.ToString());
      if (s.code() == Status::Code::kIOError) FailWith(s);
      if (auto penalty = PenaltyFor(PeerInput::kSync, s)) transport_->Penalize(from, *penalty);
      break;
    }
    unacknowledged_.push_back(std::move(*prepared));
    ++applied;
  }
  if (Status s = AcknowledgeCommits(/*synced=*/false); !s.ok()) {
    FailWith(s);
    return;
  }
  // A tip far above ours counts only when the answer's blocks verified: a peer cannot make
  // this node report catching_up by claiming a height it does not serve.
  if (applied == 0) {
    if (msg.response().tip_height() <= store_.height()) peer_tip_ = msg.response().tip_height();
    return;
  }
  peer_tip_ = msg.response().tip_height();
  synced_.fetch_add(applied);
  Log(Module::kConsensus)
      .info("sync: applied {} blocks from {}, now at height {}", applied, ToHex(from).substr(0, 16),
            store_.height());
  if (epoch_ended_ || store_.CurrentEpoch().number != epoch_.number) {
    epoch_ended_ = true;
    SwitchEpoch();
  } else if (replica_) {
    Status s = RestoreReplica(replica_->safety());
    if (!s.ok()) {
      FailWith(s);
      return;
    }
    Actions out;
    replica_->Start(out);
    Run(out);
  }
  if (msg.response().tip_height() > store_.height()) RequestSync(from);
}

}  // namespace civitas::node
