#include "node/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>

#include "ledger/quote.h"

namespace civitas::node {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kDidPath = "/1.0/identifiers/";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "YYYY-MM-DDTHH:MM:SSZ" (optionally with fractional seconds, ignored) as Unix milliseconds.
std::optional<uint64_t> ParseRfc3339Utc(std::string_view s) {
  if (s.size() < 20 || s.back() != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) { return ParseU64(s.substr(pos, len)); };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       sec = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *y < 1970 || *mo < 1 || *mo > 12 || *d < 1 ||
      *d > 31 || *h > 23 || *mi > 59 || *sec > 60) {
    return std::nullopt;
  }
  if (s.size() > 20 && s[19] != '.') return std::nullopt;
  // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
  const int64_t yy = static_cast<int64_t>(*y) - (*mo <= 2);
  const int64_t era = yy / 400;
  const int64_t yoe = yy - era * 400;
  const int64_t m = static_cast<int64_t>(*mo);
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<int64_t>(*d) - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  const int64_t secs = days * 86400 + static_cast<int64_t>(*h * 3600 + *mi * 60 + *sec);
  return static_cast<uint64_t>(secs) * 1000;
}

}  // namespace

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool IsExplorerTarget(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/" || path.starts_with("/static/") || path.starts_with("/api/");
}

std::optional<Result<DidRequest>> ParseDidTarget(std::string_view target) {
  if (target.substr(0, kDidPath.size()) != kDidPath) return std::nullopt;
  target.remove_prefix(kDidPath.size());
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  DidRequest req;
  auto did = PercentDecode(target);
  if (!did) return Result<DidRequest>(Status::Invalid("invalid_request", "bad percent-encoding"));
  req.did = std::move(*did);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : param.substr(eq + 1));
    if (!value) {
      return Result<DidRequest>(Status::Invalid("invalid_request", "bad percent-encoding"));
    }
    if (name == "versionId") {
      auto v = ParseU64(*value);
      if (!v || *v == 0) {
        return Result<DidRequest>(
            Status::Invalid("invalid_request", "versionId must be a positive integer"));
      }
      req.version_id = *v;
    } else if (name == "versionTime") {
      auto t = ParseRfc3339Utc(*value);
      if (!t) {
        return Result<DidRequest>(
            Status::Invalid("invalid_request",
                            "versionTime must be an RFC 3339 UTC time like 2024-05-01T12:00:00Z"));
      }
      req.version_time_ms = *t;
    } else {
      return Result<DidRequest>(
          Status::Invalid("invalid_request", "unknown parameter " + QuoteInput(name)));
    }
  }
  if (req.version_id != 0 && req.version_time_ms != 0) {
    return Result<DidRequest>(
        Status::Invalid("invalid_request", "give versionId or versionTime, not both"));
  }
  return Result<DidRequest>(std::move(req));
}

struct HttpServer::Impl {
  HttpHandlers handlers;
  // Connections being served (declared before `io`, whose pending handlers update it when
  // destroyed), and the most served at once.
  size_t connections = 0;
  static constexpr size_t kMaxConnections = 256;
  std::deque<std::weak_ptr<beast::tcp_stream>> streams;  // in accept order
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::thread thread;

  http::response<http::string_body> Handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    res.set(http::field::server, "civitasd");
    auto reply = [&](http::status status, std::string type, std::string body) {
      res.result(status);
      res.set(http::field::content_type, type);
      res.body() = std::move(body);
    };
    std::string target(req.target());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      reply(http::status::method_not_allowed, "text/plain", "only GET and HEAD\n");
    } else if (target == "/metrics") {
      reply(http::status::ok, "text/plain; version=0.0.4", handlers.metrics());
    } else if (target == "/healthz") {
      bool ok = handlers.healthy();
      reply(ok ? http::status::ok : http::status::service_unavailable, "text/plain",
            ok ? "ok\n" : "failed\n");
    } else if (target == "/readyz") {
      const std::string why = handlers.not_ready();
      reply(why.empty() ? http::status::ok : http::status::service_unavailable, "text/plain",
            why.empty() ? "ready\n" : "not ready: " + why + "\n");
    } else if (auto did = ParseDidTarget(target); did && handlers.resolve_did) {
      if (!did->ok()) {
        reply(http::status::bad_request, "text/plain", did->status().message() + "\n");
      } else {
        HttpReply r = handlers.resolve_did(**did);
        reply(static_cast<http::status>(r.status), std::move(r.content_type), std::move(r.body));
      }
    } else if (handlers.explorer && IsExplorerTarget(target)) {
      HttpReply r = handlers.explorer(target);
      for (auto& [name, value] : r.headers) res.set(name, value);
      reply(static_cast<http::status>(r.status), std::move(r.content_type), std::move(r.body));
    } else {
      reply(http::status::not_found, "text/plain", "not found\n");
    }
    res.prepare_payload();
    return res;
  }

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // E.g. out of file descriptors: the pending connection stays queued and every retry
        // would fail at once, so wait a little instead of spinning.
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) Accept();
        });
        return;
      }
      // Each open connection holds a descriptor until its 10 s deadline. At the cap the oldest
      // is closed to make room: idle or slow clients can neither use up the process's
      // descriptors (which RocksDB, gRPC and P2P need too) nor lock out a scraper or a health
      // check, whose requests take milliseconds.
      while (connections >= kMaxConnections && !streams.empty()) {
        auto oldest = streams.front().lock();
        streams.pop_front();
        if (oldest) {
          beast::error_code ignored;
          oldest->socket().close(ignored);
          break;
        }
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      if (streams.size() > 2 * kMaxConnections) {
        std::erase_if(streams, [](const auto& w) { return w.expired(); });
      }
      streams.push_back(stream);
      Serve(std::move(stream));
      Accept();
    });
  }

  void Serve(std::shared_ptr<beast::tcp_stream> stream) {
    // Counts the connection until the last handler holding it is gone (all on the io thread).
    ++connections;
    auto counted = std::shared_ptr<void>(nullptr, [this](void*) { --connections; });
    auto buffer = std::make_shared<beast::flat_buffer>(8192);
    auto parser = std::make_shared<http::request_parser<http::string_body>>();
    parser->header_limit(8192);
    parser->body_limit(0);
    stream->expires_after(std::chrono::seconds(10));
    http::async_read(
        *stream, *buffer, *parser,
        [this, stream, buffer, parser, counted](beast::error_code ec, size_t) {
          if (ec) return;
          auto res = std::make_shared<http::response<http::string_body>>(Handle(parser->get()));
          http::async_write(*stream, *res, [stream, res, counted](beast::error_code, size_t) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
          });
        });
  }
};

HttpServer::HttpServer(HttpHandlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {  // [IPv6]:port
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec)
    return Status::Invalid("bad_config", "http listen address '" + listen + "' is not an IP:port");
  tcp::endpoint endpoint(address, static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen for HTTP on " + listen + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace civitas::node
