#pragma once

// The node's HTTP port (Boost.Beast): Prometheus metrics at /metrics, liveness at /healthz,
// readiness at /readyz, the DID resolver at /1.0/identifiers/{did} (the DIF Universal Resolver
// path; optional ?versionId=N or ?versionTime=YYYY-MM-DDTHH:MM:SSZ), and the block explorer at
// /, /static/... and /api/... (node/explorer.h). Read-only; GET and HEAD only; requests over
// 8 KiB are refused.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/status.h"

namespace civitas::node {

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers{};  // extra response headers
};

// A DID resolution request, the path and query already decoded and checked.
struct DidRequest {
  std::string did;               // percent-decoded
  uint64_t version_id = 0;       // 0: not given
  uint64_t version_time_ms = 0;  // 0: not given
};

struct HttpHandlers {
  std::function<std::string()> metrics;  // Prometheus text exposition
  std::function<bool()> healthy;         // the node is running and has not failed
  // Empty while the node is healthy and can serve its part (docs/OPERATIONS.md, "Readiness"),
  // else why not, one line; /readyz answers it after "not ready: ".
  std::function<std::string()> not_ready;
  // Lines /readyz adds after its first, ready or not ("catching_up: false\npeers: 3\n").
  std::function<std::string()> readiness_details;
  std::function<HttpReply(const DidRequest&)> resolve_did;  // GET /1.0/identifiers/{did}
  // The explorer: called with the raw request target (path and query) of every request whose
  // path is "/" or starts with "/static/" or "/api/" (IsExplorerTarget).
  std::function<HttpReply(std::string_view target)> explorer;
};

// True when the path of `target` (before any '?') is one the explorer serves.
bool IsExplorerTarget(std::string_view target);

// Decodes %XX escapes ('+' stays '+'); nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view s);
// A decimal of 1 to 19 digits and nothing else.
std::optional<uint64_t> ParseU64(std::string_view s);

// Parses the target of a DID resolver request: "/1.0/identifiers/" + percent-encoded DID +
// optional "?versionId=N" or "?versionTime=" an RFC 3339 UTC time ("2024-05-01T12:00:00Z").
// nullopt when `target` is not under /1.0/identifiers/; an error (reason invalid_request) when
// the query is malformed.
std::optional<Result<DidRequest>> ParseDidTarget(std::string_view target);

class HttpServer {
 public:
  explicit HttpServer(HttpHandlers handlers);
  ~HttpServer();
  // Listens on `listen` ("host:port", port 0 picks one) and serves on one thread.
  Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace civitas::node
