#include "tensor/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "tensor/error.h"

namespace stan {

namespace {

constexpr size_t kBufferBytes = size_t{1} << 18;

std::atomic<bool> g_anonymous{true};

std::string errno_text(int err) {
  return std::strerror(err);
}

// Writes all of [data, data+n) to fd, retrying on EINTR and short writes. Returns 0 or errno.
int write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, data, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
  return 0;
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// "<path>.tmp.<pid>.<16 hex digits>": unpredictable, so nobody can plant a file in its way.
std::string unique_temp_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  uint64_t r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  r ^= counter.fetch_add(0x9E3779B97F4A7C15ull);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
  return path + ".tmp." + std::to_string(::getpid()) + "." + hex;
}

// ---- removal of named temporary files and folders on SIGINT / SIGTERM / SIGHUP -------------
// A fixed table the signal handler can walk without allocating or locking. A slot is free (0),
// being written (1) or holds a live temporary file's or folder's name (2).
constexpr int kSlots = 64;
struct Slot {
  std::atomic<int> state{0};
  bool folder = false;
  pid_t pid = -1;  // a folder's writer, killed before the folder is removed
  char path[4096];
};
Slot g_slots[kSlots];
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Removes what the folder open at `dirfd` holds (and, `depth` levels down, what its folders
// hold), with async-signal-safe calls only (getdents64, openat, unlinkat).
void remove_entries(int dirfd, int depth) {
  struct Dirent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };
  alignas(8) char buf[4096];
  for (int pass = 0; pass < 4; ++pass) {  // entries removed while listing may hide others
    ::lseek(dirfd, 0, SEEK_SET);
    bool removed = false;
    for (;;) {
      const long n = ::syscall(SYS_getdents64, dirfd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
        off += d->reclen;
        const char* name = d->name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
        if (d->type == DT_DIR) {
          if (depth <= 0) continue;
          const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0) {
            remove_entries(fd, depth - 1);
            ::close(fd);
          }
          removed |= ::unlinkat(dirfd, name, AT_REMOVEDIR) == 0;
        } else {
          removed |= ::unlinkat(dirfd, name, 0) == 0;
        }
      }
    }
    if (!removed) break;
  }
}

extern "C" void remove_temps_and_reraise(int sig) {
  for (Slot& s : g_slots) {
    if (s.state.load() != 2) continue;
    if (!s.folder) {
      ::unlink(s.path);
      continue;
    }
    if (s.pid > 0) {  // no more writes into the folder
      ::kill(s.pid, SIGKILL);
      while (::waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    const int fd = ::open(s.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      remove_entries(fd, 2);
      ::close(fd);
    }
    ::rmdir(s.path);
  }
  // SA_RESETHAND restored the previous (default) action: die of the signal as usual.
  ::raise(sig);
}

// Checked at every registration (a few system calls), since a program may reset its handlers.
void install_signal_handlers() {
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    // Only where the default action (terminate) applies: never replace a program's own
    // handler, nor an ignored signal (nohup).
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_reraise;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    ::sigaction(sig, &sa, nullptr);
  }
}

int register_slot(const std::string& path, bool folder, pid_t pid) {
  install_signal_handlers();
  if (path.size() >= sizeof(Slot::path)) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].folder = folder;
      g_slots[i].pid = pid;
      g_slots[i].state.store(2);
      return i;
    }
  }
  return -1;  // table full: still removed on failure and by the destructor, not on a signal
}

int register_temp(const std::string& path) {
  return register_slot(path, false, -1);
}

void unregister_temp(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0);
}

}  // namespace

int register_temp_folder(const std::string& path, pid_t writer) {
  return register_slot(path, true, writer);
}

void unregister_temp_folder(int slot) {
  unregister_temp(slot);
}

bool AtomicFile::use_anonymous_temp(bool on) {
  return g_anonymous.exchange(on);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  STAN_CHECK(!path_.empty(), "[AtomicFile] empty output path");
  struct stat st {};
  STAN_CHECK(!(::lstat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)), "cannot write '", path_,
             "': it is a folder");
  const std::string dir = parent_dir(path_);
  if (g_anonymous.load()) fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    // No O_TMPFILE here (or turned off): a named file that must not exist yet.
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      temp_ = unique_temp_name(path_);
      signal_slot_ = register_temp(temp_);
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd_ < 0) {
        const int err = errno;
        unregister_temp(std::exchange(signal_slot_, -1));
        STAN_CHECK(err == EEXIST, "cannot write '", path_, "': cannot create a temporary file in '",
                   dir, "': ", errno_text(err));
      }
    }
    STAN_CHECK(fd_ >= 0, "cannot write '", path_, "': no unused temporary file name in '", dir,
               "'");
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      signal_slot_(std::exchange(other.signal_slot_, -1)),
      committed_(other.committed_),
      written_(other.written_),
      buf_(std::move(other.buf_)) {
  other.temp_.clear();  // the moved-from object owns nothing to clean up
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::remove_temp() noexcept {
  if (!temp_.empty()) ::unlink(temp_.c_str());
  unregister_temp(std::exchange(signal_slot_, -1));
  temp_.clear();
}

void AtomicFile::discard() noexcept {
  if (committed_) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  remove_temp();  // an anonymous file vanishes with its descriptor
  buf_.clear();
}

void AtomicFile::flush_buffer() {
  if (buf_.empty()) return;
  int err = write_all(fd_, buf_.data(), buf_.size());
  buf_.clear();
  STAN_CHECK(err == 0, "cannot write '", path_, "': ", errno_text(err));
}

void AtomicFile::write(const void* data, size_t n) {
  STAN_CHECK(fd_ >= 0 && !committed_, "[AtomicFile] write to '", path_,
             "' after commit or discard");
  const char* p = static_cast<const char*>(data);
  written_ += n;
  if (buf_.size() + n <= kBufferBytes) {
    buf_.append(p, n);
    return;
  }
  flush_buffer();
  if (n >= kBufferBytes) {
    int err = write_all(fd_, p, n);
    STAN_CHECK(err == 0, "cannot write '", path_, "': ", errno_text(err));
  } else {
    buf_.append(p, n);
  }
}

void AtomicFile::commit() {
  STAN_CHECK(fd_ >= 0 && !committed_, "[AtomicFile] commit of '", path_,
             "' after commit or discard");
  try {
    flush_buffer();
    STAN_CHECK(::fsync(fd_) == 0, "cannot write '", path_, "': fsync: ", errno_text(errno));
    if (temp_.empty()) {
      // Anonymous: give it a fresh name (link never follows or replaces an existing name),
      // then rename that over the destination as usual.
      char self[64];
      std::snprintf(self, sizeof self, "/proc/self/fd/%d", fd_);
      int err = EEXIST;
      for (int attempt = 0; attempt < 100 && err == EEXIST; ++attempt) {
        temp_ = unique_temp_name(path_);
        signal_slot_ = register_temp(temp_);
        err = ::linkat(AT_FDCWD, self, AT_FDCWD, temp_.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
        if (err == ENOENT)  // no /proc: the same with the descriptor (needs CAP_DAC_READ_SEARCH)
          err = ::linkat(fd_, "", AT_FDCWD, temp_.c_str(), AT_EMPTY_PATH) == 0 ? 0 : errno;
        if (err) {
          unregister_temp(std::exchange(signal_slot_, -1));
          temp_.clear();
        }
      }
      STAN_CHECK(err == 0, "cannot write '", path_,
                 "': cannot name the temporary file: ", errno_text(err));
    }
    int rc = ::close(fd_);
    fd_ = -1;
    STAN_CHECK(rc == 0, "cannot write '", path_, "': close: ", errno_text(errno));
    STAN_CHECK(::rename(temp_.c_str(), path_.c_str()) == 0, "cannot write '", path_,
               "': rename from '", temp_, "': ", errno_text(errno));
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    remove_temp();
    throw;
  }
  unregister_temp(std::exchange(signal_slot_, -1));
  committed_ = true;
  // Make the rename itself durable; failure here does not undo the (already visible) file.
  int dir = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

}  // namespace stan
