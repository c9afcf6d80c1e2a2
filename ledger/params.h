#pragma once

#include <cstdint>

namespace civitas {

// Hard limits every input meets (docs/PROTOCOL.md, "Limits").
inline constexpr size_t kMaxTxBytes = 64 * 1024;  // whole Transaction envelope
inline constexpr size_t kMaxBlockTxs = 10000;
inline constexpr size_t kMaxBlockBytes = 4 * 1024 * 1024;  // = the consensus payload cap
inline constexpr size_t kMaxChainIdLength = 64;
// Receipts (docs/PROTOCOL.md, "Receipt limits"): a transaction whose successful receipt would
// pass one of these fails instead (too_many_events, receipt_too_large, block_receipts_full),
// its effects reverted and its fee charged; a receipt's reason is cut to its first
// kMaxReceiptReasonBytes bytes. So a block's receipts stay within about
// kMaxBlockReceiptBytes + kMaxBlockTxs * 400 bytes.
inline constexpr size_t kMaxTxEvents = 128;
inline constexpr size_t kMaxTxReceiptBytes = 64 * 1024;
inline constexpr size_t kMaxBlockReceiptBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxReceiptReasonBytes = 256;

// Block gas limit (ChainParams::max_block_gas): default and upper bound.
inline constexpr uint64_t kDefaultMaxBlockGas = 25'000'000;
inline constexpr uint64_t kMaxBlockGasBound = uint64_t{1} << 40;

// Heartbeat interval (ChainParams::heartbeat_ms): default and bounds, in milliseconds.
inline constexpr uint64_t kDefaultHeartbeatMs = 60'000;
inline constexpr uint64_t kMinHeartbeatMs = 10;
inline constexpr uint64_t kMaxHeartbeatMs = 3'600'000;

// Chain parameters fixed at genesis (genesis.json "params").
struct ChainParams {
  uint64_t gas_price = 1;            // fee units per gas
  uint64_t max_tx_gas = 10'000'000;  // largest gas_limit a transaction may ask for
  // Intrinsic gas of any transaction: its accounts' reads and writes (sender, recipient,
  // treasury), its receipt and their share of the state-tree update, priced like the VM's
  // schedule (docs/VM.md, "Intrinsic gas"; 500 before issue 22, item 10).
  uint64_t tx_base_gas = 25'000;
  uint64_t tx_byte_gas = 2;       // intrinsic gas per byte of the envelope
  uint64_t deploy_byte_gas = 20;  // gas per byte of deployed contract code
  // Consensus rule: the sum of the gas limits of a block's transactions may not exceed it
  // (docs/PROTOCOL.md, "Block gas limit"). Bounds: [max_tx_gas, kMaxBlockGasBound]. The default
  // lets a full block of the slowest work per gas execute in a quarter of the default block
  // interval on the reference machine (docs/BENCHMARKS.md, "Full block").
  uint64_t max_block_gas = kDefaultMaxBlockGas;
  // Consensus timing (docs/CONSENSUS.md, "Idle council"): a leader with no transaction to order
  // proposes an empty block only once this has passed since the last block, and while a
  // validator knows of no pending transaction its round timers are this much longer. Bounds:
  // [kMinHeartbeatMs, kMaxHeartbeatMs]. Not a validity rule of blocks; every validator must use
  // the same value, so it is the chain's.
  uint64_t heartbeat_ms = kDefaultHeartbeatMs;
};

}  // namespace civitas
