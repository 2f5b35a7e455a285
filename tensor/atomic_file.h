// Atomic file output: write everything to a temporary file in the destination's folder, then
// publish it under its final name with one rename. A failed or abandoned write leaves no
// half-written file behind (the final name either keeps its old content or does not exist).
//
// The temporary file is anonymous where the file system allows it (O_TMPFILE): it has no name
// until commit(), so nothing is left behind even after kill -9, and nothing in the folder can
// be planted in its way. Elsewhere it is "<path>.tmp.<pid>.<random>", created with
// O_CREAT|O_EXCL|O_NOFOLLOW (never through a symbolic link or over an existing file) and
// removed on SIGINT, SIGTERM and SIGHUP as well as on failure.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace stan {

class AtomicFile {
 public:
  // Creates the temporary file; throws stan::Error naming `path` if the folder does not exist
  // or is not writable, or if `path` is a folder.
  explicit AtomicFile(std::string path);
  // Without commit(): closes and removes the temporary file. Never throws.
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile& operator=(AtomicFile&&) = delete;

  // Appends bytes (buffered). Throws stan::Error on a write error (e.g. disk full).
  void write(const void* data, size_t n);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Flushes, fsyncs and renames the temporary file to the final path (then fsyncs the folder,
  // best effort). On failure the temporary file is removed and stan::Error thrown. Calling
  // write() or commit() after commit() is an error.
  void commit();
  // Closes and removes the temporary file now (what the destructor does). Idempotent.
  void discard() noexcept;

  const std::string& path() const { return path_; }  // final name
  // The temporary file's name: "<path>.tmp.<pid>.<random>", or empty while it is anonymous.
  const std::string& temp_path() const { return temp_; }
  bool committed() const { return committed_; }
  size_t bytes_written() const { return written_; }  // bytes passed to write() so far

  // For tests: false makes new AtomicFiles use named temporary files even where O_TMPFILE
  // works. Returns the previous setting.
  static bool use_anonymous_temp(bool on);

 private:
  void flush_buffer();
  void remove_temp() noexcept;

  std::string path_;
  std::string temp_;  // named temporary file ("" while anonymous)
  int fd_ = -1;
  int signal_slot_ = -1;  // where temp_ is registered for removal on a fatal signal
  bool committed_ = false;
  size_t written_ = 0;
  std::string buf_;  // pending bytes, flushed when large
};

// Writes `bytes` to `path` atomically (AtomicFile + commit).
void write_file_atomic(const std::string& path, std::string_view bytes);

// A temporary folder (with what it holds, two levels deep) to remove on SIGINT, SIGTERM and
// SIGHUP, after killing the process `writer` (if > 0) that writes into it; the owner removes it
// otherwise. Returns a slot for unregister_temp_folder, or -1 (no room, or a path too long: then
// it is not removed on a signal).
int register_temp_folder(const std::string& path, pid_t writer);
void unregister_temp_folder(int slot);

}  // namespace stan
