#pragma once

// The node's HTTP port (Boost.Beast): Prometheus metrics at /metrics, liveness at /healthz,
// readiness at /readyz. Read-only; GET and HEAD only; requests over 8 KiB are refused.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ledger/status.h"

namespace civitas::node {

struct HttpHandlers {
  std::function<std::string()> metrics;  // Prometheus text exposition
  std::function<bool()> healthy;         // the node is running and has not failed
  std::function<bool()> ready;           // ... and can serve requests
};

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
