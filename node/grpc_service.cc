#include "node/grpc_service.h"

#include "ledger/certified.h"
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

grpc::Status ToGrpc(grpc::ServerContext* ctx, const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  ctx->AddTrailingMetadata("civitas-reason", s.reason());
  return grpc::Status(CodeOf(s), s.message());
}

grpc::Status Invalid(grpc::ServerContext* ctx, const std::string& reason, const std::string& msg) {
  return ToGrpc(ctx, Status::Invalid(reason, msg));
}

std::string Str(const Hash32& h) { return std::string(AsStringView(h)); }

}  // namespace

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
    auto receipt = node_.store().GetReceipt(*loc);
    if (!receipt.ok()) return ToGrpc(ctx, receipt.status());
    resp->set_committed(true);
    *resp->mutable_receipt() = std::move(*receipt);
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
  auto receipt = node_.store().GetReceipt(*loc);
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
  } else {
    height = req->height() ? req->height() : node_.store().height();
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
    // The latest root that a committed header certifies: that of the latest block's parent.
    const uint64_t tip = store.height();
    if (tip == 0) {
      return ToGrpc(ctx, Status::Error(Status::Code::kFailedPrecondition, "not_certified",
                                       "no block has certified a state root yet"));
    }
    auto block = store.GetBlock(tip);
    if (!block.ok()) return ToGrpc(ctx, block.status());
    const uint64_t height = block->block().header().state_height();
    auto proven = store.GetProven(AccountKey(*addr), height);
    if (!proven.ok()) return ToGrpc(ctx, proven.status());
    if (proven->value) {
      auto decoded = DecodeAccount(*proven->value);
      if (!decoded.ok()) return ToGrpc(ctx, decoded.status());
      acct = *decoded;
    }
    resp->set_height(height);
    *resp->mutable_proof() = ProofToProto(proven->proof);
    *resp->mutable_certifying_block() = std::move(*block);
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
