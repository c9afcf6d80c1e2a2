#pragma once

// The read-only block explorer on the node's HTTP port (docs/EXPLORER.md): a single-page app
// (node/explorer/: index.html, app.js, style.css, embedded in the binary at build time) at "/"
// and "/static/{file}", and the JSON it reads under "/api/...": status, blocks, transactions,
// DIDs and their versions, citizens, proposals with their tallies, the treasury over time and
// its movements.
//
// Every answer reads committed data only. A multi-key answer reads the state at one height
// (StateAt), so it is consistent while blocks commit. Every list is bounded; the limits are
// in docs/EXPLORER.md.

#include <span>
#include <string_view>

#include "ledger/genesis.h"
#include "ledger/store.h"
#include "node/http_server.h"

namespace civitas::node {

// Serves one explorer request; `target` is the raw request target (path and optional query),
// one for which IsExplorerTarget() holds. Errors of the API are JSON
// {"error": reason, "message": sentence} with 400 (malformed request), 404 (no such thing, or
// a height above the tip) or 500 (storage failure). The page carries a Content-Security-Policy
// that allows only this origin's script, style and fetches. `store` and `genesis` are only
// read; safe to call from any thread concurrently with commits. Never throws.
HttpReply ServeExplorer(const Store& store, const Genesis& genesis, std::string_view target);

// One embedded file of the explorer app. Defined by the .cc that node/embed_explorer.cmake
// generates from node/explorer/.
struct ExplorerAsset {
  std::string_view name;  // "index.html", "app.js", "style.css"
  std::string_view data;
};
std::span<const ExplorerAsset> ExplorerAssets();

}  // namespace civitas::node
