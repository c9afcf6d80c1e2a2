#include "node/stream_limits.h"

#include <spdlog/spdlog.h>

namespace civitas::node {

StreamLimiter::StreamLimiter(Limits limits) : limits_(limits) {
  watchdog_ = std::thread([this] { Watch(); });
}

StreamLimiter::~StreamLimiter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
}

std::string StreamLimiter::ClientOf(const std::string& peer) {
  if (!peer.starts_with("ipv4:") && !peer.starts_with("ipv6:")) return peer;
  const size_t colon = peer.rfind(':');
  return colon > 4 ? peer.substr(0, colon) : peer;
}

Result<std::unique_ptr<StreamLimiter::Slot>> StreamLimiter::Open(grpc::ServerContext* ctx) {
  std::string client = ClientOf(ctx->peer());
  std::lock_guard lock(mu_);
  auto refuse = [&](const std::string& msg) {
    refused_.fetch_add(1);
    return Status::Error(Status::Code::kResourceExhausted, "too_many_streams", msg);
  };
  if (slots_.size() >= limits_.max_streams) {
    return refuse("the node serves at most " + std::to_string(limits_.max_streams) +
                  " streams at once (grpc.max_streams); retry later");
  }
  size_t& mine = per_client_[client];
  if (mine >= limits_.max_streams_per_client) {
    return refuse("at most " + std::to_string(limits_.max_streams_per_client) +
                  " streams at once per client address (grpc.max_streams_per_client); close one "
                  "first");
  }
  ++mine;
  std::unique_ptr<Slot> slot(new Slot(*this, ctx, std::move(client)));
  slots_.emplace(slot.get(), true);
  return slot;
}

StreamLimiter::Slot::~Slot() { limiter_.Close(this); }

void StreamLimiter::Close(Slot* slot) {
  std::lock_guard lock(mu_);
  slots_.erase(slot);
  auto it = per_client_.find(slot->client_);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

void StreamLimiter::Slot::BeginWrite() {
  std::lock_guard lock(limiter_.mu_);
  write_started_ = std::chrono::steady_clock::now();
  writing_ = true;
}

void StreamLimiter::Slot::EndWrite() {
  std::lock_guard lock(limiter_.mu_);
  writing_ = false;
}

size_t StreamLimiter::open_streams() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

void StreamLimiter::Watch() {
  const auto timeout = std::chrono::milliseconds(limits_.write_timeout_ms);
  // Checked a few times per timeout, so a write is cancelled at most a quarter late.
  const auto step = std::max(std::chrono::milliseconds(10), timeout / 4);
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, step, [this] { return stopping_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [slot, unused] : slots_) {
      if (!slot->writing_ || slot->timed_out_ || now - slot->write_started_ < timeout) continue;
      // The slot cannot close meanwhile (Close takes mu_), so the call is still alive.
      slot->timed_out_ = true;
      timed_out_.fetch_add(1);
      spdlog::info("gRPC stream of {} cancelled: a write did not complete within {} ms",
                   slot->client_, limits_.write_timeout_ms);
      slot->ctx_->TryCancel();
    }
  }
}

}  // namespace civitas::node
