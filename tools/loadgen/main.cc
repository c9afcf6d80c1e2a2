// civitas-loadgen: drives running nodes with pre-signed transfers and measures what commits.
//
//   civitas-loadgen --nodes H:P[,H:P...] --key FUNDER.json --chain-id ID
//                   [--accounts N] [--txs M] [--rate R] [--threads T] [--batch B] [-o json]
//   civitas-loadgen ... --kind did    M DID registrations instead, each by a fresh key (a chain
//                                        whose gas price is 0: nobody funds them), to fill the
//                                        state before a measurement
//   civitas-loadgen --measure-cpu        V1 (BIP-340 verifications/s on one core) and the
//                                        ingress cost of a transaction (decode, checks,
//                                        mempool insert) on one core, in-process
//
// The funder pays N fresh accounts; then M transfers (round-robin over the accounts, each
// account's nonces in order, each account bound to one node so gossip cannot reorder its
// nonces) are signed before the clock starts. They are submitted open-loop at R tx/s (0: as
// fast as the nodes accept them, retrying a full mempool), one per call or, with --batch B,
// B per SubmitTransactions call (at a rate R, each batch leaves when its last transaction is
// due, and every transaction's latency counts from its own due time). A watcher follows the
// committed blocks of the first node (StreamBlocks) and stamps each transaction when its block
// arrives; latency is stamp - submit time. Output: committed tx/s over the run and latency
// percentiles.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/keyfile.h"
#include "ledger/tx.h"
#include "node/cli_parse.h"
#include "node/mempool.h"

using namespace civitas;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::unique_ptr<v1::Node::Stub> Connect(const std::string& addr) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per stub
  return v1::Node::NewStub(
      grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
}

// A call waits, up to its deadline, for a node that is still starting instead of failing.
void Deadline(grpc::ClientContext& ctx, int seconds) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  ctx.set_wait_for_ready(true);
}

// What a transfer asks for: its intrinsic gas at the genesis defaults (docs/PROTOCOL.md, "Gas
// and fees"), tx_base_gas 25,000 plus 2 per envelope byte (25,294 for the 147-byte envelopes of
// chain "civitas-bench"), with room for a 64-byte chain id. The block gas limit counts gas
// limits, so asking for far more would shrink blocks (issue 22, item 10).
constexpr uint64_t kTransferGasLimit = 25'500;

v1::Transaction MakeTransfer(const std::string& chain, const crypto::SecretKey& from,
                             const Address& to, uint64_t amount, uint64_t nonce) {
  v1::TxBody body;
  body.set_chain_id(chain);
  body.set_nonce(nonce);
  body.set_gas_limit(kTransferGasLimit);
  body.mutable_transfer()->set_to(std::string(AsStringView(to)));
  body.mutable_transfer()->set_amount(amount);
  return SignTx(from, body);
}

// Submits without waiting; retries while the node says its mempool is full.
bool Submit(v1::Node::Stub& stub, const v1::Transaction& tx, std::atomic<uint64_t>& refused) {
  for (int attempt = 0; attempt < 2000; ++attempt) {
    v1::SubmitTransactionRequest req;
    *req.mutable_tx() = tx;
    v1::SubmitTransactionResponse resp;
    grpc::ClientContext ctx;
    Deadline(ctx, 10);
    grpc::Status s = stub.SubmitTransaction(&ctx, req, &resp);
    if (s.ok()) return true;
    if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      std::cerr << "submit refused: " << s.error_message() << "\n";
      refused.fetch_add(1);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  refused.fetch_add(1);
  return false;
}

// Submits `txs` (in order) in calls of at most `batch`; a call is retried from its first
// transaction refused for a full mempool (on a retry, the ones already taken come back as
// duplicates). `stamp(i)` runs just before transaction i is first sent.
bool SubmitBatches(v1::Node::Stub& stub, const std::vector<const v1::Transaction*>& txs,
                   size_t batch, std::atomic<uint64_t>& refused,
                   const std::function<void(size_t)>& stamp) {
  size_t next = 0, stamped = 0;
  int full_retries = 0;
  while (next < txs.size()) {
    v1::SubmitTransactionsRequest req;
    const size_t end = std::min(txs.size(), next + batch);
    for (size_t i = next; i < end; ++i) {
      if (i >= stamped) stamp(stamped++);
      *req.add_txs() = *txs[i];
    }
    v1::SubmitTransactionsResponse resp;
    grpc::ClientContext ctx;
    Deadline(ctx, 30);
    grpc::Status s = stub.SubmitTransactions(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << "batch refused: " << s.error_message() << "\n";
      refused.fetch_add(txs.size() - next);
      return false;
    }
    size_t retry_from = end;
    for (int i = 0; i < resp.results_size(); ++i) {
      const auto& r = resp.results(i);
      if (r.admitted() || r.reason() == "duplicate_tx") continue;
      if (r.reason() == "mempool_full") {
        retry_from = next + static_cast<size_t>(i);
        break;
      }
      std::cerr << "submit refused: " << r.reason() << ": " << r.message() << "\n";
      refused.fetch_add(1);
    }
    if (retry_from == next) {
      ++full_retries;
    } else {
      full_retries = 0;  // progress
    }
    if (retry_from < end) {
      if (full_retries > 3000) {
        refused.fetch_add(txs.size() - retry_from);
        return false;
      }
      // Back off (2 ms doubling to 100 ms) while the pool stays full.
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(100, 2 << std::min(full_retries, 6))));
    }
    next = retry_from;
  }
  return true;
}

// A DID registration by a fresh key (nonce 0, no funds: for chains with gas price 0).
v1::Transaction MakeDidRegistration(const std::string& chain) {
  auto key = crypto::SecretKey::Generate();
  v1::TxBody body;
  body.set_chain_id(chain);
  body.set_nonce(0);
  // Little more than it uses (TypedActionsTest.ADidRegistrationFitsTheLoadGeneratorsGasLimit):
  // the block gas limit counts gas limits.
  body.set_gas_limit(300'000);
  body.mutable_register_did()->set_public_key(std::string(AsStringView(key.public_key())));
  return SignTx(key, body);
}

uint64_t Height(v1::Node::Stub& stub) {
  v1::GetStatusResponse st;
  grpc::ClientContext ctx;
  Deadline(ctx, 5);
  return stub.GetStatus(&ctx, {}, &st).ok() ? st.height() : 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

nlohmann::json MeasureCpu() {
  auto key = crypto::SecretKey::Generate();
  Hash32 msg = crypto::Sha256("civitas-loadgen");
  auto sig = key.Sign(msg);

  // Ingress: decode, stateless checks with the signature, mempool insert (one core).
  ChainParams params;
  std::vector<crypto::SecretKey> senders;
  for (int i = 0; i < 100; ++i) senders.push_back(crypto::SecretKey::Generate());
  std::vector<std::string> envelopes;
  const int m = 20'000;
  for (int i = 0; i < m; ++i) {
    envelopes.push_back(
        MakeTransfer("bench", senders[i % 100], Address{}, 1, i / 100).SerializeAsString());
  }
  node::Mempool pool({static_cast<size_t>(m), size_t{1} << 30, static_cast<size_t>(m)}, params);
  // Committed accounts at nonce 0, funded for every fee the pool will hold (issue 22, item 9).
  auto committed = [](const Address&) -> Result<AccountState> {
    AccountState a;
    a.balance = uint64_t{1} << 60;
    return a;
  };

  // The two are measured in alternating slices and each reported as its median slice, so a
  // slow spell of a shared machine weighs on both alike instead of on one of them.
  constexpr int kSlices = 20;
  constexpr int kPerSlice = m / kSlices;
  std::vector<double> v1s, ingresses, ratios;
  for (int s = 0; s < kSlices; ++s) {
    auto t0 = Clock::now();
    int ok = 0;
    for (int i = 0; i < kPerSlice; ++i)
      ok += crypto::VerifyUncached(key.public_key(), AsStringView(msg), sig) ? 1 : 0;
    if (ok != kPerSlice) std::abort();
    const double v1 = kPerSlice / Seconds(Clock::now() - t0);
    t0 = Clock::now();
    for (int i = s * kPerSlice; i < (s + 1) * kPerSlice; ++i) {
      auto tx = DecodeAndCheckTx(envelopes[static_cast<size_t>(i)], "bench", params, true);
      if (!tx.ok() || !pool.Add(std::move(*tx), committed).ok()) std::abort();
    }
    const double ingress = kPerSlice / Seconds(Clock::now() - t0);
    v1s.push_back(v1);
    ingresses.push_back(ingress);
    ratios.push_back(ingress / v1);
  }
  return {{"v1_verifications_per_s", Percentile(v1s, 0.5)},
          {"ingress_tx_per_s_per_core", Percentile(ingresses, 0.5)},
          {"ingress_over_v1", Percentile(ratios, 0.5)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"civitas-loadgen: pre-signed transfer load and commit measurements"};
  civitas::node::AddVersionFlag(app, "civitas-loadgen");
  std::string nodes_arg = "127.0.0.1:26601", key_path, chain_id, output = "text";
  size_t accounts = 200, total = 5000, threads = 8, batch = 1;
  std::string kind = "transfer";
  double rate = 0;
  bool measure_cpu = false;
  app.add_option("--nodes", nodes_arg, "comma-separated gRPC addresses")->capture_default_str();
  app.add_option("--key", key_path, "funder's key file");
  app.add_option("--chain-id", chain_id, "chain id");
  app.add_option("--accounts", accounts, "sending accounts")->capture_default_str();
  app.add_option("--txs", total, "transfers to submit")->capture_default_str();
  app.add_option("--rate", rate, "tx/s, 0 = as fast as accepted")->capture_default_str();
  app.add_option("--threads", threads, "submitting threads")->capture_default_str();
  app.add_option("--batch", batch, "transactions per submit call")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--kind", kind, "transfer, or did (registrations by unfunded fresh keys)")
      ->capture_default_str()
      ->check(CLI::IsMember({"transfer", "did"}));
  app.add_flag("--measure-cpu", measure_cpu, "measure V1 and ingress cost, then exit");
  app.add_option("-o,--output", output, "text or json")->check(CLI::IsMember({"text", "json"}));
  if (auto code = civitas::node::ParseCommandLine(app, argc, argv)) return *code;

  if (measure_cpu) {
    std::cout << MeasureCpu().dump(output == "json" ? -1 : 2) << "\n";
    return 0;
  }
  if (key_path.empty() || chain_id.empty()) {
    std::cerr << "error: --key and --chain-id are required\n";
    return 2;
  }
  auto funder = civitas::ReadKeyFile(key_path);
  if (!funder.ok()) {
    std::cerr << "error: " << funder.status().message() << "\n";
    return 1;
  }
  std::vector<std::string> addrs;
  for (size_t start = 0; start <= nodes_arg.size();) {
    size_t comma = nodes_arg.find(',', start);
    if (comma == std::string::npos) comma = nodes_arg.size();
    if (comma > start) addrs.push_back(nodes_arg.substr(start, comma - start));
    start = comma + 1;
  }
  const bool dids = kind == "did";
  if (dids) accounts = total;  // each registration is its own key's first transaction
  accounts = std::max<size_t>(1, std::min(accounts, total));
  threads = std::max<size_t>(1, std::min(threads, accounts));
  auto main_stub = Connect(addrs[0]);

  // Fund the accounts (all from the funder, submitted to the first node in nonce order).
  std::vector<crypto::SecretKey> keys;
  for (size_t i = 0; !dids && i < accounts; ++i) keys.push_back(crypto::SecretKey::Generate());
  v1::GetAccountRequest areq;
  areq.set_address(std::string(AsStringView(AddressOf(funder->public_key()))));
  v1::GetAccountResponse aresp;
  {
    grpc::ClientContext ctx;
    Deadline(ctx, 10);
    grpc::Status s = main_stub->GetAccount(&ctx, areq, &aresp);
    if (!s.ok()) {
      std::cerr << "error: cannot read the funder's account: " << s.error_message() << "\n";
      return 1;
    }
  }
  const uint64_t per_account = (total / accounts + 1) * (kTransferGasLimit + 1) + 1'000'000;
  std::atomic<uint64_t> refused{0};
  uint64_t nonce = aresp.account().nonce();
  for (size_t i = 0; i < keys.size(); ++i) {
    auto tx =
        MakeTransfer(chain_id, *funder, AddressOf(keys[i].public_key()), per_account, nonce++);
    if (!Submit(*main_stub, tx, refused)) return 1;
  }
  // Transfers go to every node, and a node's mempool refuses a sender whose committed balance
  // cannot cover the fee: wait until each node has committed the last funding transfer.
  for (size_t n = 0; !keys.empty() && n < addrs.size(); ++n) {
    auto stub = n == 0 ? nullptr : Connect(addrs[n]);
    bool funded = false;
    for (int i = 0; !funded && i < 6000; ++i) {
      v1::GetAccountRequest req;
      req.set_address(std::string(AsStringView(AddressOf(keys.back().public_key()))));
      v1::GetAccountResponse resp;
      grpc::ClientContext ctx;
      Deadline(ctx, 5);
      funded = (n == 0 ? *main_stub : *stub).GetAccount(&ctx, req, &resp).ok() &&
               resp.account().balance() > 0;
      if (!funded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!funded) {
      std::cerr << "error: node " << addrs[n] << " has not committed the funding in 60 s\n";
      return 1;
    }
  }

  // Pre-sign: account i's k-th transfer has nonce k; thread t owns accounts i % threads == t.
  std::vector<std::vector<v1::Transaction>> queues(threads);
  std::vector<std::vector<size_t>> queue_node(threads);
  Address sink = AddressOf(crypto::SecretKey::Generate().public_key());
  if (dids) {
    // Signing a million registrations takes a while: on every core.
    for (size_t t = 0; t < threads; ++t) {
      queues[t].resize((total - t + threads - 1) / threads);
      queue_node[t].resize(queues[t].size());
    }
    std::vector<std::thread> signers;
    for (size_t t = 0; t < threads; ++t) {
      signers.emplace_back([&, t] {
        for (size_t k = 0; k < queues[t].size(); ++k) {
          queues[t][k] = MakeDidRegistration(chain_id);
          queue_node[t][k] = (t + k * threads) % addrs.size();
        }
      });
    }
    for (auto& s : signers) s.join();
  }
  for (size_t j = 0; !dids && j < total; ++j) {
    size_t i = j % accounts;
    queues[i % threads].push_back(MakeTransfer(chain_id, keys[i], sink, 1, j / accounts));
    queue_node[i % threads].push_back(i % addrs.size());
  }
  std::map<Hash32, Clock::time_point> submitted_at;
  std::map<Hash32, double> latency_ms;
  std::mutex mu;

  // Watch the committed blocks of the first node, as they are acknowledged (StreamBlocks).
  std::atomic<bool> stop_watch{false};
  std::mutex watch_mu;
  grpc::ClientContext* watch_ctx = nullptr;  // guarded by watch_mu: cancelled to stop
  uint64_t start_height = Height(*main_stub);
  Clock::time_point last_commit{};
  size_t committed = 0;
  std::thread watcher([&] {
    auto stub = Connect(addrs[0]);
    uint64_t next = start_height + 1;
    while (!stop_watch.load()) {
      grpc::ClientContext ctx;
      {
        std::lock_guard lock(watch_mu);
        if (stop_watch.load()) break;
        watch_ctx = &ctx;
      }
      v1::StreamBlocksRequest req;
      req.set_from_height(next);
      auto reader = stub->StreamBlocks(&ctx, req);
      v1::StreamBlocksResponse resp;
      while (reader->Read(&resp)) {
        auto now = Clock::now();
        std::lock_guard lock(mu);
        for (const auto& tx : resp.block().block().txs()) {
          auto pk = FixedFromBytes<32>(tx.public_key());
          if (!pk) continue;
          Hash32 id = TxId(*pk, tx.body());
          auto it = submitted_at.find(id);
          if (it == submitted_at.end() || latency_ms.count(id)) continue;
          latency_ms[id] = std::chrono::duration<double, std::milli>(now - it->second).count();
          ++committed;
          last_commit = now;
        }
        next = resp.block().block().header().height() + 1;
      }
      (void)reader->Finish();
      {
        std::lock_guard lock(watch_mu);
        watch_ctx = nullptr;
      }
      // A stream the node ended (it stopped, or a disconnect): resume after a moment.
      if (!stop_watch.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<std::unique_ptr<v1::Node::Stub>> stubs;
      for (const auto& a : addrs) stubs.push_back(Connect(a));
      auto stamp_tx = [&](const v1::Transaction& tx, Clock::time_point at = Clock::now()) {
        Hash32 id = TxId(*FixedFromBytes<32>(tx.public_key()), tx.body());
        std::lock_guard lock(mu);
        submitted_at[id] = at;
      };
      // Thread t's k-th transaction is the (k * threads + t)-th of an evenly spaced stream, so
      // the threads interleave instead of sending together in bursts of `threads`.
      auto slot = [&](size_t k) {
        return t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(k * threads + t) / rate));
      };
      if (batch > 1 && rate > 0) {
        // Paced batches: once the last of B transactions is due, the B go out together, per
        // node in queue order. Each is stamped with its own due time, so the wait for the
        // batch counts in its latency. Thread t's j-th batch is the (j * threads + t)-th of an
        // evenly spaced stream of batches, B consecutive slots each: the threads take turns
        // instead of all sending at once every threads x B slots.
        auto batch_slot = [&](size_t k) {  // k: index in this thread's queue
          const size_t j = k / batch;
          return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                          static_cast<double>((j * threads + t) * batch + k % batch) / rate));
        };
        for (size_t k = 0; k < queues[t].size(); k += batch) {
          const size_t end = std::min(queues[t].size(), k + batch);
          std::this_thread::sleep_until(batch_slot(end - 1));
          std::vector<std::vector<const v1::Transaction*>> per_node(addrs.size());
          for (size_t i = k; i < end; ++i) {
            stamp_tx(queues[t][i], batch_slot(i));
            per_node[queue_node[t][i]].push_back(&queues[t][i]);
          }
          for (size_t node = 0; node < addrs.size(); ++node) {
            if (per_node[node].empty()) continue;
            SubmitBatches(*stubs[node], per_node[node], batch, refused, [](size_t) {});
          }
        }
        return;
      }
      if (batch > 1) {
        // Per node, in queue order: an account's transactions keep their nonce order.
        std::vector<std::vector<const v1::Transaction*>> per_node(addrs.size());
        for (size_t k = 0; k < queues[t].size(); ++k) {
          per_node[queue_node[t][k]].push_back(&queues[t][k]);
        }
        for (size_t j = 0; j < addrs.size(); ++j) {
          const size_t node = (t + j) % addrs.size();  // threads start on different nodes
          const auto& txs = per_node[node];
          SubmitBatches(*stubs[node], txs, batch, refused, [&](size_t i) { stamp_tx(*txs[i]); });
        }
        return;
      }
      for (size_t k = 0; k < queues[t].size(); ++k) {
        if (rate > 0) std::this_thread::sleep_until(slot(k));
        const auto& tx = queues[t][k];
        stamp_tx(tx);
        if (!Submit(*stubs[queue_node[t][k]], tx, refused)) break;
      }
    });
  }
  for (auto& w : workers) w.join();
  const auto submitted_done = Clock::now();
  // Wait for the rest while commits keep coming: give up after 60 s without one (a full
  // mempool of slow transactions, such as DID registrations, takes minutes to drain).
  size_t seen = 0;
  auto last_progress = Clock::now();
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (committed + refused.load() >= total) break;
      if (committed != seen) {
        seen = committed;
        last_progress = Clock::now();
      }
    }
    if (Clock::now() - last_progress > std::chrono::seconds(60)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::lock_guard lock(watch_mu);
    stop_watch = true;
    if (watch_ctx) watch_ctx->TryCancel();
  }
  watcher.join();

  std::vector<double> lat;
  for (const auto& [id, ms] : latency_ms) lat.push_back(ms);
  const double duration = Seconds((committed ? last_commit : Clock::now()) - t0);
  nlohmann::json out = {{"nodes", addrs.size()},
                        {"accounts", accounts},
                        {"submitted", total},
                        {"refused", refused.load()},
                        {"committed", committed},
                        {"offered_rate", rate},
                        {"submit_seconds", Seconds(submitted_done - t0)},
                        {"seconds", duration},
                        {"committed_tx_per_s", duration > 0 ? committed / duration : 0.0},
                        {"latency_ms_p50", Percentile(lat, 0.50)},
                        {"latency_ms_p90", Percentile(lat, 0.90)},
                        {"latency_ms_p99", Percentile(lat, 0.99)},
                        {"blocks_from", start_height + 1},
                        {"tx_bytes", queues[0].empty() ? 0 : queues[0][0].ByteSizeLong()}};
  std::cout << out.dump(output == "json" ? -1 : 2) << "\n";
  return committed == total ? 0 : 3;
}
