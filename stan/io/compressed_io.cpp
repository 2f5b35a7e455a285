#include "stan/io/compressed_io.h"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr size_t kChunk = size_t{1} << 18;
// The xz decoder's memory limit: xz -9 needs 65 MiB; a crafted header asking for more is refused
// rather than allocated.
constexpr uint64_t kXzMemLimit = uint64_t{256} << 20;

const char* lzma_ret_text(lzma_ret r) {
  switch (r) {
    case LZMA_MEM_ERROR:
      return "out of memory";
    case LZMA_MEMLIMIT_ERROR:
      return "memory limit reached";
    case LZMA_FORMAT_ERROR:
      return "not an xz stream";
    case LZMA_OPTIONS_ERROR:
      return "unsupported options";
    case LZMA_DATA_ERROR:
      return "data error";
    case LZMA_BUF_ERROR:
      return "unexpected end of input";
    case LZMA_PROG_ERROR:
      return "liblzma programming error";
    default:
      return "liblzma error";
  }
}

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::gzip:
      return "gzip";
    case Compression::xz:
      return "xz";
    default:
      return "plain";
  }
}

Compression compression_from_extension(std::string_view path) {
  if (path.ends_with(".gz")) return Compression::gzip;
  if (path.ends_with(".xz")) return Compression::xz;
  return Compression::none;
}

// ---------------------------------------------------------------------------------------------
// ByteSource

struct ByteSource::Impl {
  std::string path;
  int fd = -1;
  const char* mem = nullptr;  // in-memory source: [mem, mem + mem_len), read up to mem_pos
  size_t mem_len = 0, mem_pos = 0;
  Compression comp = Compression::none;
  std::vector<uint8_t> in;  // raw file bytes not yet consumed: [in_pos, in_end)
  size_t in_pos = 0, in_end = 0;
  bool file_eof = false;
  bool stream_end = false;  // decoder reached the end of its last stream
  uint64_t file_bytes = 0;
  z_stream z{};
  bool z_init = false;
  lzma_stream lz = LZMA_STREAM_INIT;
  bool lz_init = false;

  ~Impl() {
    if (z_init) inflateEnd(&z);
    if (lz_init) lzma_end(&lz);
    if (fd >= 0) ::close(fd);
  }

  // ::read on the file, or a copy from the memory buffer.
  ssize_t raw_read(void* dst, size_t n) {
    if (fd >= 0) return ::read(fd, dst, n);
    const size_t k = std::min(n, mem_len - mem_pos);
    if (k) std::memcpy(dst, mem + mem_pos, k);
    mem_pos += k;
    return static_cast<ssize_t>(k);
  }

  // Reads more raw bytes after the unconsumed ones; sets file_eof at the end of the file.
  void refill() {
    if (in_pos > 0) {
      std::memmove(in.data(), in.data() + in_pos, in_end - in_pos);
      in_end -= in_pos;
      in_pos = 0;
    }
    while (in_end < in.size()) {
      ssize_t k = raw_read(in.data() + in_end, in.size() - in_end);
      if (k < 0) {
        if (errno == EINTR) continue;
        throw Error(detail::concat("cannot read '", path, "': ", std::strerror(errno)));
      }
      if (k == 0) {
        file_eof = true;
        return;
      }
      in_end += static_cast<size_t>(k);
      file_bytes += static_cast<uint64_t>(k);
      return;
    }
  }

  [[noreturn]] void corrupt(const char* what, const char* detail_text) const {
    throw Error(
        detail::concat(path, ": truncated or corrupt ", what, " stream (", detail_text, ")"));
  }

  size_t read_plain(char* buf, size_t n) {
    if (in_pos < in_end) {
      size_t k = std::min(n, in_end - in_pos);
      std::memcpy(buf, in.data() + in_pos, k);
      in_pos += k;
      return k;
    }
    while (!file_eof) {
      ssize_t k = raw_read(buf, n);
      if (k < 0) {
        if (errno == EINTR) continue;
        throw Error(detail::concat("cannot read '", path, "': ", std::strerror(errno)));
      }
      if (k == 0) file_eof = true;
      file_bytes += static_cast<uint64_t>(k);
      return static_cast<size_t>(k);
    }
    return 0;
  }

  size_t read_gzip(char* buf, size_t n) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z.avail_out > 0 && !stream_end) {
      if (in_pos == in_end && !file_eof) refill();
      z.next_in = in.data() + in_pos;
      z.avail_in = static_cast<uInt>(in_end - in_pos);
      // With no input left, inflate may still have output pending (a match being copied):
      // only "no progress possible" (Z_BUF_ERROR) at the end of the file means truncation.
      int rc = inflate(&z, Z_NO_FLUSH);
      in_pos = in_end - z.avail_in;
      if (rc == Z_STREAM_END) {
        // A gzip file may hold several members back to back (as `cat a.gz b.gz` makes).
        if (in_pos == in_end && !file_eof) refill();
        if (in_pos == in_end && file_eof) {
          stream_end = true;
        } else {
          inflateReset(&z);
        }
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible: needs more input, and there is none.
        if (file_eof && in_pos == in_end) corrupt("gzip", "unexpected end of file");
      } else if (rc != Z_OK) {
        corrupt("gzip", z.msg ? z.msg : "zlib error");
      }
    }
    return n - z.avail_out;
  }

  size_t read_xz(char* buf, size_t n) {
    lz.next_out = reinterpret_cast<uint8_t*>(buf);
    lz.avail_out = n;
    while (lz.avail_out > 0 && !stream_end) {
      if (in_pos == in_end && !file_eof) refill();
      lz.next_in = in.data() + in_pos;
      lz.avail_in = in_end - in_pos;
      // LZMA_CONCATENATED needs LZMA_FINISH once all input is given, to tell a clean end
      // from a truncated stream.
      lzma_ret rc = lzma_code(&lz, file_eof ? LZMA_FINISH : LZMA_RUN);
      in_pos = in_end - lz.avail_in;
      if (rc == LZMA_STREAM_END) {
        stream_end = true;
      } else if (rc == LZMA_MEMLIMIT_ERROR) {
        throw Error(detail::concat(path, ": the xz stream needs more than ", kXzMemLimit >> 20,
                                   " MiB of memory to decode (not made by this tool or xz -9)"));
      } else if (rc != LZMA_OK) {
        corrupt("xz", lzma_ret_text(rc));
      }
    }
    return n - lz.avail_out;
  }
};

ByteSource::ByteSource(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.path = path;
  s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  STAN_CHECK(s.fd >= 0, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  STAN_CHECK(::fstat(s.fd, &st) == 0 && !S_ISDIR(st.st_mode), "cannot open '", path,
             "': is a folder, not a file");
  detect();
}

ByteSource::ByteSource(std::string name, std::string_view bytes) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.path = std::move(name);
  s.mem = bytes.data();
  s.mem_len = bytes.size();
  detect();
}

void ByteSource::detect() {
  Impl& s = *impl_;
  const std::string& path = s.path;
  // Memory input is small in practice (tests, fuzzing): no need to zero a whole chunk for it.
  s.in.resize(s.fd >= 0 ? kChunk : std::clamp<size_t>(s.mem_len, 64, kChunk));
  // Read until the magic bytes can be told (or the file ends).
  while (s.in_end < 6 && !s.file_eof) s.refill();
  const uint8_t* m = s.in.data();
  // nfdump's binary file (its layout magic 0xA50C, little-endian), not flows as text.
  STAN_CHECK(!(s.in_end >= 2 && m[0] == 0x0C && m[1] == 0xA5), "cannot read '", path,
             "': it is an nfcapd file (nfdump's binary format); stan reads flows as CSV: "
             "convert it with `nfdump -r ",
             path, " -o csv > flows.csv`");
  static const uint8_t kXzMagic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
  if (s.in_end >= 6 && std::memcmp(m, kXzMagic, 6) == 0) {
    s.comp = Compression::xz;
    lzma_ret rc = lzma_stream_decoder(&s.lz, kXzMemLimit, LZMA_CONCATENATED);
    STAN_CHECK(rc == LZMA_OK, "cannot read '", path, "': ", lzma_ret_text(rc));
    s.lz_init = true;
  } else if (s.in_end >= 2 && m[0] == 0x1F && m[1] == 0x8B) {
    s.comp = Compression::gzip;
    int rc = inflateInit2(&s.z, 15 + 16);  // gzip wrapper only
    STAN_CHECK(rc == Z_OK, "cannot read '", path, "': zlib inflateInit2 failed");
    s.z_init = true;
  }
}

ByteSource::~ByteSource() = default;

size_t ByteSource::read(char* buf, size_t n) {
  if (n == 0) return 0;
  switch (impl_->comp) {
    case Compression::gzip:
      return impl_->read_gzip(buf, n);
    case Compression::xz:
      return impl_->read_xz(buf, n);
    default:
      return impl_->read_plain(buf, n);
  }
}

Compression ByteSource::compression() const {
  return impl_->comp;
}
uint64_t ByteSource::file_bytes_read() const {
  return impl_->file_bytes;
}
const std::string& ByteSource::name() const {
  return impl_->path;
}

// ---------------------------------------------------------------------------------------------
// ByteSink

struct ByteSink::Impl {
  AtomicFile file;
  Compression comp;
  std::vector<uint8_t> out;
  z_stream z{};
  bool z_init = false;
  lzma_stream lz = LZMA_STREAM_INIT;
  bool lz_init = false;

  Impl(const std::string& path, Compression c) : file(path), comp(c) {}
  ~Impl() {
    if (z_init) deflateEnd(&z);
    if (lz_init) lzma_end(&lz);
  }

  void deflate_some(const char* data, size_t n, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = static_cast<uInt>(n);
    while (true) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&z, flush);
      STAN_CHECK(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "cannot write '",
                 file.path(), "': zlib deflate failed");
      file.write(out.data(), out.size() - z.avail_out);
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out > 0)) break;
    }
  }

  void lzma_some(const char* data, size_t n, lzma_action action) {
    lz.next_in = reinterpret_cast<const uint8_t*>(data);
    lz.avail_in = n;
    while (true) {
      lz.next_out = out.data();
      lz.avail_out = out.size();
      lzma_ret rc = lzma_code(&lz, action);
      STAN_CHECK(rc == LZMA_OK || rc == LZMA_STREAM_END, "cannot write '", file.path(),
                 "': xz encoder: ", lzma_ret_text(rc));
      file.write(out.data(), out.size() - lz.avail_out);
      if (action == LZMA_FINISH ? rc == LZMA_STREAM_END : (lz.avail_in == 0 && lz.avail_out > 0))
        break;
    }
  }
};

ByteSink::ByteSink(const std::string& path, Compression c, int level)
    : impl_(std::make_unique<Impl>(path, c)) {
  Impl& s = *impl_;
  if (c == Compression::gzip) {
    s.out.resize(kChunk);
    int lv = level < 0 ? 6 : level;
    STAN_CHECK(lv >= 1 && lv <= 9, "[ByteSink] gzip level must be 1-9, got ", level);
    int rc = deflateInit2(&s.z, lv, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    STAN_CHECK(rc == Z_OK, "cannot write '", path, "': zlib deflateInit2 failed");
    s.z_init = true;
  } else if (c == Compression::xz) {
    s.out.resize(kChunk);
    int lv = level < 0 ? 1 : level;  // preset 1: ~6x faster than 3, ~6% larger on flow CSV
    STAN_CHECK(lv >= 0 && lv <= 9, "[ByteSink] xz preset must be 0-9, got ", level);
    lzma_ret rc = lzma_easy_encoder(&s.lz, static_cast<uint32_t>(lv), LZMA_CHECK_CRC64);
    STAN_CHECK(rc == LZMA_OK, "cannot write '", path, "': xz encoder: ", lzma_ret_text(rc));
    s.lz_init = true;
  }
}

ByteSink::~ByteSink() = default;

void ByteSink::write(const char* data, size_t n) {
  Impl& s = *impl_;
  switch (s.comp) {
    case Compression::gzip:
      // deflate takes uInt lengths: feed huge buffers in pieces.
      while (n > 0) {
        size_t k = std::min<size_t>(n, 1u << 30);
        s.deflate_some(data, k, Z_NO_FLUSH);
        data += k;
        n -= k;
      }
      break;
    case Compression::xz:
      s.lzma_some(data, n, LZMA_RUN);
      break;
    default:
      s.file.write(data, n);
  }
}

void ByteSink::commit() {
  Impl& s = *impl_;
  if (s.comp == Compression::gzip) s.deflate_some(nullptr, 0, Z_FINISH);
  if (s.comp == Compression::xz) s.lzma_some(nullptr, 0, LZMA_FINISH);
  s.file.commit();
}

const std::string& ByteSink::path() const {
  return impl_->file.path();
}

}  // namespace stan
