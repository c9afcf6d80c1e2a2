// The assembler: source text -> tokens per line -> functions -> module bytes, then the VM's own
// validator has the last word.

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/asm/assembler.h"
#include "vm/opcodes.h"

namespace civitas::casm {
namespace {

using vm::Bytes;
using vm::Opcode;

enum class Tok { kIdent, kInt, kBytes, kPunct };

struct Token {
  Tok kind;
  std::string text;  // identifier or punctuation
  int64_t value = 0;
  Bytes bytes;
};

Token MakeTok(Tok kind, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  return t;
}

struct Line {
  int number;
  std::vector<Token> tokens;
};

struct FuncSrc {
  int line = 0;
  std::string name;
  bool exported = false;
  size_t num_params = 0;
  int64_t num_results = 0;
  std::vector<std::string> locals;
  std::vector<Line> body;
};

struct Error {
  int line;
  std::string message;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsIdentChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && ((c >= '0' && c <= '9') || c == '.'));
}

// Splits one line into tokens; a ';' outside a string starts a comment.
std::optional<Error> Lex(std::string_view s, int line, std::vector<Token>* out) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == ';') {
      break;
    } else if (c == '(' || c == ')' || c == ',' || c == ':') {
      out->push_back(MakeTok(Tok::kPunct, std::string(1, c)));
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '>') {
      out->push_back(MakeTok(Tok::kPunct, "->"));
      i += 2;
    } else if (c == '"') {
      Bytes b;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i++];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d != '\\') {
          b.push_back(static_cast<uint8_t>(d));
          continue;
        }
        if (i >= s.size()) break;
        char e = s[i++];
        switch (e) {
          case 'n':
            b.push_back('\n');
            break;
          case 't':
            b.push_back('\t');
            break;
          case '\\':
          case '"':
            b.push_back(static_cast<uint8_t>(e));
            break;
          case 'x': {
            if (i + 2 > s.size() || HexDigit(s[i]) < 0 || HexDigit(s[i + 1]) < 0) {
              return Error{line, "bad \\x escape"};
            }
            b.push_back(static_cast<uint8_t>(HexDigit(s[i]) * 16 + HexDigit(s[i + 1])));
            i += 2;
            break;
          }
          default:
            return Error{line, std::string("unknown escape \\") + e};
        }
      }
      if (!closed) return Error{line, "unterminated string"};
      Token t = MakeTok(Tok::kBytes, "");
      t.bytes = std::move(b);
      out->push_back(std::move(t));
    } else if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      size_t j = i + 2;
      Bytes b;
      while (j < s.size() && HexDigit(s[j]) >= 0) ++j;
      if ((j - i - 2) % 2 != 0) return Error{line, "hex bytes need an even number of digits"};
      for (size_t k = i + 2; k < j; k += 2) {
        b.push_back(static_cast<uint8_t>(HexDigit(s[k]) * 16 + HexDigit(s[k + 1])));
      }
      Token t = MakeTok(Tok::kBytes, "");
      t.bytes = std::move(b);
      out->push_back(std::move(t));
      i = j;
    } else if ((c >= '0' && c <= '9') || c == '-') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data() + i, s.data() + j, v);
      if (ec != std::errc() || p != s.data() + j) {
        return Error{line, "bad integer '" + std::string(s.substr(i, j - i)) + "'"};
      }
      Token t = MakeTok(Tok::kInt, std::string(s.substr(i, j - i)));
      t.value = v;
      out->push_back(std::move(t));
      i = j;
    } else if (IsIdentChar(c, true)) {
      size_t j = i + 1;
      while (j < s.size() && IsIdentChar(s[j], false)) ++j;
      out->push_back(MakeTok(Tok::kIdent, std::string(s.substr(i, j - i))));
      i = j;
    } else {
      return Error{line, std::string("unexpected character '") + c + "'"};
    }
  }
  return std::nullopt;
}

bool IsPunct(const Token& t, std::string_view p) { return t.kind == Tok::kPunct && t.text == p; }

// Parses "NAME(a, b) -> N" starting at tokens[i].
std::optional<Error> ParseHeader(const Line& l, size_t i, FuncSrc* f) {
  const auto& t = l.tokens;
  if (i >= t.size() || t[i].kind != Tok::kIdent) return Error{l.number, "function name expected"};
  f->name = t[i++].text;
  if (i >= t.size() || !IsPunct(t[i], "(")) return Error{l.number, "'(' expected"};
  ++i;
  bool need_name = false;
  while (i < t.size() && !IsPunct(t[i], ")")) {
    if (t[i].kind != Tok::kIdent) return Error{l.number, "parameter name expected"};
    f->locals.push_back(t[i++].text);
    need_name = false;
    if (i < t.size() && IsPunct(t[i], ",")) {
      ++i;
      need_name = true;
    }
  }
  if (need_name || i >= t.size()) return Error{l.number, "')' expected"};
  ++i;
  f->num_params = f->locals.size();
  if (i < t.size() && IsPunct(t[i], "->")) {
    ++i;
    if (i >= t.size() || t[i].kind != Tok::kInt || t[i].value < 0 || t[i].value > 255) {
      return Error{l.number, "result count expected after '->'"};
    }
    f->num_results = t[i++].value;
  }
  if (i != t.size()) return Error{l.number, "unexpected text after the function header"};
  return std::nullopt;
}

void PutU16(Bytes& code, uint32_t v) {
  code.push_back(static_cast<uint8_t>(v));
  code.push_back(static_cast<uint8_t>(v >> 8));
}

class Assembler {
 public:
  std::optional<Error> Parse(std::string_view source);
  std::optional<Error> Emit(vm::ModuleDef* def);

 private:
  uint16_t Intern(const Bytes& b);
  std::optional<Error> EmitFunction(const FuncSrc& src, vm::FunctionDef* out);

  std::vector<Bytes> constants_;
  std::vector<FuncSrc> funcs_;
  std::map<std::string, size_t> func_index_;
};

std::optional<Error> Assembler::Parse(std::string_view source) {
  FuncSrc* current = nullptr;
  int number = 0;
  while (!source.empty()) {
    size_t nl = source.find('\n');
    std::string_view text = source.substr(0, nl);
    source = nl == std::string_view::npos ? std::string_view() : source.substr(nl + 1);
    Line l{++number, {}};
    if (auto e = Lex(text, number, &l.tokens)) return e;
    if (l.tokens.empty()) continue;
    const auto& t = l.tokens;
    const bool head_ident = t[0].kind == Tok::kIdent;
    if (current == nullptr) {
      if (head_ident && t[0].text == "const") {
        if (t.size() != 2 || t[1].kind != Tok::kBytes) {
          return Error{number, "const takes one \"string\" or 0x-hex value"};
        }
        constants_.push_back(t[1].bytes);
      } else if (head_ident && (t[0].text == "func" || t[0].text == "export")) {
        size_t i = 1;
        FuncSrc f;
        f.line = number;
        if (t[0].text == "export") {
          f.exported = true;
          if (t.size() < 2 || t[1].kind != Tok::kIdent || t[1].text != "func") {
            return Error{number, "'func' expected after 'export'"};
          }
          i = 2;
        }
        if (auto e = ParseHeader(l, i, &f)) return e;
        if (func_index_.count(f.name)) return Error{number, "function '" + f.name + "' redefined"};
        func_index_[f.name] = funcs_.size();
        funcs_.push_back(std::move(f));
        current = &funcs_.back();
      } else {
        return Error{number, "'const' or 'func' expected"};
      }
      continue;
    }
    if (head_ident && t[0].text == "end" && t.size() == 1) {
      current = nullptr;
    } else if (head_ident && t[0].text == "local") {
      for (size_t i = 1; i < t.size(); i += 2) {
        if (t[i].kind != Tok::kIdent) return Error{number, "local name expected"};
        current->locals.push_back(t[i].text);
        if (i + 1 < t.size() && !IsPunct(t[i + 1], ",")) return Error{number, "',' expected"};
      }
    } else {
      current->body.push_back(std::move(l));
    }
  }
  if (current != nullptr)
    return Error{current->line, "function '" + current->name + "' has no 'end'"};
  if (funcs_.empty()) return Error{number, "no functions"};
  return std::nullopt;
}

uint16_t Assembler::Intern(const Bytes& b) {
  for (size_t i = 0; i < constants_.size(); ++i) {
    if (constants_[i] == b) return static_cast<uint16_t>(i);
  }
  constants_.push_back(b);
  return static_cast<uint16_t>(constants_.size() - 1);
}

std::optional<Error> Assembler::EmitFunction(const FuncSrc& src, vm::FunctionDef* out) {
  out->name = src.name;
  out->exported = src.exported;
  out->num_params = static_cast<uint8_t>(src.num_params);
  out->num_results = static_cast<uint8_t>(src.num_results);
  out->locals = src.locals;
  if (src.num_params > 255 || src.locals.size() > 255) {
    return Error{src.line, "too many parameters or locals"};
  }
  std::map<std::string, size_t> labels;
  std::vector<std::pair<size_t, const Line*>> fixups;  // code offset of a u16 target
  Bytes& code = out->code;
  for (const Line& l : src.body) {
    const auto& t = l.tokens;
    if (t.size() == 2 && t[0].kind == Tok::kIdent && IsPunct(t[1], ":")) {
      if (!labels.emplace(t[0].text, code.size()).second) {
        return Error{l.number, "label '" + t[0].text + "' defined twice"};
      }
      continue;
    }
    if (t[0].kind != Tok::kIdent) return Error{l.number, "instruction expected"};
    const std::string& m = t[0].text;
    auto op = vm::OpcodeByMnemonic(m);
    if (!op) return Error{l.number, "unknown instruction '" + m + "'"};
    vm::Imm imm = vm::kOpTable[static_cast<size_t>(*op)].imm;
    const size_t want = imm == vm::Imm::kNone ? 1 : imm == vm::Imm::kArity ? 3 : 2;
    if (t.size() != want) {
      return Error{l.number, "'" + m + "' takes " + std::to_string(want - 1) + " operand(s)"};
    }
    if (*op == Opcode::kPushI && t[1].kind == Tok::kBytes) op = Opcode::kPushC;
    code.push_back(static_cast<uint8_t>(*op));
    switch (vm::kOpTable[static_cast<size_t>(*op)].imm) {
      case vm::Imm::kNone:
        break;
      case vm::Imm::kI64: {
        if (t[1].kind != Tok::kInt) return Error{l.number, "push takes an integer or bytes"};
        uint64_t v = static_cast<uint64_t>(t[1].value);
        for (int i = 0; i < 8; ++i) code.push_back(static_cast<uint8_t>(v >> (8 * i)));
        break;
      }
      case vm::Imm::kConst:
        PutU16(code, Intern(t[1].bytes));
        break;
      case vm::Imm::kLocal: {
        size_t idx = 0;
        while (idx < src.locals.size() && src.locals[idx] != t[1].text) ++idx;
        if (t[1].kind != Tok::kIdent || idx == src.locals.size()) {
          return Error{l.number, "unknown local '" + t[1].text + "'"};
        }
        code.push_back(static_cast<uint8_t>(idx));
        break;
      }
      case vm::Imm::kTarget:
        if (t[1].kind != Tok::kIdent) return Error{l.number, "label expected"};
        fixups.emplace_back(code.size(), &l);
        PutU16(code, 0);
        break;
      case vm::Imm::kFunc: {
        auto it = func_index_.find(t[1].text);
        if (t[1].kind != Tok::kIdent || it == func_index_.end()) {
          return Error{l.number, "unknown function '" + t[1].text + "'"};
        }
        PutU16(code, static_cast<uint32_t>(it->second));
        break;
      }
      case vm::Imm::kArity:
        for (int k = 1; k <= 2; ++k) {
          if (t[k].kind != Tok::kInt || t[k].value < 0 || t[k].value > 255) {
            return Error{l.number, "xcall takes an argument count and a result count"};
          }
          code.push_back(static_cast<uint8_t>(t[k].value));
        }
        break;
    }
  }
  for (const auto& [pos, line] : fixups) {
    auto it = labels.find(line->tokens[1].text);
    if (it == labels.end()) {
      return Error{line->number, "unknown label '" + line->tokens[1].text + "'"};
    }
    if (it->second > 0xffff) return Error{line->number, "function too long"};
    code[pos] = static_cast<uint8_t>(it->second);
    code[pos + 1] = static_cast<uint8_t>(it->second >> 8);
  }
  if (code.size() > 0xffff) return Error{src.line, "function '" + src.name + "' too long"};
  return std::nullopt;
}

std::optional<Error> Assembler::Emit(vm::ModuleDef* def) {
  def->functions.resize(funcs_.size());
  for (size_t i = 0; i < funcs_.size(); ++i) {
    if (auto e = EmitFunction(funcs_[i], &def->functions[i])) return e;
  }
  def->constants = constants_;
  return std::nullopt;
}

}  // namespace

vm::Result<vm::Bytes> Assemble(std::string_view source) {
  using R = vm::Result<vm::Bytes>;
  Assembler a;
  vm::ModuleDef def;
  std::optional<Error> e = a.Parse(source);
  if (!e) e = a.Emit(&def);
  if (e) return R::Error("syntax", "line " + std::to_string(e->line) + ": " + e->message);
  if (def.constants.size() > vm::kMaxConstants || def.functions.size() > vm::kMaxFunctions) {
    return R::Error("too_large", "too many constants or functions");
  }
  vm::Bytes bytes = vm::EncodeModule(def);
  auto m = vm::Validate(bytes);
  if (!m.ok()) return R::Error(m.reason(), m.message());
  return bytes;
}

}  // namespace civitas::casm
