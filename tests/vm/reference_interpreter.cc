#include "tests/vm/reference_interpreter.h"

#include <climits>
#include <string>

#include "vm/gas.h"
#include "vm/opcodes.h"

namespace civitas::vm::reference {
namespace {

struct Frame {
  const FunctionDef* fn;
  size_t pc = 0;
  std::vector<Value> locals;
  std::vector<Value> stack;
};

struct Outcome {
  ExecStatus status;
  std::string reason;
};

class Machine {
 public:
  Machine(const Module& m, Host& host, uint64_t gas, uint32_t depth)
      : module_(m), host_(host), gas_(gas), depth_(depth) {}

  // Returns nullopt-like status kOk with results in `results`.
  Outcome Run(const FunctionDef* entry, std::vector<Value> args, std::vector<Value>* results);
  uint64_t gas() const { return gas_; }

 private:
  bool Charge(uint64_t n) {
    if (gas_ < n) {
      gas_ = 0;
      return false;
    }
    gas_ -= n;
    return true;
  }
  size_t Memory() const {
    size_t total = 0;
    for (const Frame& f : frames_) {
      for (const Value& v : f.locals) total += v.is_bytes() ? v.as_bytes().size() : 0;
      for (const Value& v : f.stack) total += v.is_bytes() ? v.as_bytes().size() : 0;
    }
    return total;
  }
  Value Pop() {
    Value v = std::move(frames_.back().stack.back());
    frames_.back().stack.pop_back();
    return v;
  }
  void Push(Value v) { frames_.back().stack.push_back(std::move(v)); }

  const Module& module_;
  Host& host_;
  uint64_t gas_;
  uint32_t depth_;
  std::vector<Frame> frames_;
};

Value BytesValue(const uint8_t* p, size_t n) { return Value::FromBytes(Bytes(p, p + n)); }

Outcome Machine::Run(const FunctionDef* entry, std::vector<Value> args,
                     std::vector<Value>* results) {
  const ModuleDef& def = module_.def();
  Frame first;
  first.fn = entry;
  first.locals = std::move(args);
  first.locals.resize(entry->locals.size());
  frames_.push_back(std::move(first));

  auto trap = [](const char* why) { return Outcome{ExecStatus::kTrap, why}; };
  const Outcome oog{ExecStatus::kOutOfGas, "out_of_gas"};
  const Outcome internal{ExecStatus::kTrap, "reference_internal_error"};

  while (true) {
    Frame& fr = frames_.back();
    const Bytes& code = fr.fn->code;
    if (fr.pc >= code.size() || code[fr.pc] >= kNumOpcodes) return internal;
    const Opcode op = static_cast<Opcode>(code[fr.pc]);
    const OpInfo& info = kOpTable[code[fr.pc]];
    const size_t isize = ImmSize(info.imm);
    if (fr.pc + 1 + isize > code.size()) return internal;
    const uint8_t* imm = code.data() + fr.pc + 1;
    size_t next = fr.pc + 1 + isize;
    uint64_t imm_u = 0;
    for (size_t i = isize; i > 0; --i) imm_u = (imm_u << 8) | imm[i - 1];
    // The validator guarantees these; the reference checks them anyway.
    if (info.pops > 0 && fr.stack.size() < static_cast<size_t>(info.pops)) return internal;
    if (!Charge(info.gas)) return oog;

    auto& st = fr.stack;
    auto top = [&](size_t i) -> Value& { return st[st.size() - 1 - i]; };
    auto int_args = [&](size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (!top(i).is_int()) return false;
      }
      return true;
    };
    auto binary = [&](int64_t r) {
      st.pop_back();
      st.back() = Value::Int(r);
    };

    switch (op) {
      case Opcode::kNop:
        break;
      case Opcode::kPop:
        Pop();
        break;
      case Opcode::kDup:
      case Opcode::kOver: {
        Value v = top(op == Opcode::kDup ? 0 : 1);
        if (!Charge(gas::Words(v.is_bytes() ? v.as_bytes().size() : 0) * gas::kCopyPerWord)) {
          return oog;
        }
        Push(std::move(v));
        break;
      }
      case Opcode::kSwap:
        std::swap(top(0), top(1));
        break;
      case Opcode::kPushI:
        Push(Value::Int(static_cast<int64_t>(imm_u)));
        break;
      case Opcode::kPushC: {
        if (imm_u >= def.constants.size()) return internal;
        const Bytes& c = def.constants[imm_u];
        if (!Charge(gas::Words(c.size()) * gas::kCopyPerWord)) return oog;
        Push(Value::FromBytes(c));
        break;
      }
      case Opcode::kGet: {
        if (imm_u >= fr.locals.size()) return internal;
        Value v = fr.locals[imm_u];
        if (!Charge(gas::Words(v.is_bytes() ? v.as_bytes().size() : 0) * gas::kCopyPerWord)) {
          return oog;
        }
        Push(std::move(v));
        break;
      }
      case Opcode::kSet:
        if (imm_u >= fr.locals.size()) return internal;
        fr.locals[imm_u] = Pop();
        break;
      case Opcode::kAdd:
      case Opcode::kSub:
      case Opcode::kMul:
      case Opcode::kDiv:
      case Opcode::kMod: {
        if (!int_args(2)) return trap("type_mismatch");
        // Exact arithmetic in 128 bits, then a range check.
        __int128 a = top(1).as_int(), b = top(0).as_int(), r = 0;
        if (op == Opcode::kAdd) r = a + b;
        if (op == Opcode::kSub) r = a - b;
        if (op == Opcode::kMul) r = a * b;
        if (op == Opcode::kDiv || op == Opcode::kMod) {
          if (b == 0) return trap("division_by_zero");
          r = op == Opcode::kDiv ? a / b : a % b;
        }
        if (r > INT64_MAX || r < INT64_MIN) return trap("integer_overflow");
        binary(static_cast<int64_t>(r));
        break;
      }
      case Opcode::kNeg:
        if (!int_args(1)) return trap("type_mismatch");
        if (top(0).as_int() == INT64_MIN) return trap("integer_overflow");
        top(0) = Value::Int(-top(0).as_int());
        break;
      case Opcode::kEq:
      case Opcode::kNe: {
        size_t words = 0;
        for (size_t i = 0; i < 2; ++i) {
          if (top(i).is_bytes()) words += gas::Words(top(i).as_bytes().size());
        }
        if (!Charge(words * gas::kCopyPerWord)) return oog;
        bool eq = top(0).type() == top(1).type() &&
                  (top(0).is_int() ? top(0).as_int() == top(1).as_int()
                                   : top(0).as_bytes() == top(1).as_bytes());
        binary((op == Opcode::kEq) == eq ? 1 : 0);
        break;
      }
      case Opcode::kLt:
      case Opcode::kLe:
      case Opcode::kGt:
      case Opcode::kGe:
      case Opcode::kAnd:
      case Opcode::kOr:
      case Opcode::kXor: {
        if (!int_args(2)) return trap("type_mismatch");
        int64_t a = top(1).as_int(), b = top(0).as_int(), r = 0;
        if (op == Opcode::kLt) r = a < b;
        if (op == Opcode::kLe) r = a <= b;
        if (op == Opcode::kGt) r = a > b;
        if (op == Opcode::kGe) r = a >= b;
        if (op == Opcode::kAnd) r = a & b;
        if (op == Opcode::kOr) r = a | b;
        if (op == Opcode::kXor) r = a ^ b;
        binary(r);
        break;
      }
      case Opcode::kBNot:
        if (!int_args(1)) return trap("type_mismatch");
        top(0) = Value::Int(~top(0).as_int());
        break;
      case Opcode::kNot:
        if (!int_args(1)) return trap("type_mismatch");
        top(0) = Value::Int(top(0).as_int() == 0);
        break;
      case Opcode::kShl:
      case Opcode::kShr: {
        if (!int_args(2)) return trap("type_mismatch");
        int64_t s = top(0).as_int();
        if (s < 0 || s >= 64) return trap("bad_shift");
        uint64_t a = static_cast<uint64_t>(top(1).as_int());
        binary(static_cast<int64_t>(op == Opcode::kShl ? a << s : a >> s));
        break;
      }
      case Opcode::kLen:
        if (!top(0).is_bytes()) return trap("type_mismatch");
        top(0) = Value::Int(static_cast<int64_t>(top(0).as_bytes().size()));
        break;
      case Opcode::kConcat: {
        if (!top(0).is_bytes() || !top(1).is_bytes()) return trap("type_mismatch");
        Bytes joined = top(1).as_bytes();
        joined.insert(joined.end(), top(0).as_bytes().begin(), top(0).as_bytes().end());
        if (joined.size() > kMaxValueSize) return trap("value_too_large");
        if (!Charge(gas::Words(joined.size()) * gas::kCopyPerWord)) return oog;
        st.pop_back();
        st.back() = Value::FromBytes(std::move(joined));
        break;
      }
      case Opcode::kSlice: {
        if (!top(2).is_bytes() || !top(1).is_int() || !top(0).is_int()) {
          return trap("type_mismatch");
        }
        const Bytes& s = top(2).as_bytes();
        __int128 start = top(1).as_int(), len = top(0).as_int();
        if (start < 0 || len < 0 || start + len > static_cast<__int128>(s.size())) {
          return trap("out_of_range");
        }
        if (!Charge(gas::Words(static_cast<size_t>(len)) * gas::kCopyPerWord)) return oog;
        Value r = BytesValue(s.data() + static_cast<size_t>(start), static_cast<size_t>(len));
        st.pop_back();
        st.pop_back();
        st.back() = std::move(r);
        break;
      }
      case Opcode::kByteAt: {
        if (!top(1).is_bytes() || !top(0).is_int()) return trap("type_mismatch");
        int64_t i = top(0).as_int();
        if (i < 0 || static_cast<uint64_t>(i) >= top(1).as_bytes().size()) {
          return trap("out_of_range");
        }
        binary(top(1).as_bytes()[static_cast<size_t>(i)]);
        break;
      }
      case Opcode::kItob: {
        if (!int_args(1)) return trap("type_mismatch");
        if (!Charge(gas::Words(8) * gas::kCopyPerWord)) return oog;
        Bytes b;
        uint64_t v = static_cast<uint64_t>(top(0).as_int());
        for (int shift = 56; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(v >> shift));
        top(0) = Value::FromBytes(std::move(b));
        break;
      }
      case Opcode::kBtoi: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        if (top(0).as_bytes().size() != 8) return trap("out_of_range");
        if (!Charge(gas::Words(8) * gas::kCopyPerWord)) return oog;
        uint64_t v = 0;
        for (uint8_t c : top(0).as_bytes()) v = v * 256 + c;
        top(0) = Value::Int(static_cast<int64_t>(v));
        break;
      }
      case Opcode::kTypeOf:
        top(0) = Value::Int(top(0).is_bytes() ? 1 : 0);
        break;
      case Opcode::kJmp:
        next = imm_u;
        break;
      case Opcode::kJz:
      case Opcode::kJnz: {
        if (!int_args(1)) return trap("type_mismatch");
        bool zero = Pop().as_int() == 0;
        if (zero == (op == Opcode::kJz)) next = imm_u;
        break;
      }
      case Opcode::kCall: {
        if (imm_u >= def.functions.size()) return internal;
        if (frames_.size() >= kMaxFrames) return trap("call_depth_exceeded");
        const FunctionDef* callee = &def.functions[imm_u];
        if (st.size() < callee->num_params) return internal;
        Frame nf;
        nf.fn = callee;
        nf.locals.assign(st.end() - callee->num_params, st.end());
        st.resize(st.size() - callee->num_params);
        nf.locals.resize(callee->locals.size());
        fr.pc = next;
        frames_.push_back(std::move(nf));
        continue;  // `fr` is invalid now
      }
      case Opcode::kRet: {
        if (st.size() != fr.fn->num_results) return internal;
        std::vector<Value> out = std::move(st);
        frames_.pop_back();
        if (frames_.empty()) {
          *results = std::move(out);
          return Outcome{ExecStatus::kOk, ""};
        }
        for (Value& v : out) Push(std::move(v));
        continue;  // the caller resumes at its saved pc
      }
      case Opcode::kRevert: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        const Bytes& b = top(0).as_bytes();
        return Outcome{ExecStatus::kRevert, std::string(b.begin(), b.end())};
      }
      case Opcode::kSLoad: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        if (top(0).as_bytes().size() > kMaxKeySize) return trap("key_too_large");
        if (!Charge(top(0).as_bytes().size() * gas::kStorageReadPerByte)) return oog;
        std::optional<Bytes> v = host_.StorageGet(top(0).as_bytes());
        Bytes got = v.value_or(Bytes());
        if (got.size() > kMaxValueSize) return trap("value_too_large");
        if (!Charge(got.size() * gas::kStorageReadPerByte)) return oog;
        top(0) = Value::FromBytes(std::move(got));
        Push(Value::Int(v.has_value()));
        break;
      }
      case Opcode::kSStore: {
        if (!top(0).is_bytes() || !top(1).is_bytes()) return trap("type_mismatch");
        if (top(1).as_bytes().size() > kMaxKeySize) return trap("key_too_large");
        uint64_t n = top(0).as_bytes().size() + top(1).as_bytes().size();
        if (!Charge(n * gas::kStorageWritePerByte)) return oog;
        host_.StorageSet(top(1).as_bytes(), top(0).as_bytes());
        Pop();
        Pop();
        break;
      }
      case Opcode::kSDel:
        if (!top(0).is_bytes()) return trap("type_mismatch");
        if (top(0).as_bytes().size() > kMaxKeySize) return trap("key_too_large");
        if (!Charge(top(0).as_bytes().size() * gas::kStorageDeletePerByte)) return oog;
        host_.StorageDelete(top(0).as_bytes());
        Pop();
        break;
      case Opcode::kCaller:
      case Opcode::kOrigin:
      case Opcode::kSelf: {
        Address a = op == Opcode::kCaller   ? host_.Caller()
                    : op == Opcode::kOrigin ? host_.Origin()
                                            : host_.Self();
        Push(BytesValue(a.data(), a.size()));
        break;
      }
      case Opcode::kHeight:
      case Opcode::kTime: {
        uint64_t v = op == Opcode::kHeight ? host_.BlockHeight() : host_.BlockTime();
        if (v > static_cast<uint64_t>(INT64_MAX)) return trap("out_of_range");
        Push(Value::Int(static_cast<int64_t>(v)));
        break;
      }
      case Opcode::kEmit: {
        if (!top(0).is_bytes() || !top(1).is_bytes()) return trap("type_mismatch");
        if (top(1).as_bytes().size() > kMaxKeySize) return trap("key_too_large");
        uint64_t n = top(0).as_bytes().size() + top(1).as_bytes().size();
        if (!Charge(n * gas::kEventPerByte)) return oog;
        host_.EmitEvent(top(1).as_bytes(), top(0).as_bytes());
        Pop();
        Pop();
        break;
      }
      case Opcode::kBalance: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        if (top(0).as_bytes().size() != 20) return trap("bad_address");
        Address a;
        std::copy(top(0).as_bytes().begin(), top(0).as_bytes().end(), a.begin());
        uint64_t b = host_.Balance(a);
        if (b > static_cast<uint64_t>(INT64_MAX)) return trap("out_of_range");
        top(0) = Value::Int(static_cast<int64_t>(b));
        break;
      }
      case Opcode::kTransfer: {
        if (!top(1).is_bytes() || !top(0).is_int()) return trap("type_mismatch");
        if (top(1).as_bytes().size() != 20) return trap("bad_address");
        if (top(0).as_int() < 0) return trap("out_of_range");
        Address a;
        std::copy(top(1).as_bytes().begin(), top(1).as_bytes().end(), a.begin());
        bool ok = host_.Transfer(a, static_cast<uint64_t>(top(0).as_int()));
        binary(ok ? 1 : 0);
        break;
      }
      case Opcode::kSetCode: {
        if (!top(1).is_bytes() || !top(0).is_bytes()) return trap("type_mismatch");
        if (top(1).as_bytes().size() != 20 || top(0).as_bytes().size() != 20) {
          return trap("bad_address");
        }
        Address target, source;
        std::copy(top(1).as_bytes().begin(), top(1).as_bytes().end(), target.begin());
        std::copy(top(0).as_bytes().begin(), top(0).as_bytes().end(), source.begin());
        bool ok = host_.ReplaceCode(target, source);
        binary(ok ? 1 : 0);
        break;
      }
      case Opcode::kSha256: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        if (!Charge(top(0).as_bytes().size() * gas::kHashPerByte)) return oog;
        Hash32 h = host_.Sha256(top(0).as_bytes());
        top(0) = BytesValue(h.data(), h.size());
        break;
      }
      case Opcode::kVerify: {
        if (!top(0).is_bytes() || !top(1).is_bytes() || !top(2).is_bytes()) {
          return trap("type_mismatch");
        }
        if (!Charge(top(1).as_bytes().size() * gas::kHashPerByte)) return oog;
        bool ok = false;
        if (top(2).as_bytes().size() == 32 && top(0).as_bytes().size() == 64) {
          Hash32 pk;
          std::array<uint8_t, 64> sig;
          std::copy(top(2).as_bytes().begin(), top(2).as_bytes().end(), pk.begin());
          std::copy(top(0).as_bytes().begin(), top(0).as_bytes().end(), sig.begin());
          ok = host_.VerifyBip340(pk, top(1).as_bytes(), sig);
        }
        Pop();
        Pop();
        top(0) = Value::Int(ok ? 1 : 0);
        break;
      }
      case Opcode::kIsKey: {
        if (!top(0).is_bytes()) return trap("type_mismatch");
        bool ok = false;
        if (top(0).as_bytes().size() == 32) {
          Hash32 pk;
          std::copy(top(0).as_bytes().begin(), top(0).as_bytes().end(), pk.begin());
          ok = host_.IsValidPublicKey(pk);
        }
        top(0) = Value::Int(ok ? 1 : 0);
        break;
      }
      case Opcode::kXCall: {
        const size_t nargs = imm[0], nrets = imm[1];
        if (st.size() < nargs + 3) return internal;
        Value& addr = top(nargs + 2);
        Value& name = top(nargs + 1);
        if (!addr.is_bytes() || !name.is_bytes() || !top(0).is_int()) {
          return trap("type_mismatch");
        }
        if (addr.as_bytes().size() != 20) return trap("bad_address");
        if (name.as_bytes().size() > kMaxNameLength) return trap("out_of_range");
        if (top(0).as_int() < 0) return trap("out_of_range");
        std::vector<Value> call_args(st.end() - 1 - nargs, st.end() - 1);
        uint64_t bytes = name.as_bytes().size();
        for (const Value& a : call_args) bytes += a.is_bytes() ? a.as_bytes().size() : 0;
        if (!Charge(bytes * gas::kCallPerByte)) return oog;
        uint64_t forward = std::min<uint64_t>(static_cast<uint64_t>(top(0).as_int()), gas_);
        CallResult r;
        if (depth_ < kMaxCallDepth) {
          Address to;
          std::copy(addr.as_bytes().begin(), addr.as_bytes().end(), to.begin());
          std::string fname(name.as_bytes().begin(), name.as_bytes().end());
          r = host_.Call(to, fname, call_args, forward, depth_ + 1);
        }
        gas_ -= std::min(r.gas_used, forward);
        bool ok = r.status == ExecStatus::kOk && r.returns.size() == nrets;
        for (const Value& v : r.returns) {
          if (v.is_bytes() && v.as_bytes().size() > kMaxValueSize) ok = false;
        }
        st.resize(st.size() - (nargs + 3));
        for (size_t i = 0; i < nrets; ++i) Push(ok ? r.returns[i] : Value::Int(0));
        Push(Value::Int(ok ? 1 : 0));
        break;
      }
    }
    if (Memory() > kMaxMemory) return trap("memory_limit");
    frames_.back().pc = next;
  }
}

}  // namespace

ExecResult Execute(const Module& module, std::string_view function, std::vector<Value> args,
                   uint64_t gas_limit, Host& host, uint32_t depth) {
  ExecResult result;
  result.status = ExecStatus::kBadCall;
  if (depth > kMaxCallDepth) {
    result.reason = "call_depth_exceeded";
    return result;
  }
  const FunctionDef* fn = nullptr;
  for (const FunctionDef& f : module.def().functions) {
    if (f.name == function && f.exported) fn = &f;
  }
  if (fn == nullptr) {
    result.reason = "no_such_function";
    return result;
  }
  bool args_ok = args.size() == fn->num_params;
  for (const Value& a : args) args_ok = args_ok && a.byte_size() <= kMaxValueSize;
  if (!args_ok) {
    result.reason = "bad_arguments";
    return result;
  }
  uint64_t snapshot = host.Snapshot();
  Machine machine(module, host, gas_limit, depth);
  Outcome o = machine.Run(fn, std::move(args), &result.returns);
  result.status = o.status;
  result.reason = o.reason;
  result.gas_used = gas_limit - machine.gas();
  if (o.status != ExecStatus::kOk) {
    result.returns.clear();
    host.RevertTo(snapshot);
  }
  return result;
}

}  // namespace civitas::vm::reference
