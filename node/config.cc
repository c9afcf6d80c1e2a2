#include "node/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "node/log.h"

namespace civitas::node {
namespace {

Status Bad(const std::string& msg) { return Status::Invalid("bad_config", msg); }

// `s` as a TOML basic string ("..."), quotes and escapes written by toml++: a moniker may hold
// '"', '\\' or a line break. Always double-quoted and on one line (no literal or multi-line
// strings), so the file keeps the shape scripts and operators expect; UTF-8 stays readable.
std::string Quoted(const std::string& s) {
  const toml::value<std::string> v(s);
  std::ostringstream o;
  o << toml::toml_formatter(v, toml::format_flags::allow_unicode_strings);
  return o.str();
}

bool ValidHostPort(const std::string& a) {
  auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= a.size() || a.size() - colon > 6) {
    return false;
  }
  for (size_t i = colon + 1; i < a.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(a[i]))) return false;
  }
  int port = std::stoi(a.substr(colon + 1));
  return port >= 0 && port < 65536;  // 0: any free port (tests)
}

}  // namespace

bool IsLoopbackListen(const std::string& host_port) {
  std::string host = host_port.substr(0, host_port.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Status ValidateConfig(const Config& c) {
  for (const auto* a : {&c.grpc_listen, &c.http_listen, &c.p2p_listen}) {
    if (!ValidHostPort(*a)) return Bad("listen address '" + *a + "' is not host:port");
  }
  // Hostnames are fine everywhere: gRPC resolves them, the HTTP server and the P2P transport
  // resolve them once at start (p2p::ResolveListenAddress; docs/OPERATIONS.md).
  if (c.grpc_tls_cert.empty() != c.grpc_tls_key.empty()) {
    return Bad("grpc.tls_cert and grpc.tls_key must be set together");
  }
  if (c.grpc_tls_cert.empty() && !c.grpc_insecure && !IsLoopbackListen(c.grpc_listen)) {
    return Bad("gRPC on " + c.grpc_listen +
               " would serve citizens in plaintext: set grpc.tls_cert and grpc.tls_key, or "
               "grpc.insecure = true to accept that");
  }
  if (!c.http_insecure && !IsLoopbackListen(c.http_listen)) {
    return Bad("HTTP on " + c.http_listen +
               " has no TLS: listen on loopback behind a TLS proxy, or set http.insecure = true "
               "to accept that");
  }
  if (c.block_interval_ms < 10 || c.block_interval_ms > 60'000) {
    return Bad("block_interval_ms must be in [10, 60000]");
  }
  if (c.timeout_base_ms < 2 * c.block_interval_ms || c.timeout_base_ms > c.timeout_max_ms) {
    return Bad(
        "timeout_base_ms must be at least twice block_interval_ms and at most "
        "timeout_max_ms");
  }
  for (const auto& peer : c.p2p_peers) {
    auto at = peer.find('@');
    if (at != 64 || !ValidHostPort(peer.substr(at + 1))) {
      return Bad("p2p peer '" + peer + "' is not <64 hex digits of a public key>@host:port");
    }
  }
  if (c.max_block_txs == 0 || c.max_block_txs > 10000)
    return Bad("max_block_txs must be in [1, 10000]");
  if (c.max_block_gas == 0) return Bad("max_block_gas must be at least 1");
  if (c.mempool_max_txs == 0 || c.mempool_max_bytes == 0 || c.mempool_max_per_sender == 0) {
    return Bad("mempool caps must be positive");
  }
  if (c.state_history != 0 && c.state_history < kMinStateHistory) {
    return Bad("storage.state_history must be 0 (keep every height's state) or at least " +
               std::to_string(kMinStateHistory));
  }
  if (c.grpc_max_receive_bytes < 1024) return Bad("grpc max_receive_bytes must be at least 1024");
  if (c.grpc_max_streams == 0 || c.grpc_max_streams > kGrpcThreads / 2) {
    return Bad("grpc.max_streams must be in [1, " + std::to_string(kGrpcThreads / 2) +
               "] (half the gRPC threads; the rest serve unary calls)");
  }
  if (c.grpc_max_streams_per_client == 0 || c.grpc_max_streams_per_client > c.grpc_max_streams) {
    return Bad("grpc.max_streams_per_client must be in [1, grpc.max_streams]");
  }
  if (c.grpc_stream_write_timeout_ms < 100) {
    return Bad("grpc.stream_write_timeout_ms must be at least 100");
  }
  auto levels = ParseLogLevels(c.log_level);
  if (!levels.ok()) return levels.status();
  if (c.log_format != "plain" && c.log_format != "json")
    return Bad("log format must be plain or json");
  return Status::Ok();
}

Result<Config> LoadConfig(const std::string& home) {
  Config c;
  c.home = home;
  std::ifstream in(c.ConfigPath());
  if (!in) return Bad("cannot read " + c.ConfigPath());
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), home, c.ConfigPath());
}

Result<Config> ParseConfig(std::string_view toml_text, const std::string& home,
                           const std::string& source) {
  Config c;
  c.home = home;
  toml::table t;
  try {
    t = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ": " << e.description() << " at " << e.source().begin;
    return Bad(msg.str());
  }
  // Every known key; anything else is a typo the operator should hear about.
  static const std::set<std::string> known{"moniker",
                                           "grpc.listen",
                                           "grpc.tls_cert",
                                           "grpc.tls_key",
                                           "grpc.insecure",
                                           "http.insecure",
                                           "grpc.max_receive_bytes",
                                           "grpc.max_wait_ms",
                                           "grpc.default_wait_ms",
                                           "grpc.max_streams",
                                           "grpc.max_streams_per_client",
                                           "grpc.stream_write_timeout_ms",
                                           "http.listen",
                                           "p2p.listen",
                                           "consensus.block_interval_ms",
                                           "p2p.peers",
                                           "consensus.timeout_base_ms",
                                           "consensus.timeout_max_ms",
                                           "consensus.max_block_txs",
                                           "consensus.max_block_gas",
                                           "mempool.max_txs",
                                           "mempool.max_bytes",
                                           "mempool.max_per_sender",
                                           "storage.state_history",
                                           "log.level",
                                           "log.format"};
  std::string unknown;
  t.for_each([&](const toml::key& k, auto& v) {
    if constexpr (toml::is_table<decltype(v)>) {
      v.for_each([&](const toml::key& k2, auto&) {
        std::string full = std::string(k.str()) + "." + std::string(k2.str());
        if (!known.count(full) && unknown.empty()) unknown = full;
      });
    } else if (!known.count(std::string(k.str())) && unknown.empty()) {
      unknown = std::string(k.str());
    }
  });
  if (!unknown.empty()) return Bad("unknown setting '" + unknown + "' in " + source);

  std::string wrong;
  auto str = [&](const char* path, std::string& out) {
    auto node = t.at_path(path);
    if (!node) return;
    if (auto v = node.value<std::string>())
      out = *v;
    else
      wrong = path;
  };
  auto num = [&](const char* path, auto& out) {
    auto node = t.at_path(path);
    if (!node) return;
    auto v = node.value<int64_t>();
    if (v && *v >= 0)
      out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
    else
      wrong = path;
  };
  auto flag = [&](const char* path, bool& out) {
    auto node = t.at_path(path);
    if (!node) return;
    if (auto v = node.value<bool>())
      out = *v;
    else
      wrong = path;
  };
  str("moniker", c.moniker);
  str("grpc.listen", c.grpc_listen);
  str("grpc.tls_cert", c.grpc_tls_cert);
  str("grpc.tls_key", c.grpc_tls_key);
  flag("grpc.insecure", c.grpc_insecure);
  flag("http.insecure", c.http_insecure);
  num("grpc.max_receive_bytes", c.grpc_max_receive_bytes);
  num("grpc.max_wait_ms", c.grpc_max_wait_ms);
  num("grpc.default_wait_ms", c.grpc_default_wait_ms);
  num("grpc.max_streams", c.grpc_max_streams);
  num("grpc.max_streams_per_client", c.grpc_max_streams_per_client);
  num("grpc.stream_write_timeout_ms", c.grpc_stream_write_timeout_ms);
  str("http.listen", c.http_listen);
  str("p2p.listen", c.p2p_listen);
  num("consensus.block_interval_ms", c.block_interval_ms);
  num("consensus.timeout_base_ms", c.timeout_base_ms);
  num("consensus.timeout_max_ms", c.timeout_max_ms);
  if (auto node = t.at_path("p2p.peers")) {
    const toml::array* arr = node.as_array();
    if (!arr) wrong = "p2p.peers";
    for (size_t i = 0; arr && i < arr->size(); ++i) {
      if (auto v = (*arr)[i].value<std::string>()) {
        c.p2p_peers.push_back(*v);
      } else {
        wrong = "p2p.peers";
      }
    }
  }
  num("consensus.max_block_txs", c.max_block_txs);
  num("consensus.max_block_gas", c.max_block_gas);
  num("mempool.max_txs", c.mempool_max_txs);
  num("mempool.max_bytes", c.mempool_max_bytes);
  num("mempool.max_per_sender", c.mempool_max_per_sender);
  num("storage.state_history", c.state_history);
  str("log.level", c.log_level);
  str("log.format", c.log_format);
  if (!wrong.empty()) return Bad("setting '" + wrong + "' has the wrong type");
  Status s = ValidateConfig(c);
  if (!s.ok()) return s;
  return c;
}

std::string ConfigToToml(const Config& c) {
  std::ostringstream o;
  o << "# Civitas node configuration. Flags of `civitasd start` override these values.\n"
    << "# Check it with `civitasd config validate --home DIR`.\n\n"
    << "# A name for this node in logs and status output.\n"
    << "moniker = " << Quoted(c.moniker) << "\n\n"
    << "[grpc]\n"
    << "# The public API (civitas.v1.Node, reflection, grpc.health.v1).\n"
    << "listen = " << Quoted(c.grpc_listen) << "\n"
    << "# TLS: PEM certificate chain and private key (absolute, or relative to this folder).\n"
    << "# Without them gRPC is plaintext, which is refused off loopback unless insecure = true.\n"
    << "tls_cert = " << Quoted(c.grpc_tls_cert) << "\n"
    << "tls_key = " << Quoted(c.grpc_tls_key) << "\n"
    << "insecure = " << (c.grpc_insecure ? "true" : "false") << "\n"
    << "# Largest request accepted, in bytes.\n"
    << "max_receive_bytes = " << c.grpc_max_receive_bytes << "\n"
    << "# Longest a SubmitTransaction may wait for its commit, and the wait when none is asked.\n"
    << "max_wait_ms = " << c.grpc_max_wait_ms << "\n"
    << "default_wait_ms = " << c.grpc_default_wait_ms << "\n"
    << "# StreamBlocks and StreamEvents: most open at once, in all and per client address\n"
    << "# (each holds one of the server's " << kGrpcThreads
    << " threads; at most half may), and how\n"
    << "# long a write to a client that does not read may take before the stream ends.\n"
    << "max_streams = " << c.grpc_max_streams << "\n"
    << "max_streams_per_client = " << c.grpc_max_streams_per_client << "\n"
    << "stream_write_timeout_ms = " << c.grpc_stream_write_timeout_ms << "\n\n"
    << "[http]\n"
    << "# Metrics, health and the explorer. No TLS: off loopback it is refused unless\n"
    << "# insecure = true (serve it through a TLS proxy instead).\n"
    << "listen = " << Quoted(c.http_listen) << "\n"
    << "insecure = " << (c.http_insecure ? "true" : "false") << "\n\n"
    << "[p2p]\n"
    << "# Validator-to-validator connections (authenticated with the validator key).\n"
    << "listen = " << Quoted(c.p2p_listen) << "\n"
    << "# Nodes to dial besides the genesis council, whose endpoints come from genesis.json:\n"
    << "# \"<public key hex>@host:port\" (a hostname or an IP address). An entry for a genesis\n"
    << "# member's key replaces that member's genesis endpoint. A council formed by the\n"
    << "# ceremony needs none (docs/COUNCIL.md).\n"
    << "peers = [";
  for (size_t i = 0; i < c.p2p_peers.size(); ++i) {
    o << (i ? "," : "") << "\n  " << Quoted(c.p2p_peers[i]);
  }
  o << (c.p2p_peers.empty() ? "" : "\n") << "]\n\n"
    << "[consensus]\n"
    << "# A leader proposes at once when transactions wait; an idle council makes an empty\n"
    << "# block once per heartbeat (genesis params.heartbeat_ms). The commit of an empty block\n"
    << "# is made durable within twice this many milliseconds.\n"
    << "block_interval_ms = " << c.block_interval_ms << "\n"
    << "# A round without progress times out after timeout_base_ms, doubling up to "
       "timeout_max_ms.\n"
    << "timeout_base_ms = " << c.timeout_base_ms << "\n"
    << "timeout_max_ms = " << c.timeout_max_ms << "\n"
    << "# Most transactions in one block (at most 10000).\n"
    << "max_block_txs = " << c.max_block_txs << "\n"
    << "# Most gas (the sum of the transactions' gas limits) in a block this node proposes; the\n"
    << "# chain's params.max_block_gas (genesis) bounds every block, this can only lower it.\n"
    << "max_block_gas = " << c.max_block_gas << "\n\n"
    << "[mempool]\n"
    << "# Caps on pending transactions: count, bytes, and per sender.\n"
    << "max_txs = " << c.mempool_max_txs << "\n"
    << "max_bytes = " << c.mempool_max_bytes << "\n"
    << "max_per_sender = " << c.mempool_max_per_sender << "\n\n"
    << "[storage]\n"
    << "# 0 keeps the state of every height (an archive node: proofs and DID resolution at any\n"
    << "# height). N >= " << kMinStateHistory
    << " keeps the last N heights' and deletes the older state-tree nodes.\n"
    << "state_history = " << c.state_history << "\n\n"
    << "[log]\n"
    << "# trace, debug, info, warn or error.\n"
    << "level = " << Quoted(c.log_level) << "\n"
    << "# plain or json (one object per line).\n"
    << "format = " << Quoted(c.log_format) << "\n";
  return o.str();
}

}  // namespace civitas::node
