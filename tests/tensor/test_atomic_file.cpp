// AtomicFile: nothing appears under the final name before commit(); the temporary file is never
// opened through a planted link; nothing is left behind on failure, on SIGINT/SIGTERM, or
// (anonymous temporary files) even on SIGKILL.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::testing::read_bytes;
using stan::testing::TempDir;

namespace {

// Sets the temporary-file mode for one scope.
struct TempMode {
  bool old;
  explicit TempMode(bool anonymous) : old(stan::AtomicFile::use_anonymous_temp(anonymous)) {}
  ~TempMode() { stan::AtomicFile::use_anonymous_temp(old); }
};

// Runs `body` in a child that then waits to be killed with `sig`; returns the child's status.
template <typename F>
int run_and_kill(F body, int sig) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    try {
      body();
    } catch (...) {
      ::_exit(3);
    }
    const char c = 1;
    if (::write(ready[1], &c, 1) != 1) ::_exit(4);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);  // the child has its temporary file open
  ::close(ready[0]);
  ::kill(pid, sig);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("atomic_file: commits by rename and cleans up otherwise, in both temp modes",
          "[atomic_file]") {
  for (bool anonymous : {true, false}) {
    INFO("anonymous temporary file: " << anonymous);
    TempMode mode(anonymous);
    TempDir d;
    const std::string path = d.path("state.bin");
    {
      stan::AtomicFile f(path);
      f.write("partial");
      CHECK_FALSE(fs::exists(path));
      if (f.temp_path().empty()) {
        CHECK(d.files().empty());  // anonymous: nothing in the folder at all
      } else {
        CHECK_FALSE(anonymous);
        CHECK(f.temp_path().rfind(path + ".tmp." + std::to_string(::getpid()) + ".", 0) == 0);
        CHECK(fs::exists(f.temp_path()));
      }
    }
    CHECK(d.files().empty());

    stan::write_file_atomic(path, "old");
    {
      stan::AtomicFile f(path);
      f.write(std::string(1 << 20, 'x'));  // larger than the internal buffer
      f.write("tail");
      CHECK(read_bytes(path) == "old");  // the old content stays until commit
      f.commit();
      CHECK(f.committed());
      CHECK(f.bytes_written() == (1u << 20) + 4);
      REQUIRE_THROWS_WITH(f.write("more"), Contains("after commit"));
    }
    CHECK(read_bytes(path) == std::string(1 << 20, 'x') + "tail");
    CHECK(d.files() == std::vector<std::string>{"state.bin"});

    stan::AtomicFile moved_from(d.path("m.bin"));
    stan::AtomicFile moved(std::move(moved_from));
    moved.write("m");
    moved.commit();
    CHECK(read_bytes(d.path("m.bin")) == "m");
    CHECK(d.files() == std::vector<std::string>{"m.bin", "state.bin"});

    REQUIRE_THROWS_WITH(stan::write_file_atomic(d.path("no/such/dir/x"), "x"),
                        Contains("cannot write '" + d.path("no/such/dir/x") + "'"));
    fs::create_directory(d.path("sub"));
    REQUIRE_THROWS_WITH(stan::write_file_atomic(d.path("sub"), "x"), Contains("is a folder"));
    CHECK(fs::is_directory(d.path("sub")));
  }
}

TEST_CASE("atomic_file: planted links are never followed", "[atomic_file]") {
  for (bool anonymous : {true, false}) {
    INFO("anonymous temporary file: " << anonymous);
    TempMode mode(anonymous);
    TempDir d;
    const std::string victim = d.path("victim.txt");
    std::ofstream(victim) << "precious";
    const std::string out = d.path("out.csv");
    // The temporary names older versions used, and a link at the final name itself.
    fs::create_symlink(victim, out + ".tmp." + std::to_string(::getpid()));
    fs::create_symlink(victim, d.path("link.csv"));
    stan::write_file_atomic(out, "generated");
    stan::write_file_atomic(d.path("link.csv"), "replaced the link");
    CHECK(read_bytes(victim) == "precious");
    CHECK(read_bytes(out) == "generated");
    CHECK_FALSE(fs::is_symlink(d.path("link.csv")));  // the link was replaced, not followed
    CHECK(read_bytes(d.path("link.csv")) == "replaced the link");
  }
}

TEST_CASE("atomic_file: SIGINT and SIGTERM remove the temporary file", "[atomic_file]") {
  for (int sig : {SIGINT, SIGTERM}) {
    INFO("signal " << sig);
    TempMode mode(false);  // a named temporary file: the case that needs cleaning
    TempDir d;
    const int status = run_and_kill(
        [&] {
          // The test framework's own handlers step aside, as in a plain program.
          ::signal(SIGINT, SIG_DFL);
          ::signal(SIGTERM, SIG_DFL);
          static stan::AtomicFile* f = new stan::AtomicFile(d.path("out.bin"));
          f->write(std::string(1 << 20, 'x'));
          if (!fs::exists(f->temp_path())) ::_exit(5);
        },
        sig);
    REQUIRE(WIFSIGNALED(status));  // it still dies of the signal, as the user asked
    CHECK(WTERMSIG(status) == sig);
    CHECK(d.files().empty());
  }
}

TEST_CASE("atomic_file: SIGTERM kills a temporary folder's writer and removes the folder",
          "[atomic_file]") {
  TempDir d;
  const std::string folder = d.path("out.tmp.1");
  pid_t writer = -1;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int status = run_and_kill(
      [&] {
        ::signal(SIGTERM, SIG_DFL);
        fs::create_directories(folder + "/flows/sub");
        for (const char* f : {"/log", "/flows/a", "/flows/b", "/flows/sub/c"})
          std::ofstream(folder + f) << "data";
        // A writer that would outlive us (a long sleep), registered with the folder.
        const pid_t w = ::fork();
        if (w == 0) {
          ::execl("/bin/sleep", "sleep", "100", static_cast<char*>(nullptr));
          ::_exit(127);
        }
        if (::write(fds[1], &w, sizeof w) != sizeof w) ::_exit(6);
        if (stan::register_temp_folder(folder, w) < 0) ::_exit(7);
      },
      SIGTERM);
  REQUIRE(::read(fds[0], &writer, sizeof writer) == sizeof writer);
  ::close(fds[0]);
  ::close(fds[1]);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(d.files().empty());       // the folder and all it held
  CHECK(::kill(writer, 0) != 0);  // the writer is gone (killed and reaped)
}

TEST_CASE("atomic_file: an anonymous temporary file leaves nothing even after SIGKILL",
          "[atomic_file]") {
  TempDir d;
  if (!stan::AtomicFile(d.path("probe.bin")).temp_path().empty()) {
    WARN("SKIPPED: this file system has no O_TMPFILE; named temporary files are used");
    return;
  }
  const int status = run_and_kill(
      [&] {
        static stan::AtomicFile* f = new stan::AtomicFile(d.path("out.bin"));
        f->write(std::string(1 << 20, 'x'));
      },
      SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  CHECK(d.files().empty());
}
