#include "node/block_stream.h"

#include <google/protobuf/io/coded_stream.h>

namespace civitas::node {

Status ForEachBlockMessage(const Store& store, uint64_t height, size_t budget,
                           const std::function<bool(const v1::StreamBlocksResponse&)>& write) {
  auto block = store.GetBlock(height);
  if (!block.ok()) return block.status();
  auto id = BlockId(block->block().header());
  if (!id.ok()) return id.status();
  const int count = block->block().txs_size();
  // The ids that find the receipts: the block leaves the message after the first write.
  std::vector<Hash32> ids;
  ids.reserve(static_cast<size_t>(count));
  for (const auto& tx : block->block().txs()) {
    auto tx_id = CommittedTxId(tx);
    if (!tx_id.ok()) return tx_id.status();
    ids.push_back(*tx_id);
  }
  v1::StreamBlocksResponse msg;
  msg.set_block_id(std::string(AsStringView(*id)));
  *msg.mutable_block() = std::move(*block);
  size_t bytes = msg.ByteSizeLong();
  for (int i = 0; i < count; ++i) {
    auto receipt =
        store.GetReceipt({height, static_cast<uint32_t>(i)}, ids[static_cast<size_t>(i)]);
    if (!receipt.ok()) return receipt.status();
    // The receipt's bytes in the message: a tag, its length, itself.
    const size_t size = receipt->ByteSizeLong();
    const size_t framed = 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
    const bool empty = !msg.has_block() && msg.receipts_size() == 0;
    if (!empty && bytes + framed > budget) {
      msg.set_more_receipts(true);
      if (!write(msg)) return Status::Ok();
      msg.clear_block();
      msg.clear_receipts();
      msg.set_more_receipts(false);
      msg.set_first_receipt(static_cast<uint32_t>(i));
      bytes = msg.ByteSizeLong();
    }
    *msg.add_receipts() = std::move(*receipt);
    bytes += framed;
  }
  write(msg);
  return Status::Ok();
}

}  // namespace civitas::node
