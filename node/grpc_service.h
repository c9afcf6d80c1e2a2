#pragma once

// The civitas.v1.Node gRPC service. Errors carry a canonical status code and a machine-readable
// reason twice: in the error details, a serialized google.rpc.Status whose details hold a
// google.rpc.ErrorInfo{reason, domain kErrorDomain}, and in the "civitas-reason" trailing
// metadata (docs/OPERATIONS.md, "gRPC API").

#include <string_view>

#include "civitas/v1/node.grpc.pb.h"
#include "node/stream_limits.h"

namespace civitas::node {

// The google.rpc.ErrorInfo domain of every error of the API.
inline constexpr std::string_view kErrorDomain = "civitas.network";

class Node;

class NodeService final : public v1::Node::Service {
 public:
  // `node` must outlive the service. Streams are bounded by node.config()'s grpc.max_streams,
  // grpc.max_streams_per_client and grpc.stream_write_timeout_ms (StreamLimiter).
  explicit NodeService(Node& node);

  const StreamLimiter& streams() const { return streams_; }

  grpc::Status SubmitTransaction(grpc::ServerContext* ctx, const v1::SubmitTransactionRequest* req,
                                 v1::SubmitTransactionResponse* resp) override;
  grpc::Status SubmitTransactions(grpc::ServerContext* ctx,
                                  const v1::SubmitTransactionsRequest* req,
                                  v1::SubmitTransactionsResponse* resp) override;
  grpc::Status GetTransaction(grpc::ServerContext* ctx, const v1::GetTransactionRequest* req,
                              v1::GetTransactionResponse* resp) override;
  grpc::Status GetBlock(grpc::ServerContext* ctx, const v1::GetBlockRequest* req,
                        v1::GetBlockResponse* resp) override;
  grpc::Status GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                          v1::GetAccountResponse* resp) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest* req,
                         v1::GetStatusResponse* resp) override;
  grpc::Status ListBlocks(grpc::ServerContext* ctx, const v1::ListBlocksRequest* req,
                          v1::ListBlocksResponse* resp) override;
  grpc::Status StreamBlocks(grpc::ServerContext* ctx, const v1::StreamBlocksRequest* req,
                            grpc::ServerWriter<v1::StreamBlocksResponse>* writer) override;
  grpc::Status StreamEvents(grpc::ServerContext* ctx, const v1::StreamEventsRequest* req,
                            grpc::ServerWriter<v1::StreamEventsResponse>* writer) override;
  grpc::Status ResolveDid(grpc::ServerContext* ctx, const v1::ResolveDidRequest* req,
                          v1::ResolveDidResponse* resp) override;
  grpc::Status GetCitizenship(grpc::ServerContext* ctx, const v1::GetCitizenshipRequest* req,
                              v1::GetCitizenshipResponse* resp) override;
  grpc::Status ListCitizens(grpc::ServerContext* ctx, const v1::ListCitizensRequest* req,
                            v1::ListCitizensResponse* resp) override;
  grpc::Status GetProposal(grpc::ServerContext* ctx, const v1::GetProposalRequest* req,
                           v1::GetProposalResponse* resp) override;
  grpc::Status ListProposals(grpc::ServerContext* ctx, const v1::ListProposalsRequest* req,
                             v1::ListProposalsResponse* resp) override;
  grpc::Status ListMyVotes(grpc::ServerContext* ctx, const v1::ListMyVotesRequest* req,
                           v1::ListMyVotesResponse* resp) override;
  grpc::Status GetTreasury(grpc::ServerContext* ctx, const v1::GetTreasuryRequest* req,
                           v1::GetTreasuryResponse* resp) override;
  grpc::Status ListTreasuryMovements(grpc::ServerContext* ctx,
                                     const v1::ListTreasuryMovementsRequest* req,
                                     v1::ListTreasuryMovementsResponse* resp) override;

 private:
  Node& node_;
  StreamLimiter streams_;
};

}  // namespace civitas::node
