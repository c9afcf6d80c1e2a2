#include "ledger/address.h"

namespace civitas {
namespace {
Address Truncate(const Hash32& h) {
  Address a;
  std::copy(h.begin(), h.begin() + 20, a.begin());
  return a;
}
}  // namespace

Address AddressOf(const crypto::PublicKey& pk) {
  return Truncate(crypto::TaggedHash("civitas/address/v1", AsStringView(pk)));
}

Address ContractAddress(const Address& deployer, uint64_t nonce) {
  Bytes msg;
  Append(msg, deployer);
  PutU64(msg, nonce);
  return Truncate(crypto::TaggedHash("civitas/contract/v1", msg));
}

Address SystemAddress(std::string_view name) {
  return Truncate(crypto::TaggedHash("civitas/system/v1", name));
}

const Address& TreasuryAddress() {
  static const Address a = SystemAddress("treasury");
  return a;
}

std::optional<Address> ParseAddress(std::string_view hex) {
  if (hex.substr(0, 2) == "0x") hex.remove_prefix(2);
  return FixedFromHex<20>(hex);
}

}  // namespace civitas
