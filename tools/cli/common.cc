#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "ledger/tx.h"
#include "tools/asm/assembler.h"
#include "tools/cli/cli.h"
#include "tools/wallet/keyring.h"
#include "tools/wallet/keystore.h"
#include "vm/vm.h"

namespace civitas::cli {

std::string Hex(const std::string& raw) { return ToHex(ToBytes(raw)); }

int Fail(const std::string& msg, const std::string& reason) {
  std::cerr << "error: " << msg;
  if (!reason.empty()) std::cerr << " [" << reason << "]";
  std::cerr << "\n";
  return 1;
}

int Fail(const Status& s) { return Fail(s.message(), s.reason()); }

int FailRpc(const grpc::Status& s, const grpc::ClientContext& ctx) {
  // The reason of the google.rpc.ErrorInfo in the error details (docs/OPERATIONS.md, "gRPC
  // API"); from a node that sends none, the civitas-reason trailer.
  std::string reason;
  google::rpc::Status details;
  if (!s.error_details().empty() && details.ParseFromString(s.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info) && info.domain() == "civitas.network") reason = info.reason();
    }
  }
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find("civitas-reason");
  if (reason.empty() && it != md.end()) reason = std::string(it->second.data(), it->second.size());
  return Fail(s.error_message(),
              reason.empty() ? "grpc code " + std::to_string(s.error_code()) : reason);
}

void Print(const json& j, bool as_json) {
  // Chain strings are arbitrary bytes: invalid UTF-8 is printed as U+FFFD, not thrown on.
  auto dump = [](const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); };
  if (as_json) {
    std::cout << dump(j) << "\n";
    return;
  }
  for (const auto& [k, v] : j.items()) {
    std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : dump(v)) << "\n";
  }
}

json ReceiptJson(const v1::Receipt& r) {
  json j{{"tx_id", Hex(r.tx_id())},
         {"height", r.height()},
         {"index", r.index()},
         {"status", r.status() == v1::TX_STATUS_SUCCESS ? "success" : "failed"},
         {"gas_used", r.gas_used()},
         {"fee", r.fee()}};
  if (!r.reason().empty()) j["reason"] = r.reason();
  if (!r.contract_address().empty()) j["contract_address"] = Hex(r.contract_address());
  if (!r.return_data().empty()) {
    auto values = vm::DecodeValues(vm::ByteView(
        reinterpret_cast<const uint8_t*>(r.return_data().data()), r.return_data().size()));
    if (values.ok()) {
      j["returns"] = json::array();
      for (const auto& v : *values) {
        if (v.is_int()) {
          j["returns"].push_back(v.as_int());
        } else {
          j["returns"].push_back("0x" + ToHex(v.as_bytes().data(), v.as_bytes().size()));
        }
      }
    }
  }
  j["events"] = json::array();
  for (const auto& e : r.events())
    j["events"].push_back({{"topic", e.topic()}, {"data", Hex(e.data())}});
  return j;
}

json HeaderJson(const v1::BlockHeader& h) {
  return {{"chain_id", h.chain_id()},
          {"height", h.height()},
          {"parent_id", Hex(h.parent_id())},
          {"tx_root", Hex(h.tx_root())},
          {"state_height", h.state_height()},
          {"state_root", Hex(h.state_root())},
          {"proposer", Hex(h.proposer())},
          {"time_ms", h.time_ms()},
          {"tx_count", h.tx_count()},
          {"epoch", h.epoch()},
          {"round", h.round()}};
}

Result<std::string> ResolveKeyPath(const std::string& file_or_name, const Globals& g) {
  struct stat st;
  if (::stat(file_or_name.c_str(), &st) == 0) return file_or_name;
  std::string where = "no key file at " + file_or_name;
  if (wallet::IsKeyName(file_or_name)) {
    auto dir = wallet::KeyringDir(g.keyring);
    if (dir.ok()) {
      wallet::Keyring ring(*dir);
      if (ring.Contains(file_or_name)) return ring.Find(file_or_name);
      where += " and no key of that name in the keyring " + *dir;
    }
  }
  return Status::NotFound(where);
}

Result<crypto::SecretKey> LoadSigningKey(const std::string& file_or_name, const Globals& g) {
  auto path = ResolveKeyPath(file_or_name, g);
  if (!path.ok()) return path.status();
  return wallet::LoadKeyFile(*path, [&g](const std::string& p) {
    return wallet::ReadPassphrase(g.passphrase_source(), "passphrase for " + p + ": ", false);
  });
}

Result<std::string> LoadCode(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("bad_code", "cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (path.ends_with(".casm")) {
    auto code = casm::Assemble(text);
    if (!code.ok()) return Status::Invalid(code.reason(), path + ": " + code.message());
    text.assign(code->begin(), code->end());
  }
  return text;
}

std::unique_ptr<v1::Node::Stub> Connect(const Globals& g) {
  if (!g.tls) {
    return v1::Node::NewStub(grpc::CreateChannel(g.node, grpc::InsecureChannelCredentials()));
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = g.ca_pem;  // empty: the system's roots
  return v1::Node::NewStub(grpc::CreateChannel(g.node, grpc::SslCredentials(options)));
}

void SetDeadline(grpc::ClientContext& ctx, int seconds) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

int QueryTxContext(v1::Node::Stub& stub, const Address& sender, int64_t nonce, TxContext* out) {
  {
    v1::GetStatusResponse st;
    grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    auto s = stub.GetStatus(&ctx, {}, &st);
    if (!s.ok()) return FailRpc(s, ctx);
    out->chain_id = st.chain_id();
  }
  if (nonce >= 0) {
    out->nonce = static_cast<uint64_t>(nonce);
    return 0;
  }
  v1::GetAccountRequest req;
  req.set_address(std::string(AsStringView(sender)));
  v1::GetAccountResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, 10);
  auto s = stub.GetAccount(&ctx, req, &resp);
  if (!s.ok()) return FailRpc(s, ctx);
  out->nonce = resp.account().nonce();
  return 0;
}

int Submit(v1::Node::Stub& stub, const v1::Transaction& tx, bool wait, bool as_json) {
  v1::SubmitTransactionRequest req;
  *req.mutable_tx() = tx;
  req.set_wait_for_commit(wait);
  grpc::ClientContext ctx;
  SetDeadline(ctx, 60);
  v1::SubmitTransactionResponse resp;
  auto s = stub.SubmitTransaction(&ctx, req, &resp);
  if (!s.ok()) return FailRpc(s, ctx);
  json j{{"tx_id", Hex(resp.tx_id())}, {"committed", resp.committed()}};
  if (resp.committed()) j["receipt"] = ReceiptJson(resp.receipt());
  Print(j, as_json);
  if (wait && !resp.committed()) return 3;
  if (resp.committed() && resp.receipt().status() != v1::TX_STATUS_SUCCESS) return 4;
  return 0;
}

}  // namespace civitas::cli
