#pragma once

// An in-memory vm::Host for tests. It records every call the VM makes (in order) so tests and
// the differential check can compare two executions call by call, and it supports snapshots so
// rollback is observable. Other contracts are registered by address and run through the same
// host (their storage shares the map, prefixed by nothing: tests keep keys apart).

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vm/vm.h"

namespace civitas::vm::testing {

inline std::string Hex(ByteView b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

inline Address MakeAddress(uint8_t fill) {
  Address a;
  a.fill(fill);
  return a;
}

class MockHost : public Host {
 public:
  struct State {
    std::map<Bytes, Bytes> storage;
    std::vector<std::pair<Bytes, Bytes>> events;
    std::map<Address, uint64_t> balances;
    std::map<Address, Address> upgrades;  // target -> source of every accepted setcode
    bool operator==(const State&) const = default;
  };

  State state;
  std::vector<std::string> log;  // every host call, including ones later reverted
  Address caller = MakeAddress(0xca);
  Address origin = MakeAddress(0x0a);
  Address self = MakeAddress(0x5e);
  uint64_t height = 100;
  uint64_t time = 1700000000;
  std::map<Address, const Module*> contracts;  // for Call
  // Runs a called contract; the differential test swaps in the reference interpreter.
  using Executor = ExecResult (*)(const Module&, std::string_view, std::vector<Value>, uint64_t,
                                  Host&, uint32_t);
  Executor executor = &vm::Execute;
  int snapshots_taken = 0;
  int reverts = 0;

  std::optional<Bytes> StorageGet(ByteView key) override {
    log.push_back("get " + Hex(key));
    auto it = state.storage.find(Bytes(key.begin(), key.end()));
    if (it == state.storage.end()) return std::nullopt;
    return it->second;
  }
  void StorageSet(ByteView key, ByteView value) override {
    log.push_back("set " + Hex(key) + "=" + Hex(value));
    state.storage[Bytes(key.begin(), key.end())] = Bytes(value.begin(), value.end());
  }
  void StorageDelete(ByteView key) override {
    log.push_back("del " + Hex(key));
    state.storage.erase(Bytes(key.begin(), key.end()));
  }
  Address Caller() override { return caller; }
  Address Origin() override { return origin; }
  Address Self() override { return self; }
  uint64_t BlockHeight() override { return height; }
  uint64_t BlockTime() override { return time; }
  void EmitEvent(ByteView topic, ByteView data) override {
    log.push_back("emit " + Hex(topic) + ":" + Hex(data));
    state.events.emplace_back(Bytes(topic.begin(), topic.end()), Bytes(data.begin(), data.end()));
  }
  uint64_t Balance(const Address& a) override {
    log.push_back("balance " + Hex(a));
    auto it = state.balances.find(a);
    return it == state.balances.end() ? 0 : it->second;
  }
  bool Transfer(const Address& to, uint64_t amount) override {
    log.push_back("transfer " + Hex(to) + " " + std::to_string(amount));
    uint64_t& from = state.balances[self];
    if (from < amount) return false;
    from -= amount;
    state.balances[to] += amount;
    return true;
  }
  // Accepts an upgrade when `source` is one of `contracts`; records it in `state.upgrades`.
  bool ReplaceCode(const Address& target, const Address& source) override {
    log.push_back("setcode " + Hex(target) + " " + Hex(source));
    if (contracts.find(source) == contracts.end()) return false;
    state.upgrades[target] = source;
    return true;
  }
  // Not SHA-256: a deterministic stand-in, so VM tests need no crypto library.
  Hash32 Sha256(ByteView data) override {
    log.push_back("sha256 " + Hex(data));
    Hash32 h;
    uint64_t x = 1469598103934665603ull;
    for (uint8_t c : data) x = (x ^ c) * 1099511628211ull;
    for (size_t i = 0; i < h.size(); ++i) {
      x = (x ^ i) * 1099511628211ull;
      h[i] = static_cast<uint8_t>(x >> 56);
    }
    return h;
  }
  // Accepts exactly the signatures whose first byte equals the public key's first byte.
  bool VerifyBip340(const Hash32& pk, ByteView msg, const std::array<uint8_t, 64>& sig) override {
    log.push_back("verify " + Hex(pk) + " " + Hex(msg) + " " + Hex(sig));
    return sig[0] == pk[0];
  }
  // Accepts exactly the keys whose first byte is below 0xf0.
  bool IsValidPublicKey(const Hash32& pk) override {
    log.push_back("iskey " + Hex(pk));
    return pk[0] < 0xf0;
  }
  CallResult Call(const Address& to, std::string_view function, const std::vector<Value>& args,
                  uint64_t gas, uint32_t depth) override {
    std::string entry = "call " + Hex(to) + " " + std::string(function) +
                        " gas=" + std::to_string(gas) + " depth=" + std::to_string(depth);
    for (const Value& a : args) entry += " " + a.ToString();
    log.push_back(entry);
    CallResult r;
    auto it = contracts.find(to);
    if (it == contracts.end()) return r;
    Address saved_caller = caller, saved_self = self;
    caller = self;
    self = to;
    ExecResult e = executor(*it->second, function, args, gas, *this, depth);
    caller = saved_caller;
    self = saved_self;
    r.status = e.status;
    r.gas_used = e.gas_used;
    r.returns = std::move(e.returns);
    return r;
  }
  uint64_t Snapshot() override {
    ++snapshots_taken;
    saved_.push_back(state);
    return saved_.size() - 1;
  }
  void RevertTo(uint64_t snapshot) override {
    ++reverts;
    log.push_back("revert_to " + std::to_string(snapshot));
    state = saved_[snapshot];
    saved_.resize(snapshot);
  }

 private:
  std::vector<State> saved_;
};

}  // namespace civitas::vm::testing
