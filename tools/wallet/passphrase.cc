#include "tools/wallet/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace civitas::wallet {
namespace {

void StripLineEnd(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

}  // namespace

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

Result<std::string> ReadSecretFromTerminal(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY);
  if (fd < 0) return Status::Invalid("no_terminal", "no terminal to ask for a secret");
  if (::write(fd, prompt.data(), prompt.size()) < 0) {
    ::close(fd);
    return Status::IOError("cannot write to the terminal");
  }
  termios old_mode{};
  bool restore = ::tcgetattr(fd, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  ssize_t n;
  while ((n = ::read(fd, &c, 1)) == 1 && c != '\n') line.push_back(c);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old_mode);
  ::close(fd);
  if (n < 0) return Status::IOError("cannot read from the terminal");
  StripLineEnd(line);
  return line;
}

Result<std::string> ReadPassphrase(const PassphraseSource& source, const std::string& prompt,
                                   bool confirm) {
  std::string pass;
  if (!source.file.empty()) {
    std::ifstream in(source.file);
    if (!in) return Status::Invalid("bad_passphrase", "cannot read passphrase file " + source.file);
    std::getline(in, pass);
    StripLineEnd(pass);
  } else if (const char* env = std::getenv(kPassphraseEnv); env != nullptr) {
    pass = env;
  } else {
    auto first = ReadSecretFromTerminal(prompt);
    if (!first.ok()) {
      if (first.status().reason() != "no_terminal") return first.status();
      return Status::Invalid("bad_passphrase",
                             "a passphrase is needed: pass --passphrase-file FILE, set " +
                                 std::string(kPassphraseEnv) + ", or run in a terminal");
    }
    if (confirm) {
      auto second = ReadSecretFromTerminal("repeat the passphrase: ");
      if (!second.ok()) return second.status();
      if (*second != *first) return Status::Invalid("bad_passphrase", "the passphrases differ");
    }
    pass = std::move(*first);
  }
  if (pass.empty()) return Status::Invalid("bad_passphrase", "the passphrase is empty");
  return pass;
}

}  // namespace civitas::wallet
