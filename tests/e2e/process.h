#pragma once

// Starting and killing real node processes in end-to-end tests.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace civitas::e2e {

class Process {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_path` (appended).
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Sends `sig` and reaps the process; returns its wait status.
  int Kill(int sig);
  // Waits for the process to exit by itself; returns the exit code (or -1 on a signal).
  int Wait();
  // Like Wait, but gives up after `timeout`: nullopt if the process is still running.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Runs a command to completion; returns its exit code; its output is appended to `log_path`.
int Run(const std::vector<std::string>& argv, const std::string& log_path);

// A free TCP port on 127.0.0.1 right now.
int FreePort();

}  // namespace civitas::e2e
