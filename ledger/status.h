#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace civitas {

// The outcome of a fallible operation. Callers check every one: `if (!s.ok()) return s;`.
// `reason` is a short machine-readable word (e.g. "bad_signature") that APIs pass on to clients;
// `message` is for people.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // input from a client or peer is malformed or not allowed
    kNotFound,            // the thing asked for does not exist
    kAlreadyExists,       // duplicate submission
    kFailedPrecondition,  // valid input that the current state refuses (nonce, balance)
    kResourceExhausted,   // a limit is reached (mempool full, size cap)
    kCorruption,          // stored data fails its checks
    kIOError,             // the operating system or the database failed
    kInternal,            // a bug
  };
  // Whom a refusal of a peer's input (a consensus message, a proposal's payload, a block from
  // block sync, a gossiped transaction) blames, set where the refusal is produced, as Bitcoin
  // Core's BlockValidationResult does. The node decides from it alone whether to penalise the
  // sender (node/penalty.h); docs/RELIABILITY.md ("Penalties") lists the tiers.
  enum class Blame : uint8_t {
    kNone,   // not a refusal of input, or one nobody is blamed for (a storage error)
    kPeer,   // no honest peer sends it: forged, malformed, or against a rule the sender checks
             // on the same data (a header that does not link, a nonce out of sequence)
    kStale,  // honest peers send it: out of date, a duplicate, a view of another epoch or round
    kLocal,  // this node cannot check it now, or refuses it from its own state alone: its clock,
             // a height it has not executed, a missing ancestor, a state root it computed otherwise
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string reason, std::string message) {
    return Status(Code::kInvalidArgument, std::move(reason), std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, "not_found", std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, "corruption", std::move(message));
  }
  static Status IOError(std::string message) {
    return Status(Code::kIOError, "io_error", std::move(message));
  }
  static Status Error(Code code, std::string reason, std::string message) {
    return Status(code, std::move(reason), std::move(message));
  }
  // A refusal that blames the peer (Blame::kPeer): invalid input no honest peer sends.
  static Status PeerFault(std::string reason, std::string message) {
    return Invalid(std::move(reason), std::move(message)).WithBlame(Blame::kPeer);
  }
  // This status, blaming `blame`.
  Status WithBlame(Blame blame) const {
    Status s = *this;
    s.blame_ = blame;
    return s;
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  Blame blame() const { return blame_; }
  std::string ToString() const { return ok() ? "ok" : reason_ + ": " + message_; }

 private:
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
  Blame blame_ = Blame::kNone;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace civitas
