// Binary module format, value encoding and small helpers of vm.h. The format is specified in
// docs/VM.md ("Module format"); keep the two in step.

#include <cstring>
#include <string>

#include "vm/opcodes.h"
#include "vm/vm.h"

namespace civitas::vm {
namespace {

constexpr uint8_t kMagic[4] = {'C', 'V', 'M', 0};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagExported = 1;

// Bounds-checked little-endian reader. Every read fails (and sticks) past the end.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  bool U8(uint8_t& v) {
    if (data_.size() - pos_ < 1) return Fail();
    v = data_[pos_++];
    return true;
  }
  bool U16(uint16_t& v) {
    if (data_.size() - pos_ < 2) return Fail();
    v = static_cast<uint16_t>(data_[pos_] | (data_[pos_ + 1] << 8));
    pos_ += 2;
    return true;
  }
  bool U64(uint64_t& v) {
    if (data_.size() - pos_ < 8) return Fail();
    v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | data_[pos_ + i];
    pos_ += 8;
    return true;
  }
  bool Take(size_t n, Bytes& out) {
    if (data_.size() - pos_ < n) return Fail();
    out.assign(data_.begin() + pos_, data_.begin() + pos_ + n);
    pos_ += n;
    return true;
  }
  bool Str(size_t n, std::string& out) {
    if (data_.size() - pos_ < n) return Fail();
    out.assign(reinterpret_cast<const char*>(data_.data()) + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  bool Fail() {
    pos_ = data_.size();
    return false;
  }
  ByteView data_;
  size_t pos_ = 0;
};

void PutU16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutStr(Bytes& out, std::string_view s) {
  out.push_back(static_cast<uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

template <typename T>
Result<T> Err(std::string reason, std::string message) {
  return Result<T>::Error(std::move(reason), std::move(message));
}

}  // namespace

std::string Value::ToString() const {
  if (is_int()) return std::to_string(int_);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (uint8_t b : bytes_) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Bytes EncodeValues(std::span<const Value> values) {
  Bytes out;
  out.push_back(static_cast<uint8_t>(values.size()));
  for (const Value& v : values) {
    if (v.is_int()) {
      out.push_back(0);
      PutU64(out, static_cast<uint64_t>(v.as_int()));
    } else {
      out.push_back(1);
      PutU16(out, static_cast<uint16_t>(v.as_bytes().size()));
      out.insert(out.end(), v.as_bytes().begin(), v.as_bytes().end());
    }
  }
  return out;
}

Result<std::vector<Value>> DecodeValues(ByteView data) {
  using R = std::vector<Value>;
  Reader r(data);
  uint8_t count;
  if (!r.U8(count)) return Err<R>("truncated", "empty value list");
  std::vector<Value> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    uint8_t tag;
    if (!r.U8(tag)) return Err<R>("truncated", "value list ends early");
    if (tag == 0) {
      uint64_t v;
      if (!r.U64(v)) return Err<R>("truncated", "integer value ends early");
      out.push_back(Value::Int(static_cast<int64_t>(v)));
    } else if (tag == 1) {
      uint16_t len;
      Bytes b;
      if (!r.U16(len)) return Err<R>("truncated", "byte value ends early");
      if (len > kMaxValueSize) {
        return Err<R>("value_too_large", "byte value of " + std::to_string(len) + " bytes");
      }
      if (!r.Take(len, b)) return Err<R>("truncated", "byte value ends early");
      out.push_back(Value::FromBytes(std::move(b)));
    } else {
      return Err<R>("bad_tag", "unknown value tag " + std::to_string(tag));
    }
  }
  if (!r.done()) return Err<R>("trailing_bytes", "bytes after the value list");
  return out;
}

Bytes EncodeModule(const ModuleDef& def) {
  Bytes out(std::begin(kMagic), std::end(kMagic));
  out.push_back(kVersion);
  PutU16(out, static_cast<uint16_t>(def.constants.size()));
  for (const Bytes& c : def.constants) {
    PutU16(out, static_cast<uint16_t>(c.size()));
    out.insert(out.end(), c.begin(), c.end());
  }
  PutU16(out, static_cast<uint16_t>(def.functions.size()));
  for (const FunctionDef& f : def.functions) {
    PutStr(out, f.name);
    out.push_back(f.exported ? kFlagExported : 0);
    out.push_back(f.num_params);
    out.push_back(f.num_results);
    out.push_back(static_cast<uint8_t>(f.locals.size()));
    for (const std::string& l : f.locals) PutStr(out, l);
    PutU16(out, static_cast<uint16_t>(f.code.size()));
    out.insert(out.end(), f.code.begin(), f.code.end());
  }
  return out;
}

Result<ModuleDef> DecodeModule(ByteView data) {
  using R = ModuleDef;
  if (data.size() > kMaxModuleSize) {
    return Err<R>("module_too_large",
                  std::to_string(data.size()) + " bytes, limit " + std::to_string(kMaxModuleSize));
  }
  Reader r(data);
  Bytes magic;
  if (!r.Take(4, magic) || std::memcmp(magic.data(), kMagic, 4) != 0) {
    return Err<R>("bad_magic", "not a Civitas VM module (magic 43564d00 expected)");
  }
  uint8_t version;
  if (!r.U8(version)) return Err<R>("truncated", "no version byte");
  if (version != kVersion) {
    return Err<R>("bad_version", "module version " + std::to_string(version) + ", expected 1");
  }
  ModuleDef def;
  uint16_t nconst;
  if (!r.U16(nconst)) return Err<R>("truncated", "no constant count");
  if (nconst > kMaxConstants) {
    return Err<R>("too_many_constants", std::to_string(nconst) + " constants");
  }
  for (int i = 0; i < nconst; ++i) {
    uint16_t len;
    Bytes b;
    if (!r.U16(len)) return Err<R>("truncated", "constant " + std::to_string(i));
    if (len > kMaxValueSize) {
      return Err<R>("constant_too_large",
                    "constant " + std::to_string(i) + " has " + std::to_string(len) + " bytes");
    }
    if (!r.Take(len, b)) return Err<R>("truncated", "constant " + std::to_string(i));
    def.constants.push_back(std::move(b));
  }
  uint16_t nfunc;
  if (!r.U16(nfunc)) return Err<R>("truncated", "no function count");
  if (nfunc == 0) return Err<R>("no_functions", "a module needs at least one function");
  if (nfunc > kMaxFunctions) {
    return Err<R>("too_many_functions", std::to_string(nfunc) + " functions");
  }
  for (int i = 0; i < nfunc; ++i) {
    FunctionDef f;
    std::string where = "function " + std::to_string(i);
    uint8_t name_len, flags, nlocals;
    if (!r.U8(name_len) || !r.Str(name_len, f.name)) return Err<R>("truncated", where);
    if (!r.U8(flags)) return Err<R>("truncated", where);
    if ((flags & ~kFlagExported) != 0) {
      return Err<R>("bad_flags", where + " has unknown flags " + std::to_string(flags));
    }
    f.exported = (flags & kFlagExported) != 0;
    if (!r.U8(f.num_params) || !r.U8(f.num_results) || !r.U8(nlocals)) {
      return Err<R>("truncated", where);
    }
    for (int j = 0; j < nlocals; ++j) {
      uint8_t len;
      std::string name;
      if (!r.U8(len) || !r.Str(len, name)) return Err<R>("truncated", where + " locals");
      f.locals.push_back(std::move(name));
    }
    uint16_t code_len;
    if (!r.U16(code_len) || !r.Take(code_len, f.code)) return Err<R>("truncated", where + " code");
    def.functions.push_back(std::move(f));
  }
  if (!r.done()) {
    return Err<R>("trailing_bytes",
                  "bytes after the last function at offset " + std::to_string(r.pos()));
  }
  return def;
}

int Module::FindFunction(std::string_view name) const {
  for (size_t i = 0; i < def_.functions.size(); ++i) {
    if (def_.functions[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view ExecStatusName(ExecStatus s) {
  switch (s) {
    case ExecStatus::kOk:
      return "ok";
    case ExecStatus::kRevert:
      return "revert";
    case ExecStatus::kOutOfGas:
      return "out_of_gas";
    case ExecStatus::kTrap:
      return "trap";
    case ExecStatus::kBadCall:
      return "bad_call";
  }
  return "unknown";
}

std::optional<Opcode> OpcodeByMnemonic(std::string_view mnemonic) {
  for (size_t i = 0; i < kNumOpcodes; ++i) {
    if (kOpTable[i].mnemonic == mnemonic) return static_cast<Opcode>(i);
  }
  return std::nullopt;
}

}  // namespace civitas::vm
