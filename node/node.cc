#include "node/node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "node/build_info.h"
#include "node/civic_queries.h"
#include "node/explorer.h"
#include "node/grpc_service.h"

namespace civitas::node {
namespace {

// The gRPC server's credentials from the config: TLS with the configured PEM files, or
// plaintext (ValidateConfig allows that on loopback, or off it with grpc.insecure).
Result<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(const Config& c) {
  if (c.grpc_tls_cert.empty()) return grpc::InsecureServerCredentials();
  auto read = [&](const std::string& setting, const std::string& path) -> Result<std::string> {
    std::ifstream in(c.ConfigRelative(path), std::ios::binary);
    std::stringstream text;
    if (in) text << in.rdbuf();
    if (!in || text.str().empty()) {
      return Status::Invalid("bad_config",
                             "cannot read " + setting + " '" + c.ConfigRelative(path) + "'");
    }
    return text.str();
  };
  auto cert = read("grpc.tls_cert", c.grpc_tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = read("grpc.tls_key", c.grpc_tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

}  // namespace

Node::Node(Config config, Genesis genesis, crypto::SecretKey key)
    : config_(std::move(config)),
      genesis_(std::move(genesis)),
      key_(std::move(key)),
      mempool_({config_.mempool_max_txs, config_.mempool_max_bytes, config_.mempool_max_per_sender},
               genesis_.params) {}

Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Open(Config config, Genesis genesis,
                                         crypto::SecretKey validator_key) {
  // A key outside the current validator set is allowed: the node follows the chain through
  // block sync until governance adds it (node/validator.h).
  std::unique_ptr<Node> node(
      new Node(std::move(config), std::move(genesis), std::move(validator_key)));
  auto store = Store::Open(node->config_.DataPath(), node->genesis_, Store::Mode::kReadWrite,
                           StoreOptions{node->config_.state_history});
  if (!store.ok()) return store.status();
  node->store_ = std::move(*store);
  node->acknowledged_height_ = node->store_->height();  // what a reopened store holds is durable
  return node;
}

Status Node::Start() {
  validator_ = std::make_unique<Validator>(
      config_, genesis_, *store_, mempool_, key_,
      Validator::Callbacks{[this](DecodedTx tx) { return AdmitChecked(std::move(tx)).status(); },
                           [this](const PreparedBlock& p) { OnCommitted(p); },
                           [this](const Status& s) { Fail(s); }});
  Status vs = validator_->Start();
  if (!vs.ok()) return vs;
  service_ = std::make_unique<NodeService>(*this);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  auto credentials = GrpcServerCredentials(config_);
  if (!credentials.ok()) return credentials.status();
  builder.AddListeningPort(config_.grpc_listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.grpc_max_receive_bytes));
  // Bounds against idle or slow clients: a connection must finish its handshake within 10 s,
  // is closed after 5 idle minutes, carries at most 100 concurrent calls, and all of them
  // share a bounded memory and thread budget (gRPC has no connection cap).
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 300'000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  // Streams take at most half the threads (grpc.max_streams, NodeService), so unary calls
  // are served while streams are at their cap.
  grpc::ResourceQuota quota("civitas-grpc");
  quota.Resize(512u << 20);
  quota.SetMaxThreads(kGrpcThreads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_ || port == 0) {
    return Status::IOError("cannot listen for gRPC on " + config_.grpc_listen +
                           (config_.grpc_tls_cert.empty()
                                ? std::string()
                                : " (are grpc.tls_cert and grpc.tls_key a matching PEM pair?)"));
  }
  grpc_port_ = port;
  spdlog::info("gRPC API listening on {} (port {}, {})", config_.grpc_listen, port,
               config_.grpc_tls_cert.empty() ? "plaintext" : "TLS");
  if (config_.grpc_tls_cert.empty() && !IsLoopbackListen(config_.grpc_listen)) {
    spdlog::warn("gRPC serves plaintext beyond this machine on {} (grpc.insecure = true)",
                 config_.grpc_listen);
  }
  http_ = std::make_unique<HttpServer>(HttpHandlers{
      [this] { return MetricsText(); },
      [this] {
        std::lock_guard lock(mu_);
        return failure_.ok();
      },
      [this] { return NotReady(); },
      [this] {
        const Sync sync = SyncState();
        return std::string("catching_up: ") + (sync.catching_up ? "true" : "false") +
               "\npeers: " + std::to_string(sync.peers) + "\n";
      },
      [this](const DidRequest& r) { return ResolveDidOverHttp(*store_, r); },
      [this](std::string_view target) { return ServeExplorer(*store_, genesis_, target); }});
  Status hs = http_->Start(config_.http_listen);
  if (!hs.ok()) return hs;
  spdlog::info("HTTP (metrics, health, DID resolver, explorer) listening on {} (port {})",
               config_.http_listen, http_->port());
  if (!IsLoopbackListen(config_.http_listen)) {
    spdlog::warn("HTTP serves plaintext beyond this machine on {} (http.insecure = true)",
                 config_.http_listen);
  }
  admin_ = std::make_unique<AdminServer>([this](const std::string& line) {
    // "backup DIR": a checkpoint of the ledger into the new folder DIR (absolute).
    if (!line.starts_with("backup /"))
      return std::string("error bad_request: backup /ABSOLUTE/DIR");
    const std::string dir = line.substr(7);
    Status s = store_->Checkpoint(dir);
    if (!s.ok()) return "error " + s.reason() + ": " + s.message();
    spdlog::info("backup: checkpoint of the ledger written to {} (height {})", dir,
                 store_->height());
    return std::string("ok");
  });
  // Without it the node runs on; `civitasd backup` then says the ledger is locked.
  if (Status as = admin_->Start(AdminSocketPath(config_)); !as.ok()) {
    spdlog::warn("no online backup: {}", as.message());
  }
  return Status::Ok();
}

void Node::RequestStop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  cv_.notify_all();
}

void Node::Stop() {
  RequestStop();
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc_server_.reset();
  }
  if (admin_) admin_->Stop();
  if (validator_) validator_->Stop();
  if (http_) http_->Stop();
}

Status Node::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stopping_; });
  return failure_;
}

void Node::Fail(const Status& s) {
  spdlog::critical("stopping: {}", s.ToString());
  std::lock_guard lock(mu_);
  failure_ = s;
  stopping_ = true;
  cv_.notify_all();
}

void Node::OnCommitted(const PreparedBlock& p) {
  for (const auto& r : p.exec.receipts) {
    (r.status() == v1::TX_STATUS_SUCCESS ? committed_txs_ : failed_txs_).fetch_add(1);
  }
  const uint64_t block_time = p.block.header().time_ms();
  if (last_block_time_ms_ > 0 && block_time >= last_block_time_ms_) {
    uint64_t ms = block_time - last_block_time_ms_;
    size_t b = 0;
    while (b < kIntervalBuckets.size() && ms > kIntervalBuckets[b] * 1000) ++b;
    interval_counts_[b].fetch_add(1);
    interval_sum_ms_.fetch_add(ms);
  }
  last_block_time_ms_ = block_time;
  spdlog::debug("committed block {} with {} transactions", p.block.header().height(), p.txs.size());
  std::lock_guard lock(mu_);
  acknowledged_height_ = p.block.header().height();
  cv_.notify_all();
}

Result<Hash32> Node::Submit(const v1::Transaction& envelope) {
  auto id = Admit(envelope);
  if (id.ok()) validator_->SubmitLocal(envelope);
  return id;
}

std::vector<Result<Hash32>> Node::SubmitMany(
    const google::protobuf::RepeatedPtrField<v1::Transaction>& envelopes) {
  std::vector<Result<Hash32>> out;
  out.reserve(envelopes.size());
  std::vector<const v1::Transaction*> admitted;
  for (const auto& envelope : envelopes) {
    out.push_back(Admit(envelope));
    if (out.back().ok()) admitted.push_back(&envelope);
  }
  for (const auto* tx : admitted) validator_->SubmitLocal(*tx);
  return out;
}

Result<Hash32> Node::Admit(const v1::Transaction& envelope) {
  if (Status room = mempool_.CheckRoom(envelope.ByteSizeLong()); !room.ok()) return room;
  auto tx = mempool_.Check(envelope, genesis_.chain_id, genesis_.params);
  if (!tx.ok()) return tx.status();
  return AdmitChecked(std::move(*tx));
}

Result<Hash32> Node::AdmitChecked(DecodedTx tx) {
  const Hash32 id = tx.id;
  StateOverlay view(*store_);
  auto acct = view.GetAccount(tx.sender);
  if (!acct.ok()) return acct.status();
  // The id covers the sender and the nonce: only a nonce below the account's can belong to a
  // committed transaction, so the index is read only then (a lookup that misses costs more).
  if (tx.body.nonce() < acct->nonce && store_->GetTxLocation(id).ok()) {
    return Status::Error(Status::Code::kAlreadyExists, "duplicate_tx",
                         "transaction is already committed");
  }
  // The sender must be able to pay the largest fees it allowed for, its pending transactions'
  // included (Mempool::Add).
  Status s = mempool_.Add(std::move(tx), [this](const Address& a) -> Result<AccountState> {
    StateOverlay v(*store_);
    return v.GetAccount(a);
  });
  if (!s.ok()) return s;
  return id;
}

bool Node::WaitForCommit(const Hash32& tx_id, uint32_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto acknowledged = [&] {
    auto loc = store_->GetTxLocation(tx_id);
    return loc.ok() && loc->height <= acknowledged_height_.load();
  };
  std::unique_lock lock(mu_);
  for (;;) {
    if (acknowledged()) return true;
    if (stopping_) return false;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) return acknowledged();
  }
}

bool Node::WaitForHeight(uint64_t height, uint32_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return stopping_ || acknowledged_height_ >= height; });
  return acknowledged_height_ >= height;
}

std::string Node::NotReady() const {
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return "failed: " + failure_.message();
    if (stopping_) return "stopping";
  }
  if (!validator_) return "starting";
  Validator::Stats v = validator_->GetStats();
  return NotReadyReason(
      HealthInputs{v.validating, v.council_size, v.peers, v.own_equivocations, v.clock_offset_ms});
}

Node::Sync Node::SyncState() const {
  if (!validator_) return {};
  const Validator::Stats v = validator_->GetStats();
  return Sync{v.peer_tip > acknowledged_height_.load() + Validator::Stats::kCaughtUpLag, v.peers};
}

bool Node::stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

}  // namespace civitas::node

namespace civitas::node {

std::string Node::MetricsText() const {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, double value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  out +=
      "# HELP civitas_build_info The node's version and git commit (the value is 1).\n"
      "# TYPE civitas_build_info gauge\n"
      "civitas_build_info{version=\"" +
      std::string(BuildVersion()) + "\",commit=\"" + std::string(BuildCommit()) + "\"} 1\n";
  metric("civitas_height", "gauge", "Height of the latest committed block.",
         static_cast<double>(acknowledged_height_.load()));
  metric("civitas_committed_transactions_total", "counter",
         "Transactions committed with a successful receipt since start.",
         static_cast<double>(committed_txs_.load()));
  metric("civitas_failed_transactions_total", "counter",
         "Transactions committed with a failed receipt since start.",
         static_cast<double>(failed_txs_.load()));
  metric("civitas_mempool_transactions", "gauge", "Transactions waiting in the mempool.",
         static_cast<double>(mempool_.size()));
  metric("civitas_mempool_bytes", "gauge", "Bytes of transactions waiting in the mempool.",
         static_cast<double>(mempool_.bytes()));
  if (service_) {
    metric("civitas_grpc_streams", "gauge", "Open StreamBlocks and StreamEvents calls.",
           static_cast<double>(service_->streams().open_streams()));
    metric("civitas_grpc_streams_refused_total", "counter",
           "Streams refused at grpc.max_streams or grpc.max_streams_per_client.",
           static_cast<double>(service_->streams().refused()));
    metric("civitas_grpc_stream_write_timeouts_total", "counter",
           "Streams ended because a write did not complete within grpc.stream_write_timeout_ms.",
           static_cast<double>(service_->streams().timed_out()));
  }
  metric("civitas_signature_verifications_total", "counter",
         "BIP-340 signature verifications done by this process.",
         static_cast<double>(crypto::VerifyCount()));
  metric("civitas_store_synced_writes_total", "counter",
         "Synced writes (write-ahead-log fsyncs) of the ledger store since start.",
         static_cast<double>(store_->synced_writes()));
  const Store::Background bg = store_->background();
  metric("civitas_store_background_jobs", "gauge",
         "RocksDB flushes and compactions of the ledger store running now.",
         static_cast<double>(bg.running_jobs));
  metric("civitas_store_pending_compaction_bytes", "gauge",
         "RocksDB's estimate of the bytes compaction still has to rewrite.",
         static_cast<double>(bg.pending_compaction_bytes));
  if (validator_) {
    Validator::Stats v = validator_->GetStats();
    metric("civitas_consensus_epoch", "gauge", "Current epoch (validator-set generation).",
           static_cast<double>(v.epoch));
    metric("civitas_consensus_validating", "gauge",
           "1 when this node is a validator of the current epoch, 0 when it only follows.",
           v.validating ? 1.0 : 0.0);
    metric("civitas_consensus_round", "gauge", "Current consensus round.",
           static_cast<double>(v.round));
    metric("civitas_consensus_proposals_total", "counter", "Blocks proposed by this validator.",
           static_cast<double>(v.proposals));
    metric("civitas_consensus_votes_total", "counter", "Votes cast by this validator.",
           static_cast<double>(v.votes));
    metric("civitas_consensus_timeouts_total", "counter",
           "Timeout messages broadcast by this validator.", static_cast<double>(v.timeouts));
    metric("civitas_sync_blocks_total", "counter", "Committed blocks applied from block sync.",
           static_cast<double>(v.synced_blocks));
    metric("civitas_p2p_dropped_messages_total", "counter",
           "Peer messages dropped as invalid, stale or unwanted.",
           static_cast<double>(v.dropped_messages));
    metric("civitas_p2p_peers", "gauge", "Validators connected over P2P.",
           static_cast<double>(v.peers));
    metric("civitas_catching_up", "gauge",
           "1 while a peer reported a tip more than 4 blocks above this node's height.",
           SyncState().catching_up ? 1.0 : 0.0);
    metric("civitas_consensus_equivocations_total", "counter",
           "Second, different proposals or votes of one validator for one round, seen here.",
           static_cast<double>(v.equivocations));
    metric("civitas_consensus_own_key_equivocations_total", "counter",
           "Blocks under this validator's own key that it did not propose (a second process "
           "runs its key).",
           static_cast<double>(v.own_equivocations));
    metric("civitas_consensus_proposals_refused_for_time_total", "counter",
           "Proposals refused because their time is too far ahead of this node's clock.",
           static_cast<double>(v.time_refused));
    metric("civitas_clock_offset_seconds", "gauge",
           "This node's clock minus its peers', from the times of their recent proposals "
           "(0 until three were seen).",
           v.clock_offset_ms ? static_cast<double>(*v.clock_offset_ms) / 1000.0 : 0.0);
    metric("civitas_ready", "gauge", "1 when /readyz answers ready, else 0.",
           NotReady().empty() ? 1.0 : 0.0);
  }
  StateOverlay view(*store_);
  auto treasury = view.GetAccount(TreasuryAddress());
  metric("civitas_treasury_balance", "gauge", "Native tokens held by the treasury.",
         treasury.ok() ? static_cast<double>(treasury->balance) : 0.0);
  out +=
      "# HELP civitas_block_interval_seconds Time between consecutive committed blocks.\n"
      "# TYPE civitas_block_interval_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kIntervalBuckets.size(); ++b) {
    cumulative += interval_counts_[b].load();
    char le[32];
    std::snprintf(le, sizeof(le), "%g", kIntervalBuckets[b]);
    out += "civitas_block_interval_seconds_bucket{le=\"" + std::string(le) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  cumulative += interval_counts_[kIntervalBuckets.size()].load();
  out += "civitas_block_interval_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += "civitas_block_interval_seconds_sum " + std::to_string(interval_sum_ms_.load() / 1000.0) +
         "\n";
  out += "civitas_block_interval_seconds_count " + std::to_string(cumulative) + "\n";
  return out;
}

}  // namespace civitas::node
