// The flow writer: rows formatted by hand into a buffer, passed to a (compressing) ByteSink
// that writes a temporary file and renames it on commit.
#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_fields.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr size_t kBuffer = size_t{1} << 20;
// Longest row without its label: te 19, td <= 313 ("%.3f" of DBL_MAX), IPs 2*45 (IPv6), ports 2*5,
// protocol 3, flags 8, fwd/stos 2*3, pkt/byt 2*20, 13 separators; rounded up.
constexpr size_t kMaxRowNoLabel = 576;
constexpr size_t kMaxLabel = 4096;
constexpr const char kHeader[] = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";

const std::array<std::string, 256>& protocol_names() {
  static const std::array<std::string, 256> names = [] {
    std::array<std::string, 256> a;
    for (int i = 0; i < 256; ++i)
      a[static_cast<size_t>(i)] = protocol_name(static_cast<uint8_t>(i));
    return a;
  }();
  return names;
}

template <typename T>
inline char* put_int(char* p, T v) {
  p = std::to_chars(p, p + 24, v).ptr;
  *p++ = ',';
  return p;
}

char* format_ipv6(const std::array<uint8_t, 16>& a, char* p) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.data(), text, sizeof text);
  const size_t n = std::strlen(text);
  std::memcpy(p, text, n);
  return p + n;
}

}  // namespace

void check_csv_output_name(const std::string& path) {
  for (const char* ext : {".csv", ".csv.gz", ".csv.xz"}) {
    const std::string_view e(ext);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return;
  }
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find('.', slash == std::string::npos ? 0 : slash + 1);
  throw Error(detail::concat("cannot write '", path, "': ",
                             dot == std::string::npos
                                 ? std::string("no file extension")
                                 : "unknown extension '" + path.substr(dot) + "'",
                             " (flow files are written as .csv, .csv.gz or .csv.xz)"));
}

struct FlowWriter::Impl {
  ByteSink sink;
  std::vector<std::string> labels;
  std::unique_ptr<char[]> buf{new char[kBuffer]};
  size_t used = 0;
  int64_t rows = 0;
  bool committed = false;

  Impl(const std::string& path, std::vector<std::string> l)
      : sink(path, compression_from_extension(path)), labels(std::move(l)) {}

  void flush() {
    sink.write(buf.get(), used);
    used = 0;
  }

  [[noreturn]] void bad(const FlowRecord& r, const std::string& what) const {
    throw Error(detail::concat("[FlowWriter] ", sink.path(), ": row ", rows + 1, " (te ", r.te,
                               "): ", what));
  }
};

FlowWriter::FlowWriter(const std::string& path, std::vector<std::string> labels) {
  check_csv_output_name(path);
  STAN_CHECK(!labels.empty() && labels.size() <= 256, "[FlowWriter] ", path,
             ": need 1 to 256 label names, got ", labels.size());
  for (const std::string& l : labels) {
    STAN_CHECK(!l.empty() && l.size() <= kMaxLabel && l.find_first_of(",\r\n") == l.npos,
               "[FlowWriter] ", path, ": label '", l,
               "' cannot be written (empty, too long, or holds a comma or line break)");
  }
  impl_ = std::make_unique<Impl>(path, std::move(labels));
  std::memcpy(impl_->buf.get(), kHeader, sizeof kHeader - 1);
  impl_->used = sizeof kHeader - 1;
}

FlowWriter::~FlowWriter() = default;

void FlowWriter::write(const FlowRecord& r, const Ip6Pair* ip6) {
  Impl& s = *impl_;
  STAN_CHECK(!s.committed, "[FlowWriter] ", s.sink.path(), ": write after commit");
  if (!(std::isfinite(r.td) && r.td >= 0)) s.bad(r, detail::concat("td ", r.td, " is not >= 0"));
  if (r.pkt < 0) s.bad(r, detail::concat("pkt ", r.pkt, " is negative"));
  if (r.byt < 0) s.bad(r, detail::concat("byt ", r.byt, " is negative"));
  if (r.label >= s.labels.size())
    s.bad(r, detail::concat("label index ", int(r.label), " but only ", s.labels.size(),
                            " label names"));
  const std::string& label = s.labels[r.label];
  if (s.used + kMaxRowNoLabel + label.size() > kBuffer) s.flush();

  char* const start = s.buf.get() + s.used;
  char* p = start;
  if (!detail::format_time19(r.te, p)) s.bad(r, "te is outside years 0-9999");
  p += 19;
  if (r.te_ms != 0) {  // nfdump's form, which the readers take back
    if (r.te_ms > 999) s.bad(r, detail::concat("te_ms ", r.te_ms, " is not 0-999"));
    *p++ = '.';
    *p++ = static_cast<char>('0' + r.te_ms / 100);
    *p++ = static_cast<char>('0' + r.te_ms / 10 % 10);
    *p++ = static_cast<char>('0' + r.te_ms % 10);
  }
  *p++ = ',';
  p = detail::format_duration(r.td, p, p + 320);
  *p++ = ',';
  if (r.is_ipv6()) {
    if (!ip6) s.bad(r, "an IPv6 record without its addresses");
    p = format_ipv6(ip6->sa, p);
    *p++ = ',';
    p = format_ipv6(ip6->da, p);
  } else {
    p = detail::format_ipv4_fast(r.sa, p);
    *p++ = ',';
    p = detail::format_ipv4_fast(r.da, p);
  }
  *p++ = ',';
  p = put_int(p, r.sp);
  p = put_int(p, r.dp);
  const std::string& pr = protocol_names()[r.pr];
  std::memcpy(p, pr.data(), pr.size());
  p += pr.size();
  *p++ = ',';
  p += detail::format_flags_fast(r.flg, p);
  *p++ = ',';
  p = put_int(p, r.fwd);
  p = put_int(p, r.stos);
  p = put_int(p, r.pkt);
  p = put_int(p, r.byt);
  std::memcpy(p, label.data(), label.size());
  p += label.size();
  *p++ = '\n';
  s.used += static_cast<size_t>(p - start);
  ++s.rows;
}

void FlowWriter::commit() {
  Impl& s = *impl_;
  STAN_CHECK(!s.committed, "[FlowWriter] ", s.sink.path(), ": commit called twice");
  s.flush();
  s.sink.commit();
  s.committed = true;
}

int64_t FlowWriter::rows() const {
  return impl_->rows;
}

void write_flows(const std::string& path, const FlowTable& table) {
  FlowWriter w(path, table.labels);
  for (const FlowRecord& r : table.rows) w.write(r, table.ip6_of(r));
  w.commit();
}

}  // namespace stan
