#pragma once

// The Civitas contract VM: the whole surface other modules use.
//
// A contract is a module of bytecode (format in docs/VM.md). `Validate` decodes and checks it once,
// at deploy; `Execute` runs one exported function of a validated module against a `Host`, the
// VM's only window on the world. Nothing here does I/O, reads a clock, uses threads or randomness,
// or throws: every failure is a value. The same module, arguments, gas limit and host answers give
// the same ExecResult on every machine.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace civitas::vm {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using Address = std::array<uint8_t, 20>;
using Hash32 = std::array<uint8_t, 32>;

// Hard bounds. Every one is checked by the validator or, where only a run can tell, by the
// interpreter (which then traps). docs/VM.md explains each.
inline constexpr size_t kMaxModuleSize = 64 * 1024;  // bytes of encoded module
inline constexpr size_t kMaxConstants = 1024;        // entries in the constant pool
inline constexpr size_t kMaxFunctions = 256;         // functions per module
inline constexpr size_t kMaxNameLength = 32;         // function and local names
inline constexpr size_t kMaxParams = 16;             // parameters of a function
inline constexpr size_t kMaxResults = 8;             // results of a function
inline constexpr size_t kMaxLocals = 64;             // locals of a function, parameters included
inline constexpr size_t kMaxStackHeight = 256;       // operand stack of one frame
inline constexpr size_t kMaxFrames = 64;             // nested internal calls in one Execute
inline constexpr uint32_t kMaxCallDepth = 8;         // nested contract-to-contract calls
inline constexpr size_t kMaxValueSize = 4096;        // bytes in one byte-string value
inline constexpr size_t kMaxKeySize = 64;            // bytes in a storage key or event topic
inline constexpr size_t kMaxMemory = 1024 * 1024;    // live byte-string bytes of one Execute
inline constexpr size_t kMaxEncodedValues = 255;     // values in one EncodeValues list

// The outcome of a fallible VM operation that is not a contract run: a value, or a short
// machine-readable `reason` (e.g. "bad_jump_target") plus a message for people.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  static Result Error(std::string reason, std::string message) {
    Result r;
    r.reason_ = std::move(reason);
    r.message_ = std::move(message);
    return r;
  }

  bool ok() const { return value_.has_value(); }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "ok" : reason_ + ": " + message_; }
  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Result() = default;
  std::optional<T> value_;
  std::string reason_;
  std::string message_;
};

// A VM value: a 64-bit signed integer or a byte string of at most kMaxValueSize bytes.
class Value {
 public:
  enum class Type : uint8_t { kInt = 0, kBytes = 1 };

  Value() = default;  // the integer 0
  static Value Int(int64_t v) {
    Value r;
    r.int_ = v;
    return r;
  }
  static Value FromBytes(Bytes b) {
    Value r;
    r.type_ = Type::kBytes;
    r.bytes_ = std::move(b);
    return r;
  }
  static Value FromString(std::string_view s) { return FromBytes(Bytes(s.begin(), s.end())); }

  Type type() const { return type_; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_bytes() const { return type_ == Type::kBytes; }
  // Precondition: is_int() / is_bytes() respectively.
  int64_t as_int() const { return int_; }
  const Bytes& as_bytes() const { return bytes_; }
  std::string ToString() const;  // "42" or "0x..." for logs and tests

  // The interpreter's in-place setters keep the invariant that an integer has no bytes and a
  // byte string has int_ == 0, so that == compares meaning.
  void SetInt(int64_t v) {
    type_ = Type::kInt;
    int_ = v;
    if (!bytes_.empty()) bytes_.clear();
  }
  void SetBytes(Bytes b) {
    type_ = Type::kBytes;
    int_ = 0;
    bytes_ = std::move(b);
  }
  Bytes& mutable_bytes() { return bytes_; }
  size_t byte_size() const { return bytes_.size(); }

  bool operator==(const Value& other) const = default;

 private:
  Type type_ = Type::kInt;
  int64_t int_ = 0;
  Bytes bytes_;
};

// Canonical byte encoding of a list of values, used to pass arguments and return values across
// the module boundary (transactions, receipts, CLI):
//   u8 count (<= kMaxEncodedValues), then per value
//   u8 tag: 0 = int, followed by 8 bytes little-endian two's complement
//           1 = bytes, followed by u16 little-endian length (<= kMaxValueSize) and the bytes.
// DecodeValues refuses unknown tags, oversize values, truncation and trailing bytes, so every
// accepted input has exactly one encoding.
Bytes EncodeValues(std::span<const Value> values);
Result<std::vector<Value>> DecodeValues(ByteView data);

// ---------------------------------------------------------------------------------------------
// Modules.

// The plain contents of a module, as encoded. Assemblers build one; nothing guarantees it is
// valid until Validate accepts its encoding.
struct FunctionDef {
  std::string name;
  bool exported = false;
  uint8_t num_params = 0;
  uint8_t num_results = 0;
  std::vector<std::string> locals;  // names of all locals: the parameters first
  Bytes code;
};

struct ModuleDef {
  std::vector<Bytes> constants;  // byte-string constant pool, distinct entries
  std::vector<FunctionDef> functions;
};

// The binary format of docs/VM.md. EncodeModule(DecodeModule(b)) == b for every accepted b.
Bytes EncodeModule(const ModuleDef& def);
// Checks the format only (magic, version, lengths, limits); Validate checks everything.
Result<ModuleDef> DecodeModule(ByteView data);

// A module that Validate accepted. Immutable; Execute trusts what the validator proved.
class Module {
 public:
  const ModuleDef& def() const { return def_; }
  // Index of the function called `name`, or -1.
  int FindFunction(std::string_view name) const;
  // The highest operand stack height function `index` can reach (proved by the validator).
  uint16_t max_stack(size_t index) const { return max_stack_[index]; }

 private:
  friend Result<Module> Validate(ByteView code);
  ModuleDef def_;
  std::vector<uint16_t> max_stack_;
};

// Decodes and statically validates bytecode: format, limits, names, every opcode and immediate,
// every branch target, the stack height at every reachable instruction, function signatures and
// that no function runs off its end. A module it accepts can never make the interpreter read or
// write outside its operand stack or locals. On refusal `reason()` is one of the words listed
// in docs/VM.md and `message()` names the function and byte offset.
Result<Module> Validate(ByteView code);

// ---------------------------------------------------------------------------------------------
// Execution.

enum class ExecStatus : uint8_t {
  kOk = 0,        // returned normally; `returns` holds the results
  kRevert = 1,    // the contract executed `revert`; `reason` holds its message
  kOutOfGas = 2,  // gas ran out; gas_used == gas_limit
  kTrap = 3,      // a runtime check failed; `reason` says which (docs/VM.md)
  kBadCall = 4,   // nothing ran: unknown/unexported function, wrong arguments, depth exceeded
};
std::string_view ExecStatusName(ExecStatus s);

struct ExecResult {
  ExecStatus status = ExecStatus::kOk;
  std::string reason;
  uint64_t gas_used = 0;
  std::vector<Value> returns;

  bool ok() const { return status == ExecStatus::kOk; }
};

// What Host::Call reports back about a call into another contract.
struct CallResult {
  ExecStatus status = ExecStatus::kBadCall;
  uint64_t gas_used = 0;  // clamped by the VM to the gas it forwarded
  std::vector<Value> returns;
};

// The VM's only window on the world. The node implements it over its state; tests mock it.
// Storage is the calling contract's own namespace: the host scopes keys, the VM never sees other
// contracts' storage. Every method is charged gas by the VM as docs/VM.md lists, before the call
// (and, for StorageGet, per byte of the answer after it). A Host must outlive the Execute call
// it is passed to and is only used from the thread that called Execute.
class Host {
 public:
  virtual ~Host() = default;

  virtual std::optional<Bytes> StorageGet(ByteView key) = 0;
  virtual void StorageSet(ByteView key, ByteView value) = 0;
  virtual void StorageDelete(ByteView key) = 0;

  virtual Address Caller() = 0;  // the account or contract that called this one
  virtual Address Origin() = 0;  // the signer of the transaction
  virtual Address Self() = 0;    // this contract's address
  virtual uint64_t BlockHeight() = 0;
  virtual uint64_t BlockTime() = 0;  // the block's timestamp, seconds

  virtual void EmitEvent(ByteView topic, ByteView data) = 0;

  virtual uint64_t Balance(const Address& account) = 0;
  // Moves `amount` of the native token from this contract's account to `to`; false (and no
  // change) if the balance does not cover it.
  virtual bool Transfer(const Address& to, uint64_t amount) = 0;

  virtual Hash32 Sha256(ByteView data) = 0;
  virtual bool VerifyBip340(const Hash32& pubkey, ByteView msg,
                            const std::array<uint8_t, 64>& sig) = 0;
  // Whether `pubkey` is a BIP-340 x-only public key: the x coordinate of a point on the curve.
  virtual bool IsValidPublicKey(const Hash32& pubkey) = 0;

  // Runs `function` of the contract at `to` with at most `gas` gas, normally through
  // vm::Execute(..., depth). The callee's own Execute rolls back its changes on failure.
  virtual CallResult Call(const Address& to, std::string_view function,
                          const std::vector<Value>& args, uint64_t gas, uint32_t depth) = 0;

  // Makes the contract at `target` run the code of the contract at `source` from now on; its
  // storage and balance stay. Only the host decides who may (the ledger allows it to the
  // governance contract alone, so amending the law takes a vote). False, and no change, when
  // refused. Hosts without upgrades keep this default.
  virtual bool ReplaceCode(const Address& target, const Address& source) {
    (void)target;
    (void)source;
    return false;
  }

  // Marks the current state; RevertTo(mark) undoes every storage write, event and transfer made
  // since. Execute takes a snapshot when it starts and reverts to it on any failure.
  virtual uint64_t Snapshot() = 0;
  virtual void RevertTo(uint64_t snapshot) = 0;
};

// Runs exported function `function` of `module` with `args`. `depth` is the number of contract
// calls already on the way here (0 for a transaction's own call). Never throws; a failure is a
// status. Host calls happen in program order; on any status but kOk the host state is reverted
// to the snapshot taken at the start.
ExecResult Execute(const Module& module, std::string_view function, std::vector<Value> args,
                   uint64_t gas_limit, Host& host, uint32_t depth = 0);

}  // namespace civitas::vm
