#include "node/p2p/connection.h"

#include "node/log.h"
#include "node/p2p/tls.h"

#include <algorithm>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace civitas::p2p {

using node::Log;
using node::Module;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

std::string RemoteString(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

void Connection::Start() {
  error_code ec;
  stream_.next_layer().set_option(tcp::no_delay(true), ec);
  remote_ = RemoteString(stream_.next_layer());
  last_read_ = Clock::now();
  ArmTimer(host_->options().handshake_timeout);
  stream_.async_handshake(
      outbound_ ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
      [self = shared_from_this()](const error_code& e) { self->OnTlsHandshake(e); });
}

void Connection::OnTlsHandshake(const error_code& ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    Refuse("tls_failed", ec.message());
    return;
  }
  Result<SessionBinding> binding = ExportBinding(stream_.native_handle());
  if (!binding.ok()) {
    Refuse("tls_failed", binding.status().message());
    return;
  }
  binding_ = *binding;
  state_ = State::kHello;
  Hello hello;
  hello.chain_id = host_->options().chain_id;
  hello.key = host_->self().public_key();
  control_.push_back(std::make_shared<const Bytes>(Frame(EncodeHello(hello))));
  WriteNext();
  ReadHeader();
}

void Connection::ArmTimer(std::chrono::milliseconds after) {
  uint64_t gen = ++timer_gen_;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
    if (ec || gen != self->timer_gen_ || self->state_ == State::kClosed) return;
    self->OnTimer();
  });
}

void Connection::OnTimer() {
  const Options& o = host_->options();
  if (state_ != State::kOpen) {
    Refuse("handshake_timeout",
           "no handshake within " + std::to_string(o.handshake_timeout.count()) + " ms");
    return;
  }
  Clock::time_point now = Clock::now();
  if (now - last_read_ >= o.idle_timeout) {
    Close("idle_timeout");
    return;
  }
  if (writing_ && now - write_started_ >= o.write_timeout) {
    Close("write_stalled");
    return;
  }
  if (!writing_ && control_.empty() && now - last_write_ >= o.ping_interval) {
    control_.push_back(std::make_shared<const Bytes>(Frame(EncodePing())));
    WriteNext();
  }
  // Tick often enough to notice each of the three deadlines in time.
  ArmTimer(std::max(std::chrono::milliseconds(1),
                    std::min({o.ping_interval, o.idle_timeout, o.write_timeout}) / 2));
}

void Connection::ReadHeader() {
  asio::async_read(
      stream_, asio::buffer(header_), [self = shared_from_this()](const error_code& ec, size_t) {
        if (self->state_ == State::kClosed) return;
        if (ec) {
          self->Close(ec == asio::error::eof ? "eof" : "read_error");
          return;
        }
        uint32_t size = FrameLength(self->header_.data());
        size_t cap = self->state_ == State::kOpen ? self->host_->options().max_frame_bytes
                                                  : kMaxHandshakeFrameBytes;
        if (size == 0) {
          self->Refuse("malformed", "empty frame");
          return;
        }
        if (size > cap) {
          std::string detail =
              "frame of " + std::to_string(size) + " bytes over the cap of " + std::to_string(cap);
          if (self->state_ == State::kOpen) {
            Log(Module::kP2p)
                .warn("p2p: {} ({}): {}", ShortKey(*self->peer_key_), self->remote_, detail);
            self->Close("frame_too_large", /*penalize=*/true);
          } else {
            self->Refuse("frame_too_large", detail);
          }
          return;
        }
        self->ReadBody(size);
      });
}

void Connection::ReadBody(size_t size) {
  body_.resize(size);
  asio::async_read(stream_, asio::buffer(body_),
                   [self = shared_from_this()](const error_code& ec, size_t) {
                     if (self->state_ == State::kClosed) return;
                     if (ec) {
                       self->Close(ec == asio::error::eof ? "eof" : "read_error");
                       return;
                     }
                     self->last_read_ = Clock::now();
                     self->OnFrame();
                   });
}

void Connection::OnFrame() {
  Result<Message> msg = DecodeMessage(body_);
  if (!msg.ok()) {
    if (state_ == State::kOpen) {
      Log(Module::kP2p)
          .warn("p2p: {} ({}): {}", ShortKey(*peer_key_), remote_, msg.status().ToString());
      Close("malformed", /*penalize=*/true);
    } else {
      Refuse("malformed", msg.status().message());
    }
    return;
  }
  switch (state_) {
    case State::kHello:
      if (!std::holds_alternative<Hello>(*msg)) {
        Refuse("malformed", "expected HELLO");
        return;
      }
      OnHello(std::get<Hello>(*msg));
      break;
    case State::kAuth:
      if (!std::holds_alternative<Auth>(*msg)) {
        Refuse("malformed", "expected AUTH");
        return;
      }
      OnAuth(std::get<Auth>(*msg));
      break;
    case State::kOpen:
      if (auto* data = std::get_if<Data>(&*msg)) {
        host_->Deliver(*peer_key_, data->channel, std::move(data->payload));
      } else if (!std::holds_alternative<Ping>(*msg)) {
        Log(Module::kP2p)
            .warn("p2p: {} ({}): handshake message after the handshake", ShortKey(*peer_key_),
                  remote_);
        Close("malformed", /*penalize=*/true);
        return;
      }
      break;
    case State::kTls:
    case State::kClosed:
      return;
  }
  // A handler may have stopped the transport, closing this connection.
  if (state_ != State::kClosed) ReadHeader();
}

void Connection::OnHello(const Hello& hello) {
  const Options& o = host_->options();
  peer_key_ = hello.key;
  if (hello.version != kProtocolVersion) {
    Refuse("bad_version", "protocol version " + std::to_string(hello.version));
    return;
  }
  if (hello.chain_id != o.chain_id) {
    Refuse("wrong_chain", "peer is on chain '" + hello.chain_id + "'");
    return;
  }
  std::string refusal = host_->HelloRefusal(hello.key);
  if (!refusal.empty()) {
    Refuse(refusal, "key " + ShortKey(hello.key));
    return;
  }
  if (outbound_ && hello.key != *expected_) {
    Refuse("unexpected_key",
           "dialed " + ShortKey(*expected_) + ", answered by " + ShortKey(hello.key));
    return;
  }
  Auth auth;
  auth.signature = SignAuth(host_->self(), o.chain_id, hello.key, binding_);
  control_.push_back(std::make_shared<const Bytes>(Frame(EncodeAuth(auth))));
  state_ = State::kAuth;
  WriteNext();
}

void Connection::OnAuth(const Auth& auth) {
  if (!VerifyAuth(*peer_key_, host_->options().chain_id, host_->self().public_key(), binding_,
                  auth.signature)) {
    Refuse("bad_signature", "handshake signature of " + ShortKey(*peer_key_) + " does not verify");
    return;
  }
  state_ = State::kOpen;
  last_write_ = Clock::now();
  ArmTimer(std::chrono::milliseconds(0));  // switch the deadline to keepalive ticks
  host_->OnAuthenticated(shared_from_this());
  WriteNext();
}

void Connection::Refuse(const std::string& reason, const std::string& detail) {
  host_->LogRefusal(fmt::format("p2p: refused {} connection {} ({}): {}",
                                outbound_ ? "outbound" : "inbound", remote_, reason, detail));
  Close(reason);
}

void Connection::Close(const std::string& reason, bool penalize) {
  if (state_ == State::kClosed) return;
  bool was_open = state_ == State::kOpen;
  state_ = State::kClosed;
  ++timer_gen_;
  timer_.cancel();
  error_code ec;
  stream_.next_layer().shutdown(tcp::socket::shutdown_both, ec);
  stream_.next_layer().close(ec);
  if (was_open) {
    Log(Module::kP2p)
        .info("p2p: closed connection to {} ({}): {}", ShortKey(*peer_key_), remote_, reason);
  }
  host_->OnClosed(shared_from_this(), reason, was_open, penalize);
}

void Connection::WriteNext() {
  if (writing_ || state_ == State::kClosed) return;
  if (!control_.empty()) {
    inflight_ = std::move(control_.front());
    control_.pop_front();
  } else if (state_ == State::kOpen) {
    inflight_ = host_->PopFor(*peer_key_, this);
    if (!inflight_) return;
  } else {
    return;
  }
  writing_ = true;
  write_started_ = Clock::now();
  asio::async_write(stream_, asio::buffer(*inflight_),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      self->writing_ = false;
                      self->inflight_.reset();
                      if (self->state_ == State::kClosed) return;
                      if (ec) {
                        self->Close("write_error");
                        return;
                      }
                      self->last_write_ = Clock::now();
                      self->WriteNext();
                    });
}

}  // namespace civitas::p2p
