#pragma once

// The ledger's side of the contract VM: vm::Host over the block's StateOverlay. Contract storage
// lives under StorageKey(contract, key); native tokens move between accounts in the overlay;
// events collect in the receipt. Snapshots cover state and events, so a failed call leaves no
// trace.

#include <map>
#include <memory>
#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/state.h"
#include "vm/vm.h"

namespace civitas {

// Per-transaction context shared by a call and the calls it makes. Single-threaded.
struct CallContext {
  StateOverlay& state;
  Address origin{};
  uint64_t height = 0;
  uint64_t time_ms = 0;  // the block header's time (Unix milliseconds)
  std::vector<v1::Event> events;
  // Validated modules by code hash, so a contract called repeatedly is validated once.
  std::map<Hash32, std::shared_ptr<const vm::Module>>& modules;
};

// Loads and validates the code of `contract`; NotFound when it is not a contract.
Result<std::shared_ptr<const vm::Module>> LoadContract(CallContext& ctx, const Address& contract);

class LedgerHost final : public vm::Host {
 public:
  // `ctx` must outlive the host.
  LedgerHost(CallContext& ctx, const Address& self, const Address& caller)
      : ctx_(ctx), self_(self), caller_(caller) {}

  // Storage failures (an I/O error under the overlay) cannot be reported through vm::Host;
  // they are recorded here and turn the whole block's execution into an error.
  const Status& storage_error() const { return storage_error_; }

  std::optional<vm::Bytes> StorageGet(vm::ByteView key) override;
  void StorageSet(vm::ByteView key, vm::ByteView value) override;
  void StorageDelete(vm::ByteView key) override;
  vm::Address Caller() override { return caller_; }
  vm::Address Origin() override { return ctx_.origin; }
  vm::Address Self() override { return self_; }
  uint64_t BlockHeight() override { return ctx_.height; }
  // Whole seconds of the header's time (docs/VM.md, `time`): contracts count periods in seconds,
  // and milliseconds only pretend to a precision the council's clocks do not have.
  uint64_t BlockTime() override { return ctx_.time_ms / 1000; }
  void EmitEvent(vm::ByteView topic, vm::ByteView data) override;
  uint64_t Balance(const vm::Address& a) override;
  bool Transfer(const vm::Address& to, uint64_t amount) override;
  vm::Hash32 Sha256(vm::ByteView data) override;
  bool VerifyBip340(const vm::Hash32& pk, vm::ByteView msg,
                    const std::array<uint8_t, 64>& sig) override;
  bool IsValidPublicKey(const vm::Hash32& pubkey) override;
  vm::CallResult Call(const vm::Address& to, std::string_view function,
                      const std::vector<vm::Value>& args, uint64_t gas, uint32_t depth) override;
  // Accepted only from the governance contract (SystemAddress("governance")), for a target and a
  // source that both hold code: the target's code hash becomes the source's.
  bool ReplaceCode(const vm::Address& target, const vm::Address& source) override;
  uint64_t Snapshot() override;
  void RevertTo(uint64_t mark) override;

 private:
  std::string Key(vm::ByteView key) const;
  void Record(const Status& s) {
    if (storage_error_.ok() && !s.ok()) storage_error_ = s;
  }

  CallContext& ctx_;
  Address self_;
  Address caller_;
  Status storage_error_;
  // Snapshot marks: (state journal size, number of events).
  std::vector<std::pair<size_t, size_t>> marks_;
};

// Moves `amount` from `from` to `to` in the overlay. False when `from` lacks the funds or `to`
// would overflow; nothing changes then.
Result<bool> MoveTokens(StateOverlay& s, const Address& from, const Address& to, uint64_t amount);

}  // namespace civitas
