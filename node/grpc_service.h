#pragma once

// The civitas.v1.Node gRPC service. Errors carry a canonical status code and a machine-readable
// reason in the "civitas-reason" trailing metadata.

#include "civitas/v1/node.grpc.pb.h"

namespace civitas::node {

class Node;

class NodeService final : public v1::Node::Service {
 public:
  // `node` must outlive the service.
  explicit NodeService(Node& node) : node_(node) {}

  grpc::Status SubmitTransaction(grpc::ServerContext* ctx, const v1::SubmitTransactionRequest* req,
                                 v1::SubmitTransactionResponse* resp) override;
  grpc::Status GetTransaction(grpc::ServerContext* ctx, const v1::GetTransactionRequest* req,
                              v1::GetTransactionResponse* resp) override;
  grpc::Status GetBlock(grpc::ServerContext* ctx, const v1::GetBlockRequest* req,
                        v1::GetBlockResponse* resp) override;
  grpc::Status GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                          v1::GetAccountResponse* resp) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest* req,
                         v1::GetStatusResponse* resp) override;

 private:
  Node& node_;
};

}  // namespace civitas::node
