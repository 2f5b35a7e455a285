// Runs a shell command from a test: its exit code and its stdout and stderr together; starts a
// long generation to interrupt.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <string>

namespace stan::testing {

struct CommandRun {
  int code = 0;        // the exit status; 128 + the signal when a signal ended it
  std::string output;  // stdout and stderr
};

inline CommandRun run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  CommandRun r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Starts `stan generate --quiet --hosts 2000 --duration 1d --out OUT` (long enough to be
// interrupted while it writes) in a child process; returns its pid.
inline pid_t start_long_generate(const std::string& out) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The default actions, as a user's shell gives them: a test run in the background of a
    // shell without job control inherits SIGINT ignored, and stan keeps an ignored signal
    // ignored (as nohup asks).
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execl(STAN_BINARY, "stan", "generate", "--quiet", "--hosts", "2000", "--duration", "1d",
            "--out", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

}  // namespace stan::testing
