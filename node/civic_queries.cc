#include "node/civic_queries.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "genesis/nation_state.h"
#include "ledger/address.h"
#include "ledger/bytes.h"
#include "ledger/did.h"

namespace civitas::node {
using nation::DumpJson;

Result<std::optional<std::string>> StateAt::Get(std::string_view key) const {
  auto proven = store_.GetProven(key, height_);
  if (!proven.ok()) return proven.status();
  return std::move(proven->value);
}

Result<uint64_t> HeightAtTime(const Store& store, uint64_t time_ms) {
  // Invariant: every block in [1, lo] has time <= time_ms; every block above hi has more.
  uint64_t lo = 0, hi = store.height();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    auto block = store.GetBlock(mid);
    if (!block.ok()) return block.status();
    if (block->block().header().time_ms() <= time_ms) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

Result<DidAnswer> ResolveDidAt(const Store& store, std::string_view did, const DidQuery& query) {
  const int options =
      (query.at_height != 0) + (query.version_id != 0) + (query.version_time_ms != 0);
  if (options > 1) {
    return Status::Invalid("invalid_request",
                           "give at most one of at_height, version_id and version_time");
  }
  const uint64_t tip = store.height();
  DidAnswer out;
  out.height = tip;
  if (query.at_height > tip) {
    return Status::Error(
        Status::Code::kInvalidArgument, "out_of_range",
        "height " + std::to_string(query.at_height) + " is above the tip " + std::to_string(tip));
  }
  if (query.at_height != 0) out.height = query.at_height;
  if (query.version_time_ms != 0) {
    auto h = HeightAtTime(store, query.version_time_ms);
    if (!h.ok()) return h.status();
    out.height = *h;
  }
  auto id = ParseDid(did);
  if (id && query.version_id != 0) {
    // Version heights are recorded once and never change: read them at the tip.
    auto h = nation::DidVersionHeight(StateAt(store, tip), *id, query.version_id);
    if (!h.ok()) return h.status();
    if (!h->has_value()) {
      nlohmann::json r = {{"@context", "https://w3id.org/did-resolution/v1"},
                          {"didDocument", nullptr},
                          {"didDocumentMetadata", nlohmann::json::object()},
                          {"didResolutionMetadata", {{"error", "notFound"}}}};
      out.result_json = DumpJson(r);
      out.error = "notFound";
      return out;
    }
    out.height = **h;
  }
  auto block_time = [&store](uint64_t height) -> Result<uint64_t> {
    auto block = store.GetBlock(height);  // no DID is registered at genesis (height 0)
    if (!block.ok()) return block.status();
    return block->block().header().time_ms();
  };
  return nation::DidAnswerAt(StateAt(store, out.height), out.height, did, block_time);
}

HttpReply ResolveDidOverHttp(const Store& store, const DidRequest& request) {
  constexpr const char* kType = "application/ld+json;profile=\"https://w3id.org/did-resolution\"";
  DidQuery query;
  query.version_id = request.version_id;
  query.version_time_ms = request.version_time_ms;
  auto answer = ResolveDidAt(store, request.did, query);
  if (!answer.ok()) {
    const bool bad_request = answer.status().code() == Status::Code::kInvalidArgument;
    return {bad_request ? 400 : 500, "text/plain", answer.status().message() + "\n", {}};
  }
  int status = 200;
  if (answer->error == "invalidDid") status = 400;
  if (answer->error == "notFound") status = 404;
  if (answer->error.empty() && answer->deactivated) status = 410;
  return {status, kType, answer->result_json, {}};
}

}  // namespace civitas::node

namespace civitas::node {

Result<TreasuryMovements> ScanTreasuryMovements(const Store& store, uint64_t from, uint64_t to,
                                                uint64_t max_blocks) {
  from = std::max<uint64_t>(from, 1);
  to = std::min(to, store.height());
  TreasuryMovements out;
  out.scanned_to = from > to ? to : std::min(to, from + std::max<uint64_t>(max_blocks, 1) - 1);
  const std::string treasury(AsStringView(TreasuryAddress()));
  // Any contract may emit any topic with any data, and its events carry its own address. So a
  // movement is believed only from those who cannot lie about it: a `transfer` event without a
  // contract is the ledger's own (a native transfer); one from a system contract at its fixed
  // address, moving that contract's own tokens, is the host's record of the contract's
  // `transfer`; `treasury.spent` counts only from the treasury. Tokens a user contract sends to
  // the treasury are therefore not listed (they cannot be told from a forgery by events alone).
  const std::string governance(AsStringView(SystemAddress("governance")));
  const std::string citizenship(AsStringView(SystemAddress("citizenship")));
  const std::string did_registry(AsStringView(SystemAddress("did_registry")));
  auto genuine_transfer = [&](const v1::Event& e, const std::string& src) {
    if (e.contract().empty()) return true;
    if (e.contract() != src) return false;
    return src == treasury || src == governance || src == citizenship || src == did_registry;
  };
  for (uint64_t h = from; h <= out.scanned_to; ++h) {
    auto block = store.GetBlock(h);
    if (!block.ok()) return block.status();
    uint64_t fees = 0;
    for (uint32_t i = 0; i < static_cast<uint32_t>(block->block().txs_size()); ++i) {
      auto r = store.GetReceipt({h, i}, block->block().txs(static_cast<int>(i)));
      if (!r.ok()) return r.status();
      fees += r->fee();
      // A decision's payment: transfer (treasury -> payee) and treasury.spent (payee ++
      // n(amount) ++ n(proposal)) in the same receipt.
      std::map<std::pair<std::string, uint64_t>, uint64_t> spent;
      for (const auto& e : r->events()) {
        if (e.topic() != "treasury.spent" || e.contract() != treasury || e.data().size() != 36) {
          continue;
        }
        const auto* d = reinterpret_cast<const uint8_t*>(e.data().data());
        spent[{e.data().substr(0, 20), GetU64(d + 20)}] = GetU64(d + 28);
      }
      for (const auto& e : r->events()) {
        if (e.topic() != "transfer" || e.data().size() != 48) continue;
        std::string src = e.data().substr(0, 20), dst = e.data().substr(20, 20);
        if (src != treasury && dst != treasury) continue;
        if (!genuine_transfer(e, src)) continue;
        TreasuryMovement m;
        m.height = h;
        m.tx_id = r->tx_id();
        m.amount = GetU64(reinterpret_cast<const uint8_t*>(e.data().data()) + 40);
        if (dst == treasury) {
          m.kind = "in";
          m.counterparty = std::move(src);
        } else {
          m.kind = "out";
          auto it = spent.find({dst, m.amount});
          if (it != spent.end()) m.proposal_id = it->second;
          m.counterparty = std::move(dst);
        }
        out.movements.push_back(std::move(m));
      }
    }
    if (fees > 0) out.movements.push_back({h, "fees", "", "", fees, 0});
  }
  return out;
}

}  // namespace civitas::node
