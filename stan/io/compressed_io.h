// Byte streams over plain, gzip and xz files: the layer under the flow reader and writer.
// Reading detects the compression from the file's magic bytes; writing picks it from the
// extension and goes through AtomicFile, so nothing appears under the final name until commit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace stan {

enum class Compression { none, gzip, xz };

const char* compression_name(Compression c);  // "plain", "gzip", "xz"
// ".gz" -> gzip, ".xz" -> xz, anything else -> none.
Compression compression_from_extension(std::string_view path);

// Sequential reader of a file's (decompressed) bytes.
class ByteSource {
 public:
  // Opens `path`; throws stan::Error "cannot open 'PATH': <reason>" if it cannot be read.
  explicit ByteSource(const std::string& path);
  // Reads `bytes` (plain, gzip or xz, detected the same way), which must outlive the source;
  // `name` stands for the file name in messages. For tests and fuzzing.
  ByteSource(std::string name, std::string_view bytes);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Fills up to n bytes of buf; returns 0 only at the end of the data. A damaged compressed
  // stream throws stan::Error "PATH: truncated or corrupt xz stream (...)" (or gzip).
  size_t read(char* buf, size_t n);
  Compression compression() const;
  uint64_t file_bytes_read() const;  // bytes read from the file itself (compressed size)
  const std::string& name() const;   // the path (or the name given with the bytes)

 private:
  void detect();  // reads the magic bytes and sets up the decoder
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sequential writer that compresses into an AtomicFile.
class ByteSink {
 public:
  // level: gzip 1-9 or xz preset 0-9; -1 = this library's default (gzip 6, xz 1).
  ByteSink(const std::string& path, Compression c, int level = -1);
  ~ByteSink();  // without commit(): the temporary file is removed
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  void write(const char* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Finishes the compressed stream and publishes the file under its final name.
  void commit();
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stan
