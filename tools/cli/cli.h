#pragma once

// Shared pieces of the `civitas` command-line client: global options, output, errors, keys and
// the connection to a node. Each command family lives in its own file and registers its
// subcommands on the CLI11 app; main.cc runs the one that was chosen.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/address.h"
#include "ledger/crypto.h"
#include "ledger/status.h"
#include "tools/wallet/passphrase.h"

namespace civitas::cli {

using nlohmann::json;

struct Globals {
  std::string node = "127.0.0.1:26657";
  bool tls = false;    // --tls: reach the node over TLS (the system's roots unless --ca)
  std::string ca;      // --ca FILE: PEM roots that sign the node's certificate
  std::string ca_pem;  // their text, read after parsing
  std::string output = "text";
  std::string passphrase_file;  // --passphrase-file
  std::string keyring;          // --keyring; empty: $CIVITAS_KEYRING, else ~/.civitas/keys
  bool json() const { return output == "json"; }
  wallet::PassphraseSource passphrase_source() const { return {passphrase_file}; }
};

// A family of subcommands. Register() adds them to the app; Run() executes the one that was
// parsed, if it is one of this family's, and returns its exit code.
class Commands {
 public:
  virtual ~Commands() = default;
  virtual void Register(CLI::App& app) = 0;
  virtual std::optional<int> Run(const Globals& g) = 0;
};
std::unique_ptr<Commands> KeysCommands();
std::unique_ptr<Commands> TxCommands();
std::unique_ptr<Commands> QueryCommands();
std::unique_ptr<Commands> CivicCommands();       // did, citizenship, proposal, vote, treasury
std::unique_ptr<Commands> CredentialCommands();  // credential issue, present, verify

// Output. Errors go to stderr as "error: MESSAGE [reason]" and give exit code 1.
std::string Hex(const std::string& raw);
int Fail(const std::string& msg, const std::string& reason = "");
int Fail(const Status& s);
int FailRpc(const grpc::Status& s, const grpc::ClientContext& ctx);
// JSON with -o json, else one "key: value" line per field.
void Print(const json& j, bool as_json);
json ReceiptJson(const v1::Receipt& r);
json HeaderJson(const v1::BlockHeader& h);

// What a --key argument names: the file at that path when one exists, else the key of that
// name in the keyring (wallet/keyring.h). Reasons: not_found (naming both places), bad_keyring.
Result<std::string> ResolveKeyPath(const std::string& file_or_name, const Globals& g);
// Reads a plain or encrypted key file, or a key of the keyring (ResolveKeyPath), asking for the
// passphrase (wallet/passphrase.h) only for an encrypted one.
Result<crypto::SecretKey> LoadSigningKey(const std::string& file_or_name, const Globals& g);
// Contract code from a file: .casm is assembled, anything else is taken as bytecode.
Result<std::string> LoadCode(const std::string& path);

std::unique_ptr<v1::Node::Stub> Connect(const Globals& g);
void SetDeadline(grpc::ClientContext& ctx, int seconds);
// What signing online needs from the node: its chain id, and the sender's next nonce (`nonce`
// itself when it is not negative, i.e. given by --nonce). Returns 0, or the exit code of the
// failed call after printing its error.
struct TxContext {
  std::string chain_id;
  uint64_t nonce = 0;
};
int QueryTxContext(v1::Node::Stub& stub, const Address& sender, int64_t nonce, TxContext* out);

// Submits a signed envelope (waiting for the commit with `wait`) and prints the outcome.
// Exit codes: 0 accepted (or committed successfully), 3 the wait ended before the commit,
// 4 committed but failed, 1 refused.
int Submit(v1::Node::Stub& stub, const v1::Transaction& tx, bool wait, bool as_json);

}  // namespace civitas::cli
