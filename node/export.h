#pragma once

// Auditor exports of committed data (`civitasd export`): one record per line, JSONL or CSV.

#include <ostream>
#include <string>

#include "ledger/store.h"

namespace civitas::node {

struct ExportOptions {
  std::string what = "blocks";   // blocks, txs or events
  std::string format = "jsonl";  // jsonl or csv
  uint64_t from = 1;             // first height
  uint64_t to = 0;               // last height; 0 = the store's height
};

// Writes the records of heights [from, to] to `out`. Reasons: bad_request.
Status Export(const Store& store, const ExportOptions& opts, std::ostream& out);

}  // namespace civitas::node
