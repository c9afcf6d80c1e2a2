// libFuzzer target: a node's config.toml (node/config.h). Never crash; the commented file a node
// writes for what parsed loads back to the same values, and ValidateConfig never crashes on them.
#include "node/config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c =
      civitas::node::ParseConfig(civitas::fuzz::AsView(data, size), "/nonexistent", "fuzz.toml");
  if (!c.ok()) return 0;
  (void)civitas::node::ValidateConfig(*c);
  std::string text = civitas::node::ConfigToToml(*c);
  auto again = civitas::node::ParseConfig(text, "/nonexistent", "again.toml");
  civitas::fuzz::Require(again.ok() && civitas::node::ConfigToToml(*again) == text,
                         "config round trip");
  return 0;
}
