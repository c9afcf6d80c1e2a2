#pragma once

// Test helpers that talk to an in-process node as a client would: a gRPC submit that keeps the
// `civitas-reason` trailer, and a plain HTTP GET.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "civitas/v1/node.grpc.pb.h"

namespace civitas::testing {

// The `civitas-reason` trailing metadata of a finished call ("" if none).
inline std::string ReasonOf(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find("civitas-reason");
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

struct SubmitOutcome {
  grpc::Status status;
  std::string reason;  // the civitas-reason trailer
  v1::SubmitTransactionResponse resp;
};

// SubmitTransaction, waiting up to 10 s for the commit when `wait`.
inline SubmitOutcome SubmitTx(v1::Node::Stub& stub, const v1::Transaction& tx, bool wait) {
  v1::SubmitTransactionRequest req;
  *req.mutable_tx() = tx;
  req.set_wait_for_commit(wait);
  req.set_wait_timeout_ms(10'000);
  grpc::ClientContext ctx;
  SubmitOutcome out;
  out.status = stub.SubmitTransaction(&ctx, req, &out.resp);
  out.reason = ReasonOf(ctx);
  return out;
}

// A TCP connection to 127.0.0.1:`port`; -1 if refused.
inline int DialLocal(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A plain HTTP/1.1 GET on 127.0.0.1:`port`; returns the whole response ("" if unreachable).
inline std::string HttpGet(int port, const std::string& path) {
  const int fd = DialLocal(port);
  if (fd < 0) return "";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// The value of an unlabelled metric in the node's /metrics on HTTP `port`; -1 if absent.
inline double MetricValue(int port, const std::string& name) {
  const std::string text = HttpGet(port, "/metrics");
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace civitas::testing
