#pragma once

// The node's TOML configuration (docs/OPERATIONS.md, "Configuration"). `civitasd init` writes a
// commented file; command-line flags override single values.

#include <string>
#include <vector>

#include "ledger/params.h"
#include "ledger/status.h"

namespace civitas::node {

// The smallest non-zero storage.state_history: a block may certify a state some heights below
// the tip, which every validator must still be able to read.
inline constexpr uint64_t kMinStateHistory = 100;

// Threads of the gRPC server's pool (unary calls and streams alike). grpc.max_streams may take
// at most half of them, so unary calls are served while streams are at their cap.
inline constexpr int kGrpcThreads = 256;

struct Config {
  std::string moniker = "civitas-node";
  // Addresses.
  std::string grpc_listen = "127.0.0.1:26657";
  std::string http_listen = "127.0.0.1:26660";
  std::string p2p_listen = "127.0.0.1:26656";
  // The other validators to dial: "<public key hex>@host:port".
  std::vector<std::string> p2p_peers;
  // gRPC TLS: PEM files of the server's certificate chain and private key (absolute, or
  // relative to HOME/config). Both or neither; neither serves plaintext.
  std::string grpc_tls_cert;
  std::string grpc_tls_key;
  // Serving gRPC without TLS, or HTTP at all (it has no TLS: put a TLS proxy in front), on an
  // address other than loopback is refused unless the operator says so here.
  bool grpc_insecure = false;
  bool http_insecure = false;
  // gRPC limits.
  size_t grpc_max_receive_bytes = 1 << 20;
  uint32_t grpc_max_wait_ms = 30'000;  // longest wait_for_commit a client may ask
  uint32_t grpc_default_wait_ms = 10'000;
  // Server streams (StreamBlocks, StreamEvents) hold a thread of the gRPC pool each
  // (kGrpcThreads): at most this many at once, in all and per client address, and a stream
  // whose write does not complete within the timeout (a client that does not read) ends.
  size_t grpc_max_streams = 64;
  size_t grpc_max_streams_per_client = 8;
  uint32_t grpc_stream_write_timeout_ms = 10'000;
  // Consensus. A leader proposes at once when transactions wait, else an empty block once the
  // chain's heartbeat (genesis params.heartbeat_ms) has passed since the last block; the
  // commit of an empty block is acknowledged within 2 x block_interval_ms (it waits for the
  // next synced write). A round without progress times out after timeout_base_ms, doubling up
  // to timeout_max_ms, plus the heartbeat while no transaction is pending (docs/CONSENSUS.md).
  uint32_t block_interval_ms = 500;
  uint32_t timeout_base_ms = 1000;
  uint32_t timeout_max_ms = 30'000;
  size_t max_block_txs = 5000;
  // What a proposer puts in one block is also bounded by the sum of the transactions' gas
  // limits, so that executing it takes bounded time. The chain's max_block_gas (genesis params)
  // bounds every block by consensus; this local setting can only lower it for this node's own
  // proposals (a higher value acts as the chain's).
  uint64_t max_block_gas = kDefaultMaxBlockGas;
  // Mempool caps.
  size_t mempool_max_txs = 50'000;
  size_t mempool_max_bytes = 64 << 20;
  size_t mempool_max_per_sender = 1000;
  // Pruning: the state of this many heights below the tip stays readable (proofs, DID
  // resolution at a height); older states are deleted. 0 keeps every height's (archive).
  uint64_t state_history = 0;
  // Logging.
  std::string log_level = "info";    // trace, debug, info, warn, error
  std::string log_format = "plain";  // plain or json

  // Paths inside the home directory.
  std::string home;
  std::string GenesisPath() const { return home + "/config/genesis.json"; }
  std::string ValidatorKeyPath() const { return home + "/config/validator_key.json"; }
  std::string DataPath() const { return home + "/data"; }
  std::string ConfigPath() const { return home + "/config/config.toml"; }
  // A path from the config: absolute as written, else relative to HOME/config.
  std::string ConfigRelative(const std::string& path) const {
    return path.empty() || path[0] == '/' ? path : home + "/config/" + path;
  }
};

// True if the host of "host:port" is a loopback address (127.0.0.0/8, ::1, localhost). Any
// other host, 0.0.0.0 included, may be reached from outside the machine.
bool IsLoopbackListen(const std::string& host_port);

// Reads HOME/config/config.toml. Unknown keys and values of the wrong type are errors.
Result<Config> LoadConfig(const std::string& home);
// The same checks on TOML text; `source` names it in errors.
Result<Config> ParseConfig(std::string_view toml_text, const std::string& home,
                           const std::string& source);
// The commented TOML text of `c`.
std::string ConfigToToml(const Config& c);
// Checks values for sense (ranges, address syntax: http.listen and p2p.listen must name an IP
// address, as `start` binds them unresolved). Reason: bad_config.
Status ValidateConfig(const Config& c);

}  // namespace civitas::node
