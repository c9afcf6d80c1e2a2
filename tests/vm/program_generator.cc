#include "tests/vm/program_generator.h"

#include <algorithm>
#include <climits>
#include <string>

#include "vm/opcodes.h"

namespace civitas::vm::testing {
namespace {

// splitmix64: tiny, and the same numbers everywhere (unlike <random> distributions).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

 private:
  uint64_t s_;
};

enum class T : uint8_t { kInt, kBytes, kAny };

constexpr int kNumFuncs = 4;
constexpr size_t kCounters = 2;  // locals c0, c1 drive loops at nesting depth 0 and 1

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  GeneratedProgram Generate();

 private:
  void Emit(Opcode op) { code().push_back(static_cast<uint8_t>(op)); }
  void U16(size_t v) {
    code().push_back(static_cast<uint8_t>(v));
    code().push_back(static_cast<uint8_t>(v >> 8));
  }
  Bytes& code() { return def_.functions[fn_].code; }
  size_t Intern(const Bytes& b) {
    auto it = std::find(def_.constants.begin(), def_.constants.end(), b);
    if (it != def_.constants.end()) return static_cast<size_t>(it - def_.constants.begin());
    def_.constants.push_back(b);
    return def_.constants.size() - 1;
  }

  void Push(T t) {
    stack_.push_back(t);
    low_ = std::min(low_, stack_.size());
  }
  void PopN(size_t n) {
    stack_.resize(stack_.size() - n);
    low_ = std::min(low_, stack_.size());
  }
  bool Is(size_t i, T t) const {
    return i < stack_.size() &&
           (stack_[stack_.size() - 1 - i] == t || stack_[stack_.size() - 1 - i] == T::kAny);
  }
  size_t h() const { return stack_.size(); }

  void PushInt(int64_t v) {
    Emit(Opcode::kPushI);
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) code().push_back(static_cast<uint8_t>(u >> (8 * i)));
    Push(T::kInt);
  }
  void PushConst(const Bytes& b) {
    Emit(Opcode::kPushC);
    U16(Intern(b));
    Push(T::kBytes);
  }
  int64_t RandomInt();
  Bytes RandomBytes();
  Bytes Key() {
    static const Bytes kKeys[] = {{'k', 'e', 'y'}, {'k', 'e', 'y', '2'}, {'a'}, {}, Bytes(32, 1)};
    return rng_.Chance(95) ? kKeys[rng_.Below(std::size(kKeys))] : RandomBytes();
  }
  void PushRandomValue() {
    if (rng_.Chance(60)) {
      PushInt(RandomInt());
    } else {
      PushConst(RandomBytes());
    }
  }
  void Simple(Opcode op, int pops, T result) {
    Emit(op);
    PopN(static_cast<size_t>(pops));
    Push(result);
  }
  // Brings the stack to exactly `height` entries.
  void Trim(size_t height) {
    while (h() > height) {
      Emit(Opcode::kPop);
      PopN(1);
    }
    while (h() < height) PushRandomValue();
  }

  void Block(int depth, int length);
  void If(int depth);
  void Loop(int depth);
  void Instruction();
  void Function(size_t index);

  Rng rng_;
  ModuleDef def_;
  size_t fn_ = 0;
  std::vector<T> stack_;
  size_t low_ = 0;  // lowest height since the enclosing construct began
};

int64_t Generator::RandomInt() {
  static constexpr int64_t kInteresting[] = {
      0, 1, 2, 3, 7, -1, 8, 63, 64, 100, 255, 1000, INT64_MAX, INT64_MIN, INT64_MAX / 2, 4096};
  if (rng_.Chance(80)) return kInteresting[rng_.Below(std::size(kInteresting))];
  return static_cast<int64_t>(rng_.Next());
}

Bytes Generator::RandomBytes() {
  switch (rng_.Below(10)) {
    case 0:
      return {};
    case 1:
      return {'a'};
    case 2:
      return {'k', 'e', 'y'};
    case 3:
      return {'k', 'e', 'y', '2'};
    case 4: {
      Address a = GeneratedSelfAddress();
      return Bytes(a.begin(), a.end());
    }
    case 5:
      return Bytes(20, 0x42);
    case 6:
      return Bytes(32, 0x11);
    case 7:
      return Bytes(64, static_cast<uint8_t>(rng_.Chance(50) ? 0x11 : 0x12));
    case 8:
      return Bytes(100, 0x61);
    default: {
      std::string name = "f" + std::to_string(rng_.Below(kNumFuncs + 1));
      return Bytes(name.begin(), name.end());
    }
  }
}

void Generator::Block(int depth, int length) {
  for (int i = 0; i < length; ++i) {
    uint64_t r = rng_.Below(100);
    if (r < 6 && depth < 2) {
      If(depth);
    } else if (r < 10 && depth < static_cast<int>(kCounters)) {
      Loop(depth);
    } else {
      Instruction();
    }
    if (h() > 24) Trim(12);
  }
}

void Generator::If(int depth) {
  if (!Is(0, T::kInt) || rng_.Chance(50)) PushInt(rng_.Chance(50) ? 0 : 1);
  Emit(Opcode::kJz);
  const size_t else_patch = code().size();
  U16(0);
  PopN(1);
  const size_t h0 = h();
  const size_t outer_low = low_;
  const std::vector<T> entry = stack_;
  low_ = h0;
  Block(depth + 1, 1 + static_cast<int>(rng_.Below(5)));
  Trim(h0);
  size_t low = low_;
  std::vector<T> then_types = stack_;
  Emit(Opcode::kJmp);
  const size_t end_patch = code().size();
  U16(0);
  code()[else_patch] = static_cast<uint8_t>(code().size());
  code()[else_patch + 1] = static_cast<uint8_t>(code().size() >> 8);
  stack_ = entry;
  low_ = h0;
  Block(depth + 1, 1 + static_cast<int>(rng_.Below(5)));
  Trim(h0);
  low = std::min(low, low_);
  code()[end_patch] = static_cast<uint8_t>(code().size());
  code()[end_patch + 1] = static_cast<uint8_t>(code().size() >> 8);
  for (size_t i = 0; i < h0; ++i) {
    if (stack_[i] != then_types[i] || i >= low) stack_[i] = T::kAny;
  }
  low_ = std::min({outer_low, low, h0});
}

void Generator::Loop(int depth) {
  const uint8_t counter = static_cast<uint8_t>(def_.functions[fn_].num_params + depth);
  PushInt(static_cast<int64_t>(rng_.Below(6)));
  Emit(Opcode::kSet);
  code().push_back(counter);
  PopN(1);
  const size_t h0 = h();
  const size_t outer_low = low_;
  // Whatever the body does below h0 is unknown at the loop head.
  for (size_t i = 0; i < h0; ++i) stack_[i] = T::kAny;
  const size_t top = code().size();
  Emit(Opcode::kGet);
  code().push_back(counter);
  Emit(Opcode::kJz);
  const size_t end_patch = code().size();
  U16(0);
  low_ = h0;
  Block(depth + 1, 1 + static_cast<int>(rng_.Below(6)));
  Trim(h0);
  Emit(Opcode::kGet);
  code().push_back(counter);
  PushInt(1);
  Emit(Opcode::kSub);
  Emit(Opcode::kSet);
  code().push_back(counter);
  PopN(1);
  Emit(Opcode::kJmp);
  U16(top);
  code()[end_patch] = static_cast<uint8_t>(code().size());
  code()[end_patch + 1] = static_cast<uint8_t>(code().size() >> 8);
  for (size_t i = 0; i < h0; ++i) stack_[i] = T::kAny;
  low_ = std::min({outer_low, low_, h0});
}

void Generator::Instruction() {
  const FunctionDef& f = def_.functions[fn_];
  const bool careless = rng_.Chance(4);  // ignore types: reach type_mismatch traps
  auto ints = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (!careless && !Is(i, T::kInt)) return false;
    }
    return h() >= n;
  };
  auto bytes = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (!careless && !Is(i, T::kBytes)) return false;
    }
    return h() >= n;
  };
  switch (rng_.Below(27)) {
    case 0:
      PushInt(RandomInt());
      return;
    case 1:
      PushConst(RandomBytes());
      return;
    case 2: {
      uint8_t idx = static_cast<uint8_t>(rng_.Below(f.locals.size()));
      Emit(Opcode::kGet);
      code().push_back(idx);
      Push(T::kAny);
      return;
    }
    case 3: {
      // Parameters and the extra locals, never the loop counters.
      std::vector<uint8_t> choices;
      for (size_t i = 0; i < f.locals.size(); ++i) {
        if (i < f.num_params || i >= f.num_params + kCounters) {
          choices.push_back(static_cast<uint8_t>(i));
        }
      }
      if (h() == 0 || choices.empty()) return;
      Emit(Opcode::kSet);
      code().push_back(choices[rng_.Below(choices.size())]);
      PopN(1);
      return;
    }
    case 4: {
      if (h() < 2) return PushRandomValue();
      static constexpr Opcode kOps[] = {Opcode::kDup, Opcode::kOver, Opcode::kSwap, Opcode::kPop,
                                        Opcode::kNop};
      Opcode op = kOps[rng_.Below(std::size(kOps))];
      Emit(op);
      T a = stack_[h() - 1], b = stack_[h() - 2];
      if (op == Opcode::kDup) Push(a);
      if (op == Opcode::kOver) Push(b);
      if (op == Opcode::kSwap) std::swap(stack_[h() - 1], stack_[h() - 2]);
      if (op == Opcode::kPop) PopN(1);
      return;
    }
    case 5:
    case 6: {
      static constexpr Opcode kOps[] = {Opcode::kAdd, Opcode::kSub, Opcode::kMul, Opcode::kDiv,
                                        Opcode::kMod, Opcode::kLt,  Opcode::kLe,  Opcode::kGt,
                                        Opcode::kGe,  Opcode::kAnd, Opcode::kOr,  Opcode::kXor,
                                        Opcode::kShl, Opcode::kShr};
      if (!ints(2)) return PushInt(RandomInt());
      Simple(kOps[rng_.Below(std::size(kOps))], 2, T::kInt);
      return;
    }
    case 7: {
      static constexpr Opcode kOps[] = {Opcode::kNeg, Opcode::kBNot, Opcode::kNot, Opcode::kItob};
      if (!ints(1)) return PushInt(RandomInt());
      Opcode op = kOps[rng_.Below(std::size(kOps))];
      Simple(op, 1, op == Opcode::kItob ? T::kBytes : T::kInt);
      return;
    }
    case 8:
      if (h() < 2) return PushRandomValue();
      Simple(rng_.Chance(50) ? Opcode::kEq : Opcode::kNe, 2, T::kInt);
      return;
    case 9:
      if (h() < 1) return PushRandomValue();
      if (bytes(1) && rng_.Chance(70)) return Simple(Opcode::kLen, 1, T::kInt);
      return Simple(Opcode::kTypeOf, 1, T::kInt);
    case 10:
      if (!bytes(2)) return PushConst(RandomBytes());
      return Simple(Opcode::kConcat, 2, T::kBytes);
    case 11:
      if (!bytes(1)) return PushConst(RandomBytes());
      PushInt(static_cast<int64_t>(rng_.Below(4)));
      PushInt(static_cast<int64_t>(rng_.Below(4)));
      return Simple(Opcode::kSlice, 3, T::kBytes);
    case 12:
      if (!bytes(1)) return PushConst(RandomBytes());
      PushInt(static_cast<int64_t>(rng_.Below(3)));
      return Simple(Opcode::kByteAt, 2, T::kInt);
    case 13:
      if (!bytes(1)) return PushInt(RandomInt());
      return Simple(Opcode::kBtoi, 1, T::kInt);
    case 14:
      PushConst(Key());
      Emit(Opcode::kSLoad);
      PopN(1);
      Push(T::kBytes);
      Push(T::kInt);
      return;
    case 15:
      PushConst(Key());
      if (bytes(2) && rng_.Chance(50)) {
        Emit(Opcode::kSwap);
      } else {
        PushConst(RandomBytes());
      }
      Emit(Opcode::kSStore);
      PopN(2);
      return;
    case 16:
      PushConst(Key());
      Emit(Opcode::kSDel);
      PopN(1);
      return;
    case 17: {
      static constexpr Opcode kOps[] = {Opcode::kCaller, Opcode::kOrigin, Opcode::kSelf,
                                        Opcode::kHeight, Opcode::kTime};
      Opcode op = kOps[rng_.Below(std::size(kOps))];
      Emit(op);
      Push(op == Opcode::kHeight || op == Opcode::kTime ? T::kInt : T::kBytes);
      return;
    }
    case 18:
      PushConst(rng_.Chance(95) ? Bytes{'t', 'o', 'p', 'i', 'c'} : RandomBytes());
      PushConst(RandomBytes());
      Emit(Opcode::kEmit);
      PopN(2);
      return;
    case 19:
      PushConst(rng_.Chance(85) ? Bytes(20, 0x42) : RandomBytes());
      return Simple(Opcode::kBalance, 1, T::kInt);
    case 20:
      PushConst(rng_.Chance(80) ? Bytes(20, 0x42) : RandomBytes());
      PushInt(static_cast<int64_t>(rng_.Below(30)) - 2);
      return Simple(Opcode::kTransfer, 2, T::kInt);
    case 21:
      if (!bytes(1)) return PushConst(RandomBytes());
      return Simple(Opcode::kSha256, 1, T::kBytes);
    case 22:
      PushConst(Bytes(32, 0x11));
      PushConst(RandomBytes());
      PushConst(Bytes(64, static_cast<uint8_t>(rng_.Chance(50) ? 0x11 : 0x12)));
      return Simple(Opcode::kVerify, 3, T::kInt);
    case 23: {
      // Calls go forward, except for a rare recursive call.
      size_t callee = fn_ + (rng_.Chance(10) ? 0 : 1 + rng_.Below(kNumFuncs));
      if (callee >= def_.functions.size() || (callee == fn_ && !rng_.Chance(30))) return;
      for (size_t i = 0; i < def_.functions[callee].num_params; ++i) PushRandomValue();
      Emit(Opcode::kCall);
      U16(callee);
      PopN(def_.functions[callee].num_params);
      for (size_t i = 0; i < def_.functions[callee].num_results; ++i) Push(T::kAny);
      return;
    }
    case 24: {
      if (!rng_.Chance(40)) return;
      const uint8_t nargs = static_cast<uint8_t>(rng_.Below(3));
      const uint8_t nrets = static_cast<uint8_t>(rng_.Below(3));
      Address self = GeneratedSelfAddress();
      PushConst(rng_.Chance(90) ? Bytes(self.begin(), self.end()) : RandomBytes());
      std::string name = "f" + std::to_string(rng_.Below(kNumFuncs + 1));
      PushConst(Bytes(name.begin(), name.end()));
      for (int i = 0; i < nargs; ++i) PushRandomValue();
      PushInt(static_cast<int64_t>(rng_.Below(5000)));
      Emit(Opcode::kXCall);
      code().push_back(nargs);
      code().push_back(nrets);
      PopN(nargs + 3u);
      for (int i = 0; i < nrets; ++i) Push(T::kAny);
      Push(T::kInt);
      return;
    }
    case 25:
      PushConst(rng_.Chance(40)   ? Bytes(32, 0x11)
                : rng_.Chance(50) ? Bytes(32, 0xf5)
                                  : RandomBytes());
      return Simple(Opcode::kIsKey, 1, T::kInt);
    default:
      PushRandomValue();
      return;
  }
}

void Generator::Function(size_t index) {
  fn_ = index;
  stack_.clear();
  low_ = 0;
  Block(0, 4 + static_cast<int>(rng_.Below(30)));
  const FunctionDef& f = def_.functions[fn_];
  if (rng_.Chance(4)) {
    PushConst(Bytes{'n', 'o'});
    Emit(Opcode::kRevert);
    return;
  }
  Trim(f.num_results);
  Emit(Opcode::kRet);
}

GeneratedProgram Generator::Generate() {
  const size_t nfunc = 1 + rng_.Below(kNumFuncs);
  for (size_t i = 0; i < nfunc; ++i) {
    FunctionDef f;
    f.name = "f" + std::to_string(i);
    f.exported = i == 0 || rng_.Chance(70);
    f.num_params = static_cast<uint8_t>(rng_.Below(4));
    f.num_results = static_cast<uint8_t>(rng_.Below(3));
    for (size_t p = 0; p < f.num_params; ++p) f.locals.push_back("p" + std::to_string(p));
    for (size_t c = 0; c < kCounters; ++c) f.locals.push_back("c" + std::to_string(c));
    const size_t extra = rng_.Below(3);
    for (size_t x = 0; x < extra; ++x) f.locals.push_back("x" + std::to_string(x));
    def_.functions.push_back(std::move(f));
  }
  for (size_t i = 0; i < nfunc; ++i) Function(i);

  GeneratedProgram p;
  for (size_t i = 0; i < def_.functions[0].num_params; ++i) {
    if (rng_.Chance(60)) {
      p.args.push_back(Value::Int(RandomInt()));
    } else {
      p.args.push_back(Value::FromBytes(RandomBytes()));
    }
  }
  static constexpr uint64_t kLimits[] = {300, 5000, 50000, 200000, 1000000};
  p.gas_limit = kLimits[rng_.Below(std::size(kLimits))];
  p.module = EncodeModule(def_);
  return p;
}

}  // namespace

Address GeneratedSelfAddress() {
  Address a;
  a.fill(0x5e);
  return a;
}

GeneratedProgram GenerateProgram(uint64_t seed) { return Generator(seed).Generate(); }

}  // namespace civitas::vm::testing
