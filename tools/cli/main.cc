// civitas: the citizen's and auditor's command-line client (docs/WALLET.md, docs/OPERATIONS.md).
//   civitas keys add|import|list|show|export|delete NAME ...    the keyring (--keyring DIR)
//   civitas keys new|recover|show|encrypt|decrypt ...           key files and mnemonics
//   civitas transfer|deploy|call --key FILE ... [--wait]         sign with the node's chain id
//                                                                and nonce, submit
//   civitas sign transfer|deploy|call --key FILE --chain-id ID --nonce N ...   offline
//   civitas broadcast FILE|- [--wait]                            submit a signed envelope
//   civitas account ADDRESS [--prove --genesis FILE] | tx TXID | block [HEIGHT] | status
//   civitas did|citizenship|proposal|vote|treasury ...            the nation (civic_cmd.cc)
//   civitas credential issue|present|verify ...                  offline credentials
// Global: --node HOST:PORT (default 127.0.0.1:26657), --tls, --ca FILE, --output/-o text|json,
//         --passphrase-file FILE (else $CIVITAS_PASSPHRASE, else the terminal),
//         --keyring DIR (else $CIVITAS_KEYRING, else ~/.civitas/keys). --key takes a file or the
//         name of a key in the keyring.

#include <fstream>
#include <sstream>

#include "node/cli_parse.h"
#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  using namespace civitas::cli;
  CLI::App app{"civitas: wallet and client for a Civitas node"};
  civitas::node::AddVersionFlag(app, "civitas");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  Globals g;
  app.add_option("--node", g.node, "node gRPC address (default: $CIVITAS_NODE, else this)")
      ->envname("CIVITAS_NODE")
      ->capture_default_str();
  app.add_flag("--tls", g.tls, "reach the node over TLS (the node sets grpc.tls_cert)");
  app.add_option("--ca", g.ca, "PEM roots that sign the node's certificate (implies --tls)");
  app.add_option("--output,-o", g.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--passphrase-file", g.passphrase_file,
                 "passphrase of encrypted key files (first line); default $CIVITAS_PASSPHRASE, "
                 "else asked on the terminal");

  app.add_option("--keyring", g.keyring,
                 "keyring folder; default $CIVITAS_KEYRING, else ~/.civitas/keys");
  std::unique_ptr<Commands> families[] = {KeysCommands(), TxCommands(), QueryCommands(),
                                          CivicCommands(), CredentialCommands()};
  for (auto& f : families) f->Register(app);
  if (auto code = civitas::node::ParseCommandLine(app, argc, argv)) return *code;
  if (!g.ca.empty()) {
    std::ifstream in(g.ca, std::ios::binary);
    std::stringstream pem;
    if (in) pem << in.rdbuf();
    if (!in || pem.str().empty()) return Fail("cannot read --ca " + g.ca, "bad_request");
    g.ca_pem = pem.str();
    g.tls = true;
  }
  for (auto& f : families) {
    if (auto code = f->Run(g)) return *code;
  }
  return Fail("no command", "bad_request");
}
