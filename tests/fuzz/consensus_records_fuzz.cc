// libFuzzer target: the consensus records a node reads back from its own disk after a restart,
// which a damaged disk may have altered: the safety data (DecodeSafetyData) and a committed
// block rebuilt from its stored header and payload (DecodeBlockHeader). The first input byte
// picks the record: this keeps one corpus, as both are the same trust boundary (the data folder).
// Never crash; safety data round-trips; a rebuilt block's header bytes are the stored ones.
#include "consensus/codec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civitas::fuzz::Require;
  if (size == 0) return 0;
  std::string_view input = civitas::fuzz::AsView(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto safety = civitas::consensus::DecodeSafetyData(input);
    if (!safety.ok()) return 0;
    civitas::Bytes again = civitas::consensus::EncodeSafetyData(*safety);
    Require(civitas::AsStringView(again) == input, "safety data re-encoding");
    return 0;
  }
  // u32 big-endian header length || header || payload.
  if (input.size() < 4) return 0;
  size_t header_len = civitas::GetU32(reinterpret_cast<const uint8_t*>(input.data()));
  input.remove_prefix(4);
  if (header_len > input.size()) return 0;
  std::string_view header = input.substr(0, header_len);
  civitas::Bytes payload(input.begin() + header_len, input.end());
  auto block = civitas::consensus::DecodeBlockHeader(header, payload);
  if (!block.ok()) return 0;
  Require(block->payload == payload, "rebuilt block payload");
  Require(civitas::AsStringView(civitas::consensus::BlockHeaderBytes(*block)) == header,
          "rebuilt block header bytes");
  return 0;
}
