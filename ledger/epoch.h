#pragma once

// Epochs: the validator set changes only at an epoch boundary, and only because an executed
// governance decision changed the council (docs/CONSENSUS.md, "Epochs"; docs/PROTOCOL.md,
// "Validator-set changes").
//
// The citizenship contract keeps the council and each member's validator key. After every block
// whose execution changed the council, the ledger writes the council's keys to the state record
// ValidatorsKey() together with the height of that block. Epoch e ends with the first committed
// block k of epoch e whose header certifies a state (state_height) in which that record holds
// keys other than epoch e's and was written at or below state_height; epoch e + 1 starts at
// height k + 1 with those keys. The record is under k's certified root, so an auditor or a
// light client proves the new set with one Merkle proof under a root its old council signed.

#include <optional>
#include <string>
#include <vector>

#include "ledger/block.h"
#include "ledger/state.h"

namespace civitas {

// At most this many validators: a larger council cannot join the validator set.
constexpr size_t kMaxValidators = 128;

// The state record of the council's validator keys.
struct ValidatorsRecord {
  uint64_t changed_at = 0;  // height of the block that last wrote the record (0: genesis)
  std::vector<crypto::PublicKey> keys;
  bool operator==(const ValidatorsRecord&) const = default;
};
// KeySpace 0x06: the single key 0x06.
std::string ValidatorsKey();
// changed_at u64 | count u32 | count x key(32).
std::string EncodeValidators(const ValidatorsRecord& r);
Result<ValidatorsRecord> DecodeValidators(std::string_view bytes);

// The validator keys of the council in the citizenship contract's storage: the key of every
// member that has one ("key/" addr), in council order.
Result<std::vector<crypto::PublicKey>> ReadCouncilKeys(const StateReader& state);

struct Epoch {
  uint64_t number = 0;
  uint64_t start_height = 1;  // first block of the epoch
  ValidatorSet validators;
  bool operator==(const Epoch& o) const {
    return number == o.number && start_height == o.start_height &&
           validators.keys() == o.validators.keys();
  }
};
// start_height u64 | count u32 | count x key(32) (the number is the store key).
std::string EncodeEpoch(const Epoch& e);
Result<Epoch> DecodeEpoch(uint64_t number, std::string_view bytes);

// The epoch that follows `current` when block `height` (of epoch `current`) certifies a state
// holding `certified` (the ValidatorsRecord at its state_height): nullopt when the keys are
// unchanged, were written above `state_height`, are empty, or are too many.
std::optional<Epoch> NextEpoch(const Epoch& current, uint64_t height, uint64_t state_height,
                               const std::optional<ValidatorsRecord>& certified);

}  // namespace civitas
