#pragma once

// Where the CLI gets the passphrase of an encrypted key file, first match wins:
//   1. --passphrase-file FILE: the file's first line (without its line ending);
//   2. the environment variable CIVITAS_PASSPHRASE;
//   3. the controlling terminal (/dev/tty), read without echo; a new passphrase is asked twice.
// With none of these (no terminal, as in scripts), the result is an error naming all three.

#include <string>

#include "ledger/status.h"

namespace civitas::wallet {

inline constexpr const char* kPassphraseEnv = "CIVITAS_PASSPHRASE";

struct PassphraseSource {
  std::string file;  // --passphrase-file; empty when not given
};

// `prompt` is shown on the terminal. With `confirm` (a new passphrase), the terminal asks twice
// and refuses a mismatch. An empty passphrase is refused. Reason: bad_passphrase.
Result<std::string> ReadPassphrase(const PassphraseSource& source, const std::string& prompt,
                                   bool confirm);

// Reads one line from the terminal without echo. Reason no_terminal when there is none.
Result<std::string> ReadSecretFromTerminal(const std::string& prompt);

// True when stdin is a terminal.
bool StdinIsTerminal();

}  // namespace civitas::wallet
