#include "node/grpc_service.h"

#include "genesis/nation_answers.h"
#include "genesis/nation_state.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "ledger/base58.h"
#include "ledger/certified.h"
#include "ledger/did.h"
#include "ledger/quote.h"
#include "node/block_stream.h"
#include "node/build_info.h"
#include "node/certified_answer.h"
#include "node/civic_queries.h"
#include "node/node.h"

namespace civitas::node {
namespace {

grpc::StatusCode CodeOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return grpc::StatusCode::OK;
    case Status::Code::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Status::Code::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Status::Code::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Status::Code::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Status::Code::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Status::Code::kCorruption:
      return grpc::StatusCode::DATA_LOSS;
    case Status::Code::kIOError:
      return grpc::StatusCode::UNAVAILABLE;
    case Status::Code::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

// The status message travels in trailing metadata, which default clients cap at 8 KiB. Input is
// quoted through QuoteInput (ledger/quote.h); this bounds whatever else a message holds.
constexpr size_t kMaxErrorMessageBytes = 1024;

// An error as gRPC's richer error model carries it (docs/OPERATIONS.md, "gRPC API"): the code
// and message, and the serialized google.rpc.Status{code, message, details: [ErrorInfo{reason,
// domain kErrorDomain}]} as the error details (the `grpc-status-details-bin` trailer); the
// `civitas-reason` trailer carries the reason too, for clients written before.
grpc::Status WithErrorInfo(grpc::ServerContext* ctx, grpc::StatusCode code,
                           const std::string& reason, const std::string& message) {
  ctx->AddTrailingMetadata("civitas-reason", reason);
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain(std::string(kErrorDomain));
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(code));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  return grpc::Status(code, message, details.SerializeAsString());
}

grpc::Status ToGrpc(grpc::ServerContext* ctx, const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const std::string reason = s.reason().substr(0, kMaxQuotedBytes);
  if (s.message().size() <= kMaxErrorMessageBytes) {
    return WithErrorInfo(ctx, CodeOf(s), reason, s.message());
  }
  return WithErrorInfo(ctx, CodeOf(s), reason,
                       s.message().substr(0, kMaxErrorMessageBytes) + "... (" +
                           std::to_string(s.message().size()) + " bytes)");
}

grpc::Status Invalid(grpc::ServerContext* ctx, const std::string& reason, const std::string& msg) {
  return ToGrpc(ctx, Status::Invalid(reason, msg));
}

std::string Str(const Hash32& h) { return std::string(AsStringView(h)); }

}  // namespace

NodeService::NodeService(Node& node)
    : node_(node),
      streams_({node.config().grpc_max_streams, node.config().grpc_max_streams_per_client,
                node.config().grpc_stream_write_timeout_ms}) {}

grpc::Status NodeService::SubmitTransaction(grpc::ServerContext* ctx,
                                            const v1::SubmitTransactionRequest* req,
                                            v1::SubmitTransactionResponse* resp) {
  auto id = node_.Submit(req->tx());
  if (!id.ok()) return ToGrpc(ctx, id.status());
  resp->set_tx_id(Str(*id));
  if (!req->wait_for_commit()) return grpc::Status::OK;
  const auto& cfg = node_.config();
  uint32_t wait = req->wait_timeout_ms() ? req->wait_timeout_ms() : cfg.grpc_default_wait_ms;
  wait = std::min(wait, cfg.grpc_max_wait_ms);
  if (node_.WaitForCommit(*id, wait)) {
    auto loc = node_.store().GetTxLocation(*id);
    if (!loc.ok()) return ToGrpc(ctx, loc.status());
    auto receipt = node_.store().GetReceipt(*loc, *id);
    if (!receipt.ok()) return ToGrpc(ctx, receipt.status());
    resp->set_committed(true);
    *resp->mutable_receipt() = std::move(*receipt);
  }
  return grpc::Status::OK;
}

grpc::Status NodeService::SubmitTransactions(grpc::ServerContext* ctx,
                                             const v1::SubmitTransactionsRequest* req,
                                             v1::SubmitTransactionsResponse* resp) {
  constexpr int kMaxBatch = 1000;
  if (req->txs_size() > kMaxBatch) {
    return Invalid(ctx, "too_many", "at most " + std::to_string(kMaxBatch) + " transactions");
  }
  for (const auto& r : node_.SubmitMany(req->txs())) {
    auto* out = resp->add_results();
    out->set_admitted(r.ok());
    if (r.ok()) {
      out->set_tx_id(Str(*r));
    } else {
      out->set_reason(r.status().reason());
      out->set_message(r.status().message());
    }
  }
  return grpc::Status::OK;
}

grpc::Status NodeService::GetTransaction(grpc::ServerContext* ctx,
                                         const v1::GetTransactionRequest* req,
                                         v1::GetTransactionResponse* resp) {
  auto id = FixedFromBytes<32>(req->tx_id());
  if (!id) return Invalid(ctx, "malformed_request", "tx_id must be 32 bytes");
  auto loc = node_.store().GetTxLocation(*id);
  if (!loc.ok()) return ToGrpc(ctx, loc.status());
  auto block = node_.store().GetBlock(loc->height);
  if (!block.ok()) return ToGrpc(ctx, block.status());
  if (static_cast<int>(loc->index) >= block->block().txs_size()) {
    return ToGrpc(ctx, Status::Corruption("transaction index outside its block"));
  }
  *resp->mutable_tx() = block->block().txs(static_cast<int>(loc->index));
  auto receipt = node_.store().GetReceipt(*loc, *id);
  if (!receipt.ok()) return ToGrpc(ctx, receipt.status());
  *resp->mutable_receipt() = std::move(*receipt);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetBlock(grpc::ServerContext* ctx, const v1::GetBlockRequest* req,
                                   v1::GetBlockResponse* resp) {
  uint64_t height = 0;
  if (req->by_case() == v1::GetBlockRequest::kId) {
    auto id = FixedFromBytes<32>(req->id());
    if (!id) return Invalid(ctx, "malformed_request", "id must be 32 bytes");
    auto h = node_.store().GetBlockHeight(*id);
    if (!h.ok()) return ToGrpc(ctx, h.status());
    height = *h;
  } else if (req->by_case() == v1::GetBlockRequest::kHeight) {
    // Height 0 is the genesis state (docs/PROTOCOL.md): there is no block to answer.
    if (req->height() == 0) {
      return ToGrpc(ctx, Status::NotFound("height 0 is the genesis state, which has no block: "
                                          "blocks start at height 1"));
    }
    height = req->height();
  } else {
    height = node_.store().height();  // neither height nor id: the latest block
  }
  auto block = node_.store().GetBlock(height);
  if (!block.ok()) return ToGrpc(ctx, block.status());
  auto id = BlockId(block->block().header());
  if (!id.ok()) return ToGrpc(ctx, id.status());
  resp->set_block_id(Str(*id));
  *resp->mutable_block() = std::move(*block);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                                     v1::GetAccountResponse* resp) {
  auto addr = AddressFromBytes(req->address());
  if (!addr) return Invalid(ctx, "malformed_request", "address must be 20 bytes");
  const Store& store = node_.store();
  resp->mutable_account()->set_address(req->address());
  AccountState acct;
  if (req->prove()) {
    // The latest root that a committed header certifies.
    auto cb = LatestCertifyingBlock(store);
    if (!cb.ok()) return ToGrpc(ctx, cb.status());
    const uint64_t height = cb->height;
    auto proven = store.GetProven(AccountKey(*addr), height);
    if (!proven.ok()) return ToGrpc(ctx, proven.status());
    if (proven->value) {
      auto decoded = DecodeAccount(*proven->value);
      if (!decoded.ok()) return ToGrpc(ctx, decoded.status());
      acct = *decoded;
    }
    for (auto& c : cb->epoch_changes) *resp->add_epoch_changes() = std::move(c);
    resp->set_height(height);
    *resp->mutable_proof() = ProofToProto(proven->proof);
    *resp->mutable_certifying_block() = std::move(cb->block);
  } else {
    uint64_t height = store.height();
    StateOverlay view(store);
    auto current = view.GetAccount(*addr);
    if (!current.ok()) return ToGrpc(ctx, current.status());
    acct = *current;
    resp->set_height(height);
  }
  resp->mutable_account()->set_balance(acct.balance);
  resp->mutable_account()->set_nonce(acct.nonce);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest*,
                                    v1::GetStatusResponse* resp) {
  const Store& store = node_.store();
  uint64_t height = store.height();
  resp->set_chain_id(node_.genesis().chain_id);
  resp->set_height(height);
  resp->set_mempool_size(node_.mempool_size());
  const Epoch epoch = store.CurrentEpoch();
  resp->set_epoch(epoch.number);
  resp->set_epoch_start_height(epoch.start_height);
  for (const auto& k : epoch.validators.keys()) resp->add_validators(Str(k));
  resp->set_version(std::string(BuildVersion()));
  resp->set_commit(std::string(BuildCommit()));
  const Node::Sync sync = node_.SyncState();
  resp->set_catching_up(sync.catching_up);
  resp->set_peers(static_cast<uint32_t>(sync.peers));
  if (height > 0) {
    auto block = store.GetBlock(height);
    if (!block.ok()) return ToGrpc(ctx, block.status());
    const auto& h = block->block().header();
    auto id = BlockId(h);
    if (!id.ok()) return ToGrpc(ctx, id.status());
    resp->set_latest_block_id(Str(*id));
    resp->set_state_height(h.state_height());
    resp->set_state_root(h.state_root());
  }
  return grpc::Status::OK;
}

}  // namespace civitas::node

// ---- Blocks: list and stream. ------------------------------------------------------------------

namespace civitas::node {
namespace {

constexpr uint32_t kDefaultBlockPage = 20, kMaxBlockPage = 100;
constexpr uint32_t kDefaultCitizenPage = 50, kMaxCitizenPage = 500;
constexpr uint32_t kDefaultProposalPage = 20, kMaxProposalPage = 100;
// A page of blocks stays under this (gRPC clients accept 4 MiB by default), unless it holds a
// single block.
constexpr size_t kMaxPageBytes = kStreamMessageBytes;

// Page tokens are the decimal position to continue from; opaque to clients.
Result<uint64_t> ParseToken(const std::string& token, uint64_t if_empty) {
  if (token.empty()) return if_empty;
  uint64_t v = 0;
  if (token.size() > 19) return Status::Invalid("bad_page_token", "page_token is not ours");
  for (char c : token) {
    if (c < '0' || c > '9') return Status::Invalid("bad_page_token", "page_token is not ours");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// How long a stream waits on the node's commit notification before it looks again whether the
// client cancelled (gRPC's synchronous API has no cancellation callback).
constexpr uint32_t kStreamWaitStepMs = 200;

// Waits until block `height` is committed: false when the client cancelled or the node is
// stopping first (checked also for a block already committed, so a stream replaying a long
// history ends promptly).
bool AwaitBlock(Node& node, grpc::ServerContext* ctx, uint64_t height) {
  while (!node.WaitForHeight(height, kStreamWaitStepMs)) {
    if (ctx->IsCancelled() || node.stopping()) return false;
  }
  return !ctx->IsCancelled() && !node.stopping();
}

grpc::Status StreamEnded() { return grpc::Status(grpc::StatusCode::CANCELLED, "stream ended"); }

// Writes one message of a stream under its slot's write deadline. The status to end the stream
// with when the write failed (the client went away, or did not read in time).
template <typename Msg>
std::optional<grpc::Status> WriteTimed(StreamLimiter::Slot& slot, grpc::ServerWriter<Msg>* writer,
                                       const Msg& msg) {
  slot.BeginWrite();
  const bool ok = writer->Write(msg);
  slot.EndWrite();
  if (ok) return std::nullopt;
  if (slot.timed_out()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the client did not read the stream in time");
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
}

uint32_t PageSize(uint32_t asked, uint32_t def, uint32_t cap) {
  return asked == 0 ? def : std::min(asked, cap);
}

// The height a nation query reads: the tip, or `at_height` (OUT_OF_RANGE above the tip).
Result<uint64_t> QueryHeight(const Store& store, uint64_t at_height) {
  const uint64_t tip = store.height();
  if (at_height == 0) return tip;
  if (at_height > tip) {
    return Status::Error(
        Status::Code::kInvalidArgument, "out_of_range",
        "height " + std::to_string(at_height) + " is above the tip " + std::to_string(tip));
  }
  return at_height;
}

grpc::Status ToGrpcQuery(grpc::ServerContext* ctx, const Status& s) {
  // A height above the tip is OUT_OF_RANGE in gRPC's vocabulary (it may exist later).
  if (s.reason() == "out_of_range") {
    return WithErrorInfo(ctx, grpc::StatusCode::OUT_OF_RANGE, s.reason(), s.message());
  }
  return ToGrpc(ctx, s);
}

Result<nation::DidId> ParseDidArg(const std::string& did) {
  auto id = ParseDid(did);
  if (!id) return Status::Invalid("invalid_did", QuoteInput(did) + " is not a did:civitas: DID");
  return *id;
}

// A proved answer: built by `build` at the latest certified height, with the bundle that
// proves it (node/certified_answer.h). The request must not also ask for a height.
template <typename Resp>
Status Prove(const Store& store, bool at_height_given, Resp* resp, const ProvedBuild& build) {
  if (at_height_given) {
    return Status::Invalid("invalid_request",
                           "prove answers at the latest certified height: give no height");
  }
  auto bundle = ProveAnswer(store, build);
  if (!bundle.ok()) return bundle.status();
  *resp->mutable_proof() = std::move(*bundle);
  return Status::Ok();
}

}  // namespace

grpc::Status NodeService::ListBlocks(grpc::ServerContext* ctx, const v1::ListBlocksRequest* req,
                                     v1::ListBlocksResponse* resp) {
  const Store& store = node_.store();
  const uint64_t tip = store.height();
  auto from = ParseToken(req->page_token(), std::max<uint64_t>(req->from_height(), 1));
  if (!from.ok()) return ToGrpc(ctx, from.status());
  const uint64_t to = req->to_height() == 0 ? tip : std::min(req->to_height(), tip);
  const uint32_t limit = PageSize(req->page_size(), kDefaultBlockPage, kMaxBlockPage);
  resp->set_tip_height(tip);
  size_t bytes = 0;
  uint64_t h = *from;
  for (; h <= to && resp->blocks_size() < static_cast<int>(limit); ++h) {
    auto block = store.GetBlock(h);
    if (!block.ok()) return ToGrpc(ctx, block.status());
    // A page stays under kMaxPageBytes, but holds at least one block.
    const size_t size = block->ByteSizeLong() + 64;  // with its id and framing
    if (resp->blocks_size() > 0 && bytes + size > kMaxPageBytes) break;
    auto id = BlockId(block->block().header());
    if (!id.ok()) return ToGrpc(ctx, id.status());
    auto* b = resp->add_blocks();
    b->set_block_id(Str(*id));
    *b->mutable_block() = std::move(*block);
    bytes += size;
  }
  if (h <= to) resp->set_next_page_token(std::to_string(h));
  return grpc::Status::OK;
}

grpc::Status NodeService::StreamBlocks(grpc::ServerContext* ctx, const v1::StreamBlocksRequest* req,
                                       grpc::ServerWriter<v1::StreamBlocksResponse>* writer) {
  auto slot = streams_.Open(ctx);
  if (!slot.ok()) return ToGrpc(ctx, slot.status());
  for (uint64_t h = std::max<uint64_t>(req->from_height(), 1);; ++h) {
    if (!AwaitBlock(node_, ctx, h)) return StreamEnded();
    // One message at a time, each under kStreamMessageBytes, each written before the next
    // receipt is read: memory stays bounded by a block and a message.
    std::optional<grpc::Status> ended;
    Status s = ForEachBlockMessage(node_.store(), h, kStreamMessageBytes,
                                   [&](const v1::StreamBlocksResponse& msg) {
                                     ended = WriteTimed(**slot, writer, msg);
                                     return !ended;
                                   });
    if (!s.ok()) return ToGrpc(ctx, s);
    if (ended) return *ended;
  }
}

grpc::Status NodeService::StreamEvents(grpc::ServerContext* ctx, const v1::StreamEventsRequest* req,
                                       grpc::ServerWriter<v1::StreamEventsResponse>* writer) {
  const std::string& contract = req->contract();
  const std::string& topic_prefix = req->topic_prefix();
  if (!contract.empty() && !AddressFromBytes(contract)) {
    return Invalid(ctx, "malformed_request", "contract must be a 20-byte address (or empty)");
  }
  auto slot = streams_.Open(ctx);
  if (!slot.ok()) return ToGrpc(ctx, slot.status());
  const Store& store = node_.store();
  for (uint64_t h = std::max<uint64_t>(req->from_height(), 1);; ++h) {
    if (!AwaitBlock(node_, ctx, h)) return StreamEnded();
    auto block = store.GetBlock(h);
    if (!block.ok()) return ToGrpc(ctx, block.status());
    // One receipt at a time, and Write waits for the client: memory stays bounded by a block.
    for (uint32_t i = 0; i < static_cast<uint32_t>(block->block().txs_size()); ++i) {
      auto receipt = store.GetReceipt({h, i}, block->block().txs(static_cast<int>(i)));
      if (!receipt.ok()) return ToGrpc(ctx, receipt.status());
      for (int e = 0; e < receipt->events_size(); ++e) {
        v1::Event* event = receipt->mutable_events(e);
        if (!contract.empty() && event->contract() != contract) continue;
        if (!event->topic().starts_with(topic_prefix)) continue;
        v1::StreamEventsResponse msg;
        msg.set_height(h);
        msg.set_tx_index(i);
        msg.set_event_index(static_cast<uint32_t>(e));
        msg.set_tx_id(receipt->tx_id());
        *msg.mutable_event() = std::move(*event);
        if (auto ended = WriteTimed(**slot, writer, msg)) return *ended;
      }
    }
  }
}

// ---- The nation. --------------------------------------------------------------------------------

grpc::Status NodeService::ResolveDid(grpc::ServerContext* ctx, const v1::ResolveDidRequest* req,
                                     v1::ResolveDidResponse* resp) {
  if (req->prove()) {
    const bool given = req->at_height() || req->version_id() || req->version_time_ms();
    nation::DidAnswer answer;
    Status s = Prove(node_.store(), given, resp,
                     [&](const StateReader& state, uint64_t height, const nation::BlockTimeFn& t) {
                       auto a = nation::DidAnswerAt(state, height, req->did(), t);
                       if (!a.ok()) return a.status();
                       answer = std::move(*a);
                       return Status::Ok();
                     });
    if (!s.ok()) return ToGrpcQuery(ctx, s);
    if (answer.error == "invalidDid") {
      return ToGrpc(ctx,
                    Status::Invalid("invalid_did", QuoteInput(req->did()) + " is not a valid DID"));
    }
    if (answer.error == "notFound") {
      return ToGrpc(ctx, Status::Error(Status::Code::kNotFound, "not_found",
                                       QuoteInput(req->did()) + " is not registered at height " +
                                           std::to_string(answer.height)));
    }
    nation::FillDidResponse(answer, resp);
    return grpc::Status::OK;
  }
  DidQuery query{req->at_height(), req->version_id(), req->version_time_ms()};
  auto answer = ResolveDidAt(node_.store(), req->did(), query);
  if (!answer.ok()) return ToGrpcQuery(ctx, answer.status());
  if (answer->error == "invalidDid") {
    return ToGrpc(ctx,
                  Status::Invalid("invalid_did", QuoteInput(req->did()) + " is not a valid DID"));
  }
  if (answer->error == "notFound") {
    return ToGrpc(ctx, Status::Error(Status::Code::kNotFound,
                                     req->version_id() ? "version_not_found" : "not_found",
                                     QuoteInput(req->did()) + " is not registered at height " +
                                         std::to_string(answer->height)));
  }
  nation::FillDidResponse(*answer, resp);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetCitizenship(grpc::ServerContext* ctx,
                                         const v1::GetCitizenshipRequest* req,
                                         v1::GetCitizenshipResponse* resp) {
  auto id = ParseDidArg(req->did());
  if (!id.ok()) return ToGrpc(ctx, id.status());
  if (req->prove()) {
    Status s = Prove(node_.store(), req->at_height() != 0, resp,
                     [&](const StateReader& state, uint64_t height, const nation::BlockTimeFn&) {
                       return nation::CitizenshipAnswer(state, height, *id, resp);
                     });
    return ToGrpcQuery(ctx, s);
  }
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  Status s = nation::CitizenshipAnswer(StateAt(node_.store(), *height), *height, *id, resp);
  return ToGrpc(ctx, s);
}

grpc::Status NodeService::ListCitizens(grpc::ServerContext* ctx, const v1::ListCitizensRequest* req,
                                       v1::ListCitizensResponse* resp) {
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  auto start = ParseToken(req->page_token(), 0);
  if (!start.ok()) return ToGrpc(ctx, start.status());
  StateAt state(node_.store(), *height);
  auto total = nation::CitizenCount(state);
  if (!total.ok()) return ToGrpc(ctx, total.status());
  const uint32_t limit = PageSize(req->page_size(), kDefaultCitizenPage, kMaxCitizenPage);
  auto page = nation::ListCitizens(state, *start, limit);
  if (!page.ok()) return ToGrpc(ctx, page.status());
  for (const auto& c : *page) nation::FillCitizenship(c, *height, resp->add_citizens());
  const uint64_t next = *start + page->size();
  if (next < *total) resp->set_next_page_token(std::to_string(next));
  resp->set_total(*total);
  resp->set_height(*height);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetProposal(grpc::ServerContext* ctx, const v1::GetProposalRequest* req,
                                      v1::GetProposalResponse* resp) {
  if (req->prove()) {
    Status s = Prove(node_.store(), req->at_height() != 0, resp,
                     [&](const StateReader& state, uint64_t height, const nation::BlockTimeFn&) {
                       return nation::ProposalAnswer(state, height, req->id(), resp);
                     });
    return ToGrpcQuery(ctx, s);
  }
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  Status s = nation::ProposalAnswer(StateAt(node_.store(), *height), *height, req->id(), resp);
  return ToGrpc(ctx, s);
}

grpc::Status NodeService::ListProposals(grpc::ServerContext* ctx,
                                        const v1::ListProposalsRequest* req,
                                        v1::ListProposalsResponse* resp) {
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  StateAt state(node_.store(), *height);
  auto total = nation::ProposalCount(state);
  if (!total.ok()) return ToGrpc(ctx, total.status());
  // Proposal ids run from 1 to total; the token is the next id to list.
  auto next = ParseToken(req->page_token(), req->newest_first() ? *total : 1);
  if (!next.ok()) return ToGrpc(ctx, next.status());
  const uint32_t limit = PageSize(req->page_size(), kDefaultProposalPage, kMaxProposalPage);
  uint64_t id = *next;
  auto in_range = [&](uint64_t i) { return i >= 1 && i <= *total; };
  for (; in_range(id) && resp->proposals_size() < static_cast<int>(limit);
       id = req->newest_first() ? id - 1 : id + 1) {
    auto p = nation::ReadProposal(state, id);
    if (!p.ok()) return ToGrpc(ctx, p.status());
    if (!p->has_value()) continue;
    Status s = nation::FillProposal(state, **p, *height, resp->add_proposals());
    if (!s.ok()) return ToGrpc(ctx, s);
  }
  if (in_range(id)) resp->set_next_page_token(std::to_string(id));
  resp->set_total(*total);
  resp->set_height(*height);
  return grpc::Status::OK;
}

grpc::Status NodeService::ListMyVotes(grpc::ServerContext* ctx, const v1::ListMyVotesRequest* req,
                                      v1::ListMyVotesResponse* resp) {
  std::optional<nation::DidId> did;
  if (!req->did().empty()) {
    auto id = ParseDidArg(req->did());
    if (!id.ok()) return ToGrpc(ctx, id.status());
    did = *id;
  }
  std::optional<Address> address;
  if (!req->address().empty()) {
    address = AddressFromBytes(req->address());
    if (!address) {
      return ToGrpc(ctx, Status::Invalid("invalid_address", "address must be 20 bytes"));
    }
  }
  if (!did && !address) {
    return ToGrpc(ctx, Status::Invalid("invalid_request", "give a did, an address or both"));
  }
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  StateAt state(node_.store(), *height);
  // Block time at that height: a vote has ended when it is at or past the proposal's end.
  uint64_t now_s = node_.genesis().genesis_time_ms / 1000;
  if (*height > 0) {
    auto block = node_.store().GetBlock(*height);
    if (!block.ok()) return ToGrpcQuery(ctx, block.status());
    now_s = block->block().header().time_ms() / 1000;
  }
  auto total = nation::ProposalCount(state);
  if (!total.ok()) return ToGrpc(ctx, total.status());
  auto next = ParseToken(req->page_token(), *total);
  if (!next.ok()) return ToGrpc(ctx, next.status());
  const uint32_t limit = PageSize(req->page_size(), kDefaultProposalPage, kMaxProposalPage);
  uint64_t id = std::min(*next, *total);
  uint64_t locked = 0;
  for (uint32_t scanned = 0; id >= 1 && scanned < limit; --id, ++scanned) {
    auto vote = nation::ReadVote(state, id, did, address);
    if (!vote.ok()) return ToGrpc(ctx, vote.status());
    if (!vote->voted && vote->locked == 0) continue;
    auto p = nation::ReadProposal(state, id);
    if (!p.ok()) return ToGrpc(ctx, p.status());
    if (!p->has_value()) continue;
    auto* v = resp->add_votes();
    v->set_proposal_id(id);
    v->set_proposal_status(std::string(nation::ProposalStatusName((*p)->status)));
    v->set_method(std::string(nation::VotingMethodName((*p)->method)));
    if (vote->voted) {
      v->set_choice(vote->choice == nation::VoteChoice::kYes  ? "yes"
                    : vote->choice == nation::VoteChoice::kNo ? "no"
                                                              : "abstain");
      v->set_weight(vote->weight);
    }
    v->set_locked(vote->locked);
    v->set_withdrawable(vote->locked > 0 &&
                        ((*p)->status == nation::ProposalStatus::kWithdrawn || now_s >= (*p)->end));
    locked += vote->locked;
  }
  if (id >= 1) resp->set_next_page_token(std::to_string(id));
  resp->set_locked(locked);
  resp->set_height(*height);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetTreasury(grpc::ServerContext* ctx, const v1::GetTreasuryRequest* req,
                                      v1::GetTreasuryResponse* resp) {
  if (req->prove()) {
    Status s = Prove(node_.store(), req->at_height() != 0, resp,
                     [&](const StateReader& state, uint64_t height, const nation::BlockTimeFn&) {
                       return nation::TreasuryAnswer(state, height, resp);
                     });
    return ToGrpcQuery(ctx, s);
  }
  auto height = QueryHeight(node_.store(), req->at_height());
  if (!height.ok()) return ToGrpcQuery(ctx, height.status());
  Status s = nation::TreasuryAnswer(StateAt(node_.store(), *height), *height, resp);
  return ToGrpc(ctx, s);
}

grpc::Status NodeService::ListTreasuryMovements(grpc::ServerContext* ctx,
                                                const v1::ListTreasuryMovementsRequest* req,
                                                v1::ListTreasuryMovementsResponse* resp) {
  const uint64_t tip = node_.store().height();
  auto from = ParseToken(req->page_token(), std::max<uint64_t>(req->from_height(), 1));
  if (!from.ok()) return ToGrpc(ctx, from.status());
  const uint64_t to = req->to_height() == 0 ? tip : std::min(req->to_height(), tip);
  auto scan = ScanTreasuryMovements(node_.store(), *from, to, kMaxTreasuryScanBlocks);
  if (!scan.ok()) return ToGrpc(ctx, scan.status());
  for (auto& m : scan->movements) {
    auto* out = resp->add_movements();
    out->set_height(m.height);
    out->set_tx_id(std::move(m.tx_id));
    out->set_kind(std::move(m.kind));
    out->set_counterparty(std::move(m.counterparty));
    out->set_amount(m.amount);
    out->set_proposal_id(m.proposal_id);
  }
  resp->set_scanned_to_height(scan->scanned_to);
  if (scan->scanned_to < to) resp->set_next_page_token(std::to_string(scan->scanned_to + 1));
  return grpc::Status::OK;
}

}  // namespace civitas::node
