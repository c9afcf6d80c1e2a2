#pragma once

// The gas schedule beyond each opcode's base cost (which lives in opcodes.h). docs/VM.md lists
// the whole schedule; the interpreter and the test suite's reference interpreter both use these.

#include <cstddef>
#include <cstdint>

namespace civitas::vm::gas {

// Moving byte strings inside the VM (push of a constant, dup/over/get of a byte string, concat,
// slice, comparisons, itob/btoi): per started 8-byte word of the bytes touched.
inline constexpr uint64_t kCopyPerWord = 1;
// Storage: per byte of key and value read (sload), written (sstore), or key deleted (sdel).
inline constexpr uint64_t kStorageReadPerByte = 1;
inline constexpr uint64_t kStorageWritePerByte = 5;
inline constexpr uint64_t kStorageDeletePerByte = 1;
// Events: per byte of topic and data.
inline constexpr uint64_t kEventPerByte = 2;
// Hashing (sha256) and the message of a signature check (verify): per byte.
inline constexpr uint64_t kHashPerByte = 1;
// Contract call (xcall): per byte of the function name and of byte-string arguments.
inline constexpr uint64_t kCallPerByte = 1;

constexpr uint64_t Words(size_t bytes) { return (bytes + 7) / 8; }

}  // namespace civitas::vm::gas
