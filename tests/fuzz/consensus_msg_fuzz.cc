// libFuzzer target: a consensus message from a peer (consensus/codec.h). Never crash; one
// message, one encoding: what decodes encodes back to the same bytes.
#include "consensus/codec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = civitas::fuzz::AsView(data, size);
  auto msg = civitas::consensus::DecodeMessage(input);
  if (!msg.ok()) return 0;
  civitas::Bytes again = civitas::consensus::EncodeMessage(*msg);
  civitas::fuzz::Require(civitas::AsStringView(again) == input, "consensus message re-encoding");
  return 0;
}
