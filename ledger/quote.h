#pragma once

// Quoting a value a client or peer sent inside an error message. Every byte from the network is
// hostile: an error that echoed a 900 KB DID overflowed the client's gRPC metadata limit
// (issue 22), and control bytes would reach logs and terminals. Every message that quotes input
// goes through QuoteInput.

#include <cstddef>
#include <string>
#include <string_view>

namespace civitas {

// At most this many bytes of a value are quoted.
inline constexpr size_t kMaxQuotedBytes = 64;

// `value` in single quotes, its first kMaxQuotedBytes bytes only, each byte outside printable
// ASCII (and the quote and backslash) as \xNN; a longer value ends in "..." and its total
// length: 'did:civitas:aaaa…'... (900000 bytes). At most 4 * kMaxQuotedBytes + 40 characters.
inline std::string QuoteInput(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const size_t n = value.size() < kMaxQuotedBytes ? value.size() : kMaxQuotedBytes;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += "'";
  if (value.size() > n) out += "... (" + std::to_string(value.size()) + " bytes)";
  return out;
}

}  // namespace civitas
