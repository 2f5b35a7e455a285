#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "tensor/error.h"

namespace stan {

namespace {

constexpr size_t kBufferBytes = size_t{1} << 18;

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

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  STAN_CHECK(!path_.empty(), "[AtomicFile] empty output path");
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  STAN_CHECK(fd_ >= 0, "cannot write '", path_, "': cannot create temporary file '", temp_,
             "': ", errno_text(errno));
  buf_.reserve(kBufferBytes);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      committed_(other.committed_),
      written_(other.written_),
      buf_(std::move(other.buf_)) {}  // the moved-from object has fd_ == -1: nothing to clean up

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (committed_) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
  }
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
    int rc = ::close(fd_);
    fd_ = -1;
    STAN_CHECK(rc == 0, "cannot write '", path_, "': close: ", errno_text(errno));
    STAN_CHECK(::rename(temp_.c_str(), path_.c_str()) == 0, "cannot write '", path_,
               "': rename from '", temp_, "': ", errno_text(errno));
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
    throw;
  }
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
