#include "node/export.h"

#include <nlohmann/json.hpp>

#include "ledger/block.h"
#include "ledger/tx.h"

namespace civitas::node {
namespace {

using nlohmann::ordered_json;

std::string Hex(const std::string& raw) { return ToHex(ToBytes(raw)); }

// Chain strings (a topic, a failure reason) are arbitrary bytes: invalid UTF-8 becomes U+FFFD
// instead of an exception from dump().
std::string Dump(const ordered_json& v) {
  return v.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// A CSV cell (RFC 4180): strings are quoted with inner quotes doubled; numbers are bare.
std::string Cell(const ordered_json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>(), q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return Dump(v);
}

}  // namespace

Status Export(const Store& store, const ExportOptions& o, std::ostream& out) {
  if (o.what != "blocks" && o.what != "txs" && o.what != "events") {
    return Status::Invalid("bad_request", "export what: blocks, txs or events");
  }
  if (o.format != "jsonl" && o.format != "csv") {
    return Status::Invalid("bad_request", "export format: jsonl or csv");
  }
  const uint64_t to = o.to == 0 ? store.height() : std::min(o.to, store.height());
  bool header_written = false;
  auto emit = [&](const ordered_json& rec) {
    if (o.format == "jsonl") {
      out << Dump(rec) << "\n";
      return;
    }
    if (!header_written) {
      std::string sep;
      for (const auto& [k, v] : rec.items()) out << std::exchange(sep, ",") << k;
      out << "\n";
      header_written = true;
    }
    std::string sep;
    for (const auto& [k, v] : rec.items()) out << std::exchange(sep, ",") << Cell(v);
    out << "\n";
  };
  for (uint64_t h = std::max<uint64_t>(o.from, 1); h <= to; ++h) {
    auto cb = store.GetBlock(h);
    if (!cb.ok()) return cb.status();
    const auto& hdr = cb->block().header();
    auto id = BlockId(hdr);
    if (!id.ok()) return id.status();
    if (o.what == "blocks") {
      emit(ordered_json{{"height", h},
                        {"block_id", ToHex(*id)},
                        {"parent_id", Hex(hdr.parent_id())},
                        {"time_ms", hdr.time_ms()},
                        {"proposer", Hex(hdr.proposer())},
                        {"tx_count", hdr.tx_count()},
                        {"tx_root", Hex(hdr.tx_root())},
                        {"state_height", hdr.state_height()},
                        {"state_root", Hex(hdr.state_root())},
                        {"commit_signers", cb->commit_qc().signers_size()}});
      continue;
    }
    for (int i = 0; i < cb->block().txs_size(); ++i) {
      const auto& env = cb->block().txs(i);
      auto receipt = store.GetReceipt({h, static_cast<uint32_t>(i)}, env);
      if (!receipt.ok()) return receipt.status();
      if (o.what == "txs") {
        v1::TxBody body;
        body.ParseFromString(env.body());
        auto pk = FixedFromBytes<32>(env.public_key());
        emit(ordered_json{
            {"height", h},
            {"index", i},
            {"tx_id", Hex(receipt->tx_id())},
            {"sender", pk ? ToHex(AddressOf(*pk)) : ""},
            {"nonce", body.nonce()},
            {"action", body.has_transfer() ? "transfer"
                       : body.has_deploy() ? "deploy"
                       : body.has_call()   ? "call"
                                           : "none"},
            {"status", receipt->status() == v1::TX_STATUS_SUCCESS ? "success" : "failed"},
            {"reason", receipt->reason()},
            {"gas_used", receipt->gas_used()},
            {"fee", receipt->fee()}});
        continue;
      }
      for (int e = 0; e < receipt->events_size(); ++e) {
        const auto& ev = receipt->events(e);
        emit(ordered_json{{"height", h},
                          {"tx_index", i},
                          {"event_index", e},
                          {"tx_id", Hex(receipt->tx_id())},
                          {"contract", Hex(ev.contract())},
                          {"topic", ev.topic()},
                          {"data", Hex(ev.data())}});
      }
    }
  }
  out.flush();
  if (!out) return Status::IOError("cannot write the export");
  return Status::Ok();
}

}  // namespace civitas::node
