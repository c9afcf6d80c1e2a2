#include "node/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace civitas::node {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  HttpHandlers handlers;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
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
      bool ok = handlers.ready();
      reply(ok ? http::status::ok : http::status::service_unavailable, "text/plain",
            ok ? "ready\n" : "not ready\n");
    } else {
      reply(http::status::not_found, "text/plain", "not found\n");
    }
    res.prepare_payload();
    return res;
  }

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) Accept();
        return;
      }
      Serve(std::make_shared<beast::tcp_stream>(std::move(socket)));
      Accept();
    });
  }

  void Serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto buffer = std::make_shared<beast::flat_buffer>(8192);
    auto parser = std::make_shared<http::request_parser<http::string_body>>();
    parser->header_limit(8192);
    parser->body_limit(0);
    stream->expires_after(std::chrono::seconds(10));
    http::async_read(
        *stream, *buffer, *parser, [this, stream, buffer, parser](beast::error_code ec, size_t) {
          if (ec) return;
          auto res = std::make_shared<http::response<http::string_body>>(Handle(parser->get()));
          http::async_write(*stream, *res, [stream, res](beast::error_code, size_t) {
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
  beast::error_code ec;
  auto address = asio::ip::make_address(listen.substr(0, colon), ec);
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
