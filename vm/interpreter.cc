// The fast interpreter. It trusts what Validate proved (docs/VM.md, "Validation"), so it checks
// only what depends on run-time values: operand types, integer overflow, ranges, gas, memory and
// frame count. Dispatch is a computed-goto table generated from opcodes.h.
//
// Layout: one array of value slots holds every frame. A frame is its locals followed by its
// operand stack; a call's arguments, already on top of the caller's stack, become the callee's
// first locals in place. `mem_` counts the bytes of byte strings that are live (on a stack or
// in a local); a popped slot may keep stale bytes until it is reused, but they are not counted.

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "vm/gas.h"
#include "vm/opcodes.h"
#include "vm/vm.h"

namespace civitas::vm {
namespace {

constexpr std::array<uint32_t, kNumOpcodes> MakeBaseGas() {
  std::array<uint32_t, kNumOpcodes> g{};
  for (size_t i = 0; i < kNumOpcodes; ++i) g[i] = kOpTable[i].gas;
  return g;
}
constexpr std::array<uint32_t, kNumOpcodes> kBaseGas = MakeBaseGas();

inline uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline int64_t ReadI64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}

bool ToAddress(const Value& v, Address* out) {
  if (!v.is_bytes() || v.as_bytes().size() != out->size()) return false;
  std::copy(v.as_bytes().begin(), v.as_bytes().end(), out->begin());
  return true;
}

Bytes AddressBytes(const Address& a) { return Bytes(a.begin(), a.end()); }

struct Frame {
  uint32_t fn;            // function index
  size_t base;            // slot index of local 0
  const uint8_t* ret_ip;  // where the caller resumes (for the caller's frame record)
};

class Interpreter {
 public:
  Interpreter(const Module& module, Host& host, uint64_t gas, uint32_t depth)
      : module_(module), host_(host), gas_(gas), depth_(depth) {}

  ExecResult Run(uint32_t fn, std::vector<Value>& args);
  uint64_t gas_left() const { return gas_; }

 private:
  const Module& module_;
  Host& host_;
  uint64_t gas_;
  uint32_t depth_;
  size_t mem_ = 0;
  std::vector<Value> slots_;
  std::vector<Frame> frames_;
};

ExecResult Interpreter::Run(uint32_t entry, std::vector<Value>& args) {
  static const void* const kDispatch[] = {
#define CIVITAS_VM_LABEL(name, mnemonic, imm, pops, pushes, gas) &&op_##name,
      CIVITAS_VM_OPCODES(CIVITAS_VM_LABEL)
#undef CIVITAS_VM_LABEL
  };
  static_assert(sizeof(kDispatch) / sizeof(kDispatch[0]) == kNumOpcodes);

  const auto& funcs = module_.def().functions;
  const auto& consts = module_.def().constants;
  ExecResult result;
  const char* trap_reason = "";
  std::string revert_reason;
  uint64_t gas = gas_;

  // Entry frame.
  const FunctionDef* f = &funcs[entry];
  slots_.resize(std::max<size_t>(64, f->locals.size() + module_.max_stack(entry)));
  for (size_t i = 0; i < args.size(); ++i) {
    mem_ += args[i].byte_size();
    slots_[i] = std::move(args[i]);
  }
  frames_.reserve(kMaxFrames);
  frames_.push_back(Frame{entry, 0, nullptr});
  Value* locals = slots_.data();
  Value* sp = locals + f->locals.size();
  const uint8_t* code = f->code.data();
  const uint8_t* ip = code;

#define TRAP(reason)        \
  do {                      \
    trap_reason = (reason); \
    goto trap;              \
  } while (0)
#define CHARGE(amount)             \
  do {                             \
    uint64_t c_ = (amount);        \
    if (gas < c_) goto out_of_gas; \
    gas -= c_;                     \
  } while (0)
#define CHECK_MEM() \
  if (mem_ > kMaxMemory) TRAP("memory_limit")
#define NEED_INT(v) \
  if (!(v).is_int()) TRAP("type_mismatch")
#define NEED_BYTES(v) \
  if (!(v).is_bytes()) TRAP("type_mismatch")
#define DISPATCH()                 \
  do {                             \
    uint8_t op_ = *ip;             \
    uint32_t c_ = kBaseGas[op_];   \
    if (gas < c_) goto out_of_gas; \
    gas -= c_;                     \
    goto* kDispatch[op_];          \
  } while (0)
#define BINARY_INT(expr)         \
  do {                           \
    NEED_INT(sp[-2]);            \
    NEED_INT(sp[-1]);            \
    int64_t a = sp[-2].as_int(); \
    int64_t b = sp[-1].as_int(); \
    sp[-2].SetInt(expr);         \
    --sp;                        \
    ++ip;                        \
    DISPATCH();                  \
  } while (0)

  for (size_t i = args.size(); i < f->locals.size(); ++i) locals[i].SetInt(0);
  DISPATCH();

op_Nop:
  ++ip;
  DISPATCH();
op_Pop:
  mem_ -= sp[-1].byte_size();
  --sp;
  ++ip;
  DISPATCH();
op_Dup:
  CHARGE(gas::Words(sp[-1].byte_size()) * gas::kCopyPerWord);
  mem_ += sp[-1].byte_size();
  CHECK_MEM();
  sp[0] = sp[-1];
  ++sp;
  ++ip;
  DISPATCH();
op_Over:
  CHARGE(gas::Words(sp[-2].byte_size()) * gas::kCopyPerWord);
  mem_ += sp[-2].byte_size();
  CHECK_MEM();
  sp[0] = sp[-2];
  ++sp;
  ++ip;
  DISPATCH();
op_Swap:
  std::swap(sp[-1], sp[-2]);
  ++ip;
  DISPATCH();
op_PushI:
  sp->SetInt(ReadI64(ip + 1));
  ++sp;
  ip += 9;
  DISPATCH();
op_PushC : {
  const Bytes& c = consts[ReadU16(ip + 1)];
  CHARGE(gas::Words(c.size()) * gas::kCopyPerWord);
  mem_ += c.size();
  CHECK_MEM();
  sp->SetBytes(c);
  ++sp;
  ip += 3;
  DISPATCH();
}
op_Get : {
  const Value& v = locals[ip[1]];
  CHARGE(gas::Words(v.byte_size()) * gas::kCopyPerWord);
  mem_ += v.byte_size();
  CHECK_MEM();
  *sp = v;
  ++sp;
  ip += 2;
  DISPATCH();
}
op_Set : {
  Value& l = locals[ip[1]];
  mem_ -= l.byte_size();
  l = std::move(sp[-1]);
  --sp;
  ip += 2;
  DISPATCH();
}
op_Add:
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  {
    int64_t r;
    if (__builtin_add_overflow(sp[-2].as_int(), sp[-1].as_int(), &r)) TRAP("integer_overflow");
    sp[-2].SetInt(r);
  }
  --sp;
  ++ip;
  DISPATCH();
op_Sub:
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  {
    int64_t r;
    if (__builtin_sub_overflow(sp[-2].as_int(), sp[-1].as_int(), &r)) TRAP("integer_overflow");
    sp[-2].SetInt(r);
  }
  --sp;
  ++ip;
  DISPATCH();
op_Mul:
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  {
    int64_t r;
    if (__builtin_mul_overflow(sp[-2].as_int(), sp[-1].as_int(), &r)) TRAP("integer_overflow");
    sp[-2].SetInt(r);
  }
  --sp;
  ++ip;
  DISPATCH();
op_Div:
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  {
    int64_t a = sp[-2].as_int(), b = sp[-1].as_int();
    if (b == 0) TRAP("division_by_zero");
    if (a == INT64_MIN && b == -1) TRAP("integer_overflow");
    sp[-2].SetInt(a / b);
  }
  --sp;
  ++ip;
  DISPATCH();
op_Mod:
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  {
    int64_t a = sp[-2].as_int(), b = sp[-1].as_int();
    if (b == 0) TRAP("division_by_zero");
    sp[-2].SetInt(b == -1 ? 0 : a % b);
  }
  --sp;
  ++ip;
  DISPATCH();
op_Neg:
  NEED_INT(sp[-1]);
  if (sp[-1].as_int() == INT64_MIN) TRAP("integer_overflow");
  sp[-1].SetInt(-sp[-1].as_int());
  ++ip;
  DISPATCH();
op_Eq:
op_Ne : {
  const bool want_equal = *ip == static_cast<uint8_t>(Opcode::kEq);
  CHARGE((gas::Words(sp[-2].byte_size()) + gas::Words(sp[-1].byte_size())) * gas::kCopyPerWord);
  mem_ -= sp[-2].byte_size() + sp[-1].byte_size();
  bool equal = sp[-2] == sp[-1];
  sp[-2].SetInt(equal == want_equal ? 1 : 0);
  --sp;
  ++ip;
  DISPATCH();
}
op_Lt:
  BINARY_INT(a < b ? 1 : 0);
op_Le:
  BINARY_INT(a <= b ? 1 : 0);
op_Gt:
  BINARY_INT(a > b ? 1 : 0);
op_Ge:
  BINARY_INT(a >= b ? 1 : 0);
op_And:
  BINARY_INT(a & b);
op_Or:
  BINARY_INT(a | b);
op_Xor:
  BINARY_INT(a ^ b);
op_BNot:
  NEED_INT(sp[-1]);
  sp[-1].SetInt(~sp[-1].as_int());
  ++ip;
  DISPATCH();
op_Not:
  NEED_INT(sp[-1]);
  sp[-1].SetInt(sp[-1].as_int() == 0 ? 1 : 0);
  ++ip;
  DISPATCH();
op_Shl:
op_Shr : {
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  int64_t b = sp[-1].as_int();
  if (b < 0 || b > 63) TRAP("bad_shift");
  uint64_t a = static_cast<uint64_t>(sp[-2].as_int());
  uint64_t r = *ip == static_cast<uint8_t>(Opcode::kShl) ? a << b : a >> b;
  sp[-2].SetInt(static_cast<int64_t>(r));
  --sp;
  ++ip;
  DISPATCH();
}
op_Len:
  NEED_BYTES(sp[-1]);
  mem_ -= sp[-1].byte_size();
  sp[-1].SetInt(static_cast<int64_t>(sp[-1].byte_size()));
  ++ip;
  DISPATCH();
op_Concat : {
  NEED_BYTES(sp[-2]);
  NEED_BYTES(sp[-1]);
  size_t total = sp[-2].byte_size() + sp[-1].byte_size();
  if (total > kMaxValueSize) TRAP("value_too_large");
  CHARGE(gas::Words(total) * gas::kCopyPerWord);
  Bytes& a = sp[-2].mutable_bytes();
  const Bytes& b = sp[-1].as_bytes();
  a.insert(a.end(), b.begin(), b.end());
  // Net memory is unchanged: b's bytes moved into a.
  --sp;
  ++ip;
  DISPATCH();
}
op_Slice : {
  NEED_BYTES(sp[-3]);
  NEED_INT(sp[-2]);
  NEED_INT(sp[-1]);
  int64_t size = static_cast<int64_t>(sp[-3].byte_size());
  int64_t start = sp[-2].as_int(), len = sp[-1].as_int();
  if (start < 0 || len < 0 || start > size || len > size - start) TRAP("out_of_range");
  CHARGE(gas::Words(static_cast<size_t>(len)) * gas::kCopyPerWord);
  Bytes& s = sp[-3].mutable_bytes();
  if (start > 0) s.erase(s.begin(), s.begin() + start);
  s.resize(static_cast<size_t>(len));
  mem_ -= static_cast<size_t>(size - len);
  sp -= 2;
  ++ip;
  DISPATCH();
}
op_ByteAt : {
  NEED_BYTES(sp[-2]);
  NEED_INT(sp[-1]);
  int64_t idx = sp[-1].as_int();
  if (idx < 0 || idx >= static_cast<int64_t>(sp[-2].byte_size())) TRAP("out_of_range");
  mem_ -= sp[-2].byte_size();
  sp[-2].SetInt(sp[-2].as_bytes()[static_cast<size_t>(idx)]);
  --sp;
  ++ip;
  DISPATCH();
}
op_Itob : {
  NEED_INT(sp[-1]);
  CHARGE(gas::Words(8) * gas::kCopyPerWord);
  mem_ += 8;
  CHECK_MEM();
  uint64_t v = static_cast<uint64_t>(sp[-1].as_int());
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  sp[-1].SetBytes(std::move(b));
  ++ip;
  goto dispatch;  // an indirect goto may not leave the scope of `b` (clang)
}
op_Btoi : {
  NEED_BYTES(sp[-1]);
  if (sp[-1].byte_size() != 8) TRAP("out_of_range");
  CHARGE(gas::Words(8) * gas::kCopyPerWord);
  uint64_t v = 0;
  for (uint8_t b : sp[-1].as_bytes()) v = (v << 8) | b;
  mem_ -= 8;
  sp[-1].SetInt(static_cast<int64_t>(v));
  ++ip;
  DISPATCH();
}
op_TypeOf:
  mem_ -= sp[-1].byte_size();
  sp[-1].SetInt(sp[-1].is_bytes() ? 1 : 0);
  ++ip;
  DISPATCH();
op_Jmp:
  ip = code + ReadU16(ip + 1);
  DISPATCH();
op_Jz:
op_Jnz : {
  NEED_INT(sp[-1]);
  bool zero = sp[-1].as_int() == 0;
  --sp;
  if (zero == (*ip == static_cast<uint8_t>(Opcode::kJz))) {
    ip = code + ReadU16(ip + 1);
  } else {
    ip += 3;
  }
  DISPATCH();
}
op_Call : {
  if (frames_.size() >= kMaxFrames) TRAP("call_depth_exceeded");
  const uint16_t callee = ReadU16(ip + 1);
  const FunctionDef& cf = funcs[callee];
  frames_.back().ret_ip = ip + 3;
  const size_t base = static_cast<size_t>(sp - slots_.data()) - cf.num_params;
  const size_t need = base + cf.locals.size() + module_.max_stack(callee);
  if (need > slots_.size()) slots_.resize(std::max(need, 2 * slots_.size()));
  locals = slots_.data() + base;
  for (size_t i = cf.num_params; i < cf.locals.size(); ++i) locals[i].SetInt(0);
  sp = locals + cf.locals.size();
  frames_.push_back(Frame{callee, base, nullptr});
  code = cf.code.data();
  ip = code;
  DISPATCH();
}
op_Ret : {
  const FunctionDef& cf = funcs[frames_.back().fn];
  const size_t nres = cf.num_results;
  for (Value* v = locals; v < sp - nres; ++v) mem_ -= v->byte_size();
  Value* results = sp - nres;
  if (results != locals) {
    for (size_t i = 0; i < nres; ++i) locals[i] = std::move(results[i]);
  }
  frames_.pop_back();
  if (frames_.empty()) {
    result.returns.reserve(nres);
    for (size_t i = 0; i < nres; ++i) result.returns.push_back(std::move(locals[i]));
    gas_ = gas;
    return result;
  }
  sp = locals + nres;
  locals = slots_.data() + frames_.back().base;
  ip = frames_.back().ret_ip;
  code = funcs[frames_.back().fn].code.data();
  DISPATCH();
}
op_Revert:
  NEED_BYTES(sp[-1]);
  revert_reason.assign(sp[-1].as_bytes().begin(), sp[-1].as_bytes().end());
  result.status = ExecStatus::kRevert;
  result.reason = std::move(revert_reason);
  goto fail;
op_SLoad : {
  Value& key = sp[-1];
  NEED_BYTES(key);
  if (key.byte_size() > kMaxKeySize) TRAP("key_too_large");
  CHARGE(key.byte_size() * gas::kStorageReadPerByte);
  std::optional<Bytes> v = host_.StorageGet(key.as_bytes());
  size_t vsize = v ? v->size() : 0;
  if (vsize > kMaxValueSize) TRAP("value_too_large");
  CHARGE(vsize * gas::kStorageReadPerByte);
  mem_ = mem_ - key.byte_size() + vsize;
  key.SetBytes(v ? std::move(*v) : Bytes());
  sp->SetInt(v ? 1 : 0);
  ++sp;
  CHECK_MEM();
  ++ip;
  goto dispatch;
}
op_SStore : {
  NEED_BYTES(sp[-2]);
  NEED_BYTES(sp[-1]);
  if (sp[-2].byte_size() > kMaxKeySize) TRAP("key_too_large");
  CHARGE((sp[-2].byte_size() + sp[-1].byte_size()) * gas::kStorageWritePerByte);
  host_.StorageSet(sp[-2].as_bytes(), sp[-1].as_bytes());
  mem_ -= sp[-2].byte_size() + sp[-1].byte_size();
  sp -= 2;
  ++ip;
  DISPATCH();
}
op_SDel:
  NEED_BYTES(sp[-1]);
  if (sp[-1].byte_size() > kMaxKeySize) TRAP("key_too_large");
  CHARGE(sp[-1].byte_size() * gas::kStorageDeletePerByte);
  host_.StorageDelete(sp[-1].as_bytes());
  mem_ -= sp[-1].byte_size();
  --sp;
  ++ip;
  DISPATCH();
op_Caller:
  sp->SetBytes(AddressBytes(host_.Caller()));
  goto push_address;
op_Origin:
  sp->SetBytes(AddressBytes(host_.Origin()));
  goto push_address;
op_Self:
  sp->SetBytes(AddressBytes(host_.Self()));
push_address:
  mem_ += sizeof(Address);
  ++sp;
  CHECK_MEM();
  ++ip;
  DISPATCH();
op_Height:
op_Time : {
  uint64_t v =
      *ip == static_cast<uint8_t>(Opcode::kHeight) ? host_.BlockHeight() : host_.BlockTime();
  if (v > static_cast<uint64_t>(INT64_MAX)) TRAP("out_of_range");
  sp->SetInt(static_cast<int64_t>(v));
  ++sp;
  ++ip;
  DISPATCH();
}
op_Emit:
  NEED_BYTES(sp[-2]);
  NEED_BYTES(sp[-1]);
  if (sp[-2].byte_size() > kMaxKeySize) TRAP("key_too_large");
  CHARGE((sp[-2].byte_size() + sp[-1].byte_size()) * gas::kEventPerByte);
  host_.EmitEvent(sp[-2].as_bytes(), sp[-1].as_bytes());
  mem_ -= sp[-2].byte_size() + sp[-1].byte_size();
  sp -= 2;
  ++ip;
  DISPATCH();
op_Balance : {
  Address a;
  NEED_BYTES(sp[-1]);
  if (!ToAddress(sp[-1], &a)) TRAP("bad_address");
  uint64_t b = host_.Balance(a);
  if (b > static_cast<uint64_t>(INT64_MAX)) TRAP("out_of_range");
  mem_ -= sp[-1].byte_size();
  sp[-1].SetInt(static_cast<int64_t>(b));
  ++ip;
  DISPATCH();
}
op_Transfer : {
  Address a;
  NEED_BYTES(sp[-2]);
  NEED_INT(sp[-1]);
  if (!ToAddress(sp[-2], &a)) TRAP("bad_address");
  if (sp[-1].as_int() < 0) TRAP("out_of_range");
  bool ok = host_.Transfer(a, static_cast<uint64_t>(sp[-1].as_int()));
  mem_ -= sp[-2].byte_size();
  sp[-2].SetInt(ok ? 1 : 0);
  --sp;
  ++ip;
  DISPATCH();
}
op_Sha256 : {
  NEED_BYTES(sp[-1]);
  CHARGE(sp[-1].byte_size() * gas::kHashPerByte);
  Hash32 h = host_.Sha256(sp[-1].as_bytes());
  mem_ = mem_ - sp[-1].byte_size() + h.size();
  sp[-1].SetBytes(Bytes(h.begin(), h.end()));
  CHECK_MEM();
  ++ip;
  DISPATCH();
}
op_Verify : {
  NEED_BYTES(sp[-3]);
  NEED_BYTES(sp[-2]);
  NEED_BYTES(sp[-1]);
  CHARGE(sp[-2].byte_size() * gas::kHashPerByte);
  bool ok = false;
  if (sp[-3].byte_size() == 32 && sp[-1].byte_size() == 64) {
    Hash32 pk;
    std::array<uint8_t, 64> sig;
    std::copy(sp[-3].as_bytes().begin(), sp[-3].as_bytes().end(), pk.begin());
    std::copy(sp[-1].as_bytes().begin(), sp[-1].as_bytes().end(), sig.begin());
    ok = host_.VerifyBip340(pk, sp[-2].as_bytes(), sig);
  }
  mem_ -= sp[-3].byte_size() + sp[-2].byte_size() + sp[-1].byte_size();
  sp[-3].SetInt(ok ? 1 : 0);
  sp -= 2;
  ++ip;
  DISPATCH();
}
op_IsKey : {
  NEED_BYTES(sp[-1]);
  bool ok = false;
  if (sp[-1].byte_size() == 32) {
    Hash32 pk;
    std::copy(sp[-1].as_bytes().begin(), sp[-1].as_bytes().end(), pk.begin());
    ok = host_.IsValidPublicKey(pk);
  }
  mem_ -= sp[-1].byte_size();
  sp[-1].SetInt(ok ? 1 : 0);
  ++ip;
  DISPATCH();
}
op_XCall : {
  const size_t nargs = ip[1], nrets = ip[2];
  Value* first = sp - (nargs + 3);  // address, function name, arguments..., gas
  Address to;
  NEED_BYTES(first[0]);
  NEED_BYTES(first[1]);
  NEED_INT(sp[-1]);
  if (!ToAddress(first[0], &to)) TRAP("bad_address");
  if (first[1].byte_size() > kMaxNameLength) TRAP("out_of_range");
  if (sp[-1].as_int() < 0) TRAP("out_of_range");
  size_t call_bytes = first[1].byte_size();
  for (size_t i = 0; i < nargs; ++i) call_bytes += first[2 + i].byte_size();
  CHARGE(call_bytes * gas::kCallPerByte);
  const uint64_t forward = std::min(static_cast<uint64_t>(sp[-1].as_int()), gas);
  CallResult r;
  if (depth_ + 1 <= kMaxCallDepth) {
    std::vector<Value> call_args(first + 2, first + 2 + nargs);
    const Bytes& name = first[1].as_bytes();
    r = host_.Call(to, std::string_view(reinterpret_cast<const char*>(name.data()), name.size()),
                   call_args, forward, depth_ + 1);
  }
  gas -= std::min(r.gas_used, forward);
  bool success = r.status == ExecStatus::kOk && r.returns.size() == nrets;
  for (size_t i = 0; success && i < nrets; ++i) {
    if (r.returns[i].byte_size() > kMaxValueSize) success = false;
  }
  for (Value* v = first; v < sp; ++v) mem_ -= v->byte_size();
  sp = first;
  for (size_t i = 0; i < nrets; ++i) {
    if (success) {
      mem_ += r.returns[i].byte_size();
      *sp = std::move(r.returns[i]);
    } else {
      sp->SetInt(0);
    }
    ++sp;
  }
  sp->SetInt(success ? 1 : 0);
  ++sp;
  CHECK_MEM();
  ip += 3;
  goto dispatch;
}
op_SetCode : {
  Address target, source;
  NEED_BYTES(sp[-2]);
  NEED_BYTES(sp[-1]);
  if (!ToAddress(sp[-2], &target) || !ToAddress(sp[-1], &source)) TRAP("bad_address");
  bool ok = host_.ReplaceCode(target, source);
  mem_ -= sp[-2].byte_size() + sp[-1].byte_size();
  sp[-2].SetInt(ok ? 1 : 0);
  --sp;
  ++ip;
  DISPATCH();
}

dispatch:
  DISPATCH();
trap:
  result.status = ExecStatus::kTrap;
  result.reason = trap_reason;
  goto fail;
out_of_gas:
  result.status = ExecStatus::kOutOfGas;
  result.reason = "out_of_gas";
  gas = 0;
fail:
  gas_ = gas;
  result.returns.clear();
  return result;

#undef TRAP
#undef CHARGE
#undef CHECK_MEM
#undef NEED_INT
#undef NEED_BYTES
#undef DISPATCH
#undef BINARY_INT
}

}  // namespace

ExecResult Execute(const Module& module, std::string_view function, std::vector<Value> args,
                   uint64_t gas_limit, Host& host, uint32_t depth) {
  ExecResult bad;
  bad.status = ExecStatus::kBadCall;
  if (depth > kMaxCallDepth) {
    bad.reason = "call_depth_exceeded";
    return bad;
  }
  const int index = module.FindFunction(function);
  if (index < 0 || !module.def().functions[index].exported) {
    bad.reason = "no_such_function";
    return bad;
  }
  const FunctionDef& f = module.def().functions[index];
  if (args.size() != f.num_params) {
    bad.reason = "bad_arguments";
    return bad;
  }
  for (const Value& a : args) {
    if (a.byte_size() > kMaxValueSize) {
      bad.reason = "bad_arguments";
      return bad;
    }
  }
  const uint64_t snapshot = host.Snapshot();
  Interpreter interp(module, host, gas_limit, depth);
  ExecResult r = interp.Run(static_cast<uint32_t>(index), args);
  // Run leaves the remaining gas in the interpreter; gas_used follows from the limit.
  r.gas_used = gas_limit - interp.gas_left();
  if (r.status != ExecStatus::kOk) host.RevertTo(snapshot);
  return r;
}

}  // namespace civitas::vm
