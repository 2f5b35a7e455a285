// The flow reader: a chunked line splitter over ByteSource plus hand-written field parsers.
// Hot path per row: memchr for the line end, one pass for the commas, from_chars / inline
// parsers per field, no allocation (labels and protocol names are cached).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_fields.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace stan {

namespace {

enum Col {
  kTe,
  kTd,
  kSa,
  kDa,
  kSp,
  kDp,
  kPr,
  kFlg,
  kFwd,
  kStos,
  kPkt,
  kByt,
  kLabel,
  kTs,    // nfdump: flow start (read only to recognise the layout)
  kOpkt,  // nfdump: out packets, out bytes (bidirectional records)
  kObyt,
  kNumCols
};
constexpr int kUgrCols = kLabel + 1;
constexpr const char* kUgrNames[kNumCols] = {"te",    "td",  "sa",   "da",   "sp",  "dp",
                                             "pr",    "flg", "fwd",  "stos", "pkt", "byt",
                                             "label", "ts",  "opkt", "obyt"};
// nfdump's names: -o csv header, then the words of the -o fmt: header (lower case, trimmed).
struct ColNames {
  const char* csv;
  const char* fmt[2];
};
constexpr ColNames kNfdumpNames[kNumCols] = {
    {"te", {"date last seen", nullptr}}, {"td", {"duration", nullptr}},
    {"sa", {"src ip addr", nullptr}},    {"da", {"dst ip addr", nullptr}},
    {"sp", {"src pt", nullptr}},         {"dp", {"dst pt", nullptr}},
    {"pr", {"proto", nullptr}},          {"flg", {"flags", nullptr}},
    {"fwd", {"fwd", nullptr}},           {"stos", {"stos", "tos"}},
    {"ipkt", {"in pkt", "packets"}},     {"ibyt", {"in byte", "bytes"}},
    {"label", {nullptr, nullptr}},       {"ts", {"date first seen", nullptr}},
    {"opkt", {"out pkt", nullptr}},      {"obyt", {"out byte", nullptr}},
};
constexpr const char* kDocumentedFmt =
    "fmt:%ts,%te,%td,%sa,%da,%sp,%dp,%pr,%flg,%fwd,%stos,%ipkt,%ibyt,%opkt,%obyt";
// The fmt: token of each column, for messages.
constexpr const char* kFmtTokens[kNumCols] = {"%te", "%td",  "%sa",   "%da",   "%sp",   "%dp",
                                              "%pr", "%flg", "%fwd",  "%stos", "%ipkt", "%ibyt",
                                              "",    "%ts",  "%opkt", "%obyt"};
constexpr size_t kMaxFields = 256;
constexpr size_t kInitialBuffer = size_t{1} << 16;  // grows (doubling) for long lines
constexpr size_t kMaxLine = size_t{1} << 24;

// Why a field failed to parse; the message is only built when it is needed.
enum class Bad {
  none,
  not_integer,
  out_of_range,
  negative,
  not_number,
  port,
  byte,
  ipv4,
  ipv6_short,
  mixed_family,
  scaled,
  time,
  time_range,
  flags,
  protocol,
  empty_label,
  too_many_labels
};

struct RowError {
  int col = -1;  // Col, or -1 for a whole-row problem
  Bad bad = Bad::none;
  std::string_view text;
};

std::string describe(Bad bad, std::string_view text) {
  const char* what = "";
  switch (bad) {
    case Bad::not_integer:
      what = " is not an integer";
      break;
    case Bad::out_of_range:
      what = " is out of range";
      break;
    case Bad::negative:
      what = " is negative";
      break;
    case Bad::not_number:
      what = " is not a number";
      break;
    case Bad::port:
      what = " is not a port number (0-65535)";
      break;
    case Bad::byte:
      what = " is out of range (0-255)";
      break;
    case Bad::ipv4:
      what = " is not an IP address";
      break;
    case Bad::ipv6_short:
      what = " is an IPv6 address shortened by nfdump (run nfdump with -6 for full addresses)";
      break;
    case Bad::mixed_family:
      return "one address is IPv4, the other IPv6";
    case Bad::scaled:
      what = " is not an integer (nfdump scales large numbers: run nfdump with -N)";
      break;
    case Bad::time:
      what = " is not a time (YYYY-MM-DD HH:MM:SS)";
      break;
    case Bad::time_range:
      what = " is outside the supported years 1970-2099";
      break;
    case Bad::flags:
      what = " is not a TCP flag string (UAPRSF, '.' for unset)";
      break;
    case Bad::protocol:
      return detail::concat("unknown protocol '", text, "'");
    case Bad::empty_label:
      return "empty label";
    case Bad::too_many_labels:
      return detail::concat("too many distinct labels (at most 256): '", text, "'");
    case Bad::none:
      break;
  }
  return detail::concat("'", text, "'", what);
}

inline Bad parse_i64(std::string_view s, int64_t* out) {
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), e, *out);
  if (ec == std::errc::result_out_of_range) return Bad::out_of_range;
  if (ec != std::errc() || p != e) {
    // nfdump without -N prints "1.2 M", "3.4 G".
    if (ec == std::errc() && p != e && (*p == '.' || *p == ' ') &&
        (e[-1] == 'M' || e[-1] == 'G' || e[-1] == 'T' || e[-1] == 'K'))
      return Bad::scaled;
    return Bad::not_integer;
  }
  if (*out < 0) return Bad::negative;
  return Bad::none;
}

inline Bad parse_bounded(std::string_view s, int64_t max, Bad too_big, int64_t* out) {
  Bad b = parse_i64(s, out);
  if (b == Bad::none && *out > max) return too_big;
  if (b == Bad::out_of_range) return too_big;
  return b;
}

// nfdump's -o fmt duration without -N: "00:00:22.052" or "2d 01:02:03.456".
bool parse_clock_duration(std::string_view s, double* out) {
  double days = 0;
  const size_t d = s.find('d');
  if (d != std::string_view::npos) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + d, days);
    if (ec != std::errc() || p != s.data() + d) return false;
    s.remove_prefix(d + 1);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  if (s.size() < 8 || s[2] != ':' || s[5] != ':') return false;
  for (int i : {0, 1, 3, 4})
    if (!detail::is_digit(s[static_cast<size_t>(i)])) return false;
  double sec = 0;
  auto [p, ec] = std::from_chars(s.data() + 6, s.data() + s.size(), sec);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  *out = days * 86400 + detail::two_digits(s.data()) * 3600.0 +
         detail::two_digits(s.data() + 3) * 60.0 + sec;
  return true;
}

inline Bad parse_td(std::string_view s, double* out) {
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), e, *out, std::chars_format::general);
  if ((ec != std::errc() || p != e) && !parse_clock_duration(s, out)) return Bad::not_number;
  if (!std::isfinite(*out)) return Bad::not_number;
  if (*out < 0) return Bad::negative;
  // Round to the millisecond, UGR'16's resolution: the published files also hold Python float
  // artifacts ("1.3719999999999999" for 1.372), and the writer prints at most 3 decimals, so
  // this makes write-then-read exact. Above 2^42 s a double has no millisecond digits left.
  if (*out < 4398046511104.0) *out = std::round(*out * 1000.0) / 1000.0;
  return Bad::none;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

class Reader {
 public:
  Reader(const std::string& path, FlowTable& table,
         const std::function<void(const FlowRecord&)>& on_row, const ReadOptions& opt)
      : path_(path), table_(table), on_row_(on_row), opt_(opt) {}

  ReadStats run(ByteSource& src) {
    stats_.format = "ugr16";
    size_t cap = kInitialBuffer;
    std::unique_ptr<char[]> buf(new char[cap]);
    size_t begin = 0, end = 0;
    bool eof = false;
    while (true) {
      char* nl = static_cast<char*>(std::memchr(buf.get() + begin, '\n', end - begin));
      if (!nl) {
        if (eof) {
          if (begin < end) line(std::string_view(buf.get() + begin, end - begin));
          break;
        }
        if (begin > 0) {
          std::memmove(buf.get(), buf.get() + begin, end - begin);
          end -= begin;
          begin = 0;
        }
        if (end == cap) {
          STAN_CHECK(cap < kMaxLine, path_, ":", line_no_ + 1, ": line longer than ", kMaxLine,
                     " bytes");
          std::unique_ptr<char[]> bigger(new char[cap * 2]);
          std::memcpy(bigger.get(), buf.get(), end);
          buf = std::move(bigger);
          cap *= 2;
        }
        size_t k = src.read(buf.get() + end, cap - end);
        if (k == 0) eof = true;
        end += k;
        continue;
      }
      std::string_view ln(buf.get() + begin, static_cast<size_t>(nl - (buf.get() + begin)));
      begin = static_cast<size_t>(nl - buf.get()) + 1;
      if (!line(ln)) break;
    }
    return stats_;
  }

 private:
  // Handles one line; returns false to stop reading.
  bool line(std::string_view ln) {
    ++line_no_;
    if (!ln.empty() && ln.back() == '\r') ln.remove_suffix(1);
    if (line_no_ == 1 && ln.starts_with("\xEF\xBB\xBF")) ln.remove_prefix(3);  // UTF-8 BOM
    if (opt_.max_rows >= 0 && stats_.rows >= opt_.max_rows) return false;
    if (!have_layout_) {
      if (trim(ln).empty()) return true;
      if (!layout(ln)) return true;  // it was a header line
    } else if (nfdump_ && (trim(ln).empty() || ln.starts_with("Summary") ||
                           ln.starts_with("No matching flows"))) {
      return false;  // nfdump's summary block follows the records
    } else if (ln.empty()) {
      return true;
    }
    row(ln);
    return true;
  }

  // Splits a line at commas into fields_ (trimmed); returns the field count, or kMaxFields + 1
  // if there are more fields than fields_ holds.
  size_t split(std::string_view ln) {
    const char* p = ln.data();
    const char* e = p + ln.size();
    size_t n = 0;
    while (true) {
      const char* c = static_cast<const char*>(std::memchr(p, ',', static_cast<size_t>(e - p)));
      const char* fe = c ? c : e;
      if (n == kMaxFields) return kMaxFields + 1;
      std::string_view f(p, static_cast<size_t>(fe - p));
      if (!f.empty() &&
          (f.front() == ' ' || f.back() == ' ' || f.front() == '\t' || f.back() == '\t'))
        f = trim(f);
      fields_[n++] = f;
      if (!c) return n;
      p = c + 1;
    }
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(detail::concat(path_, ":", line_no_, ": ", msg));
  }

  void positional(const int* cols, size_t n) {
    for (int c = 0; c < kNumCols; ++c) col_[c] = cols[c] < static_cast<int>(n) ? cols[c] : -1;
    ncols_ = n;
    have_layout_ = true;
  }

  // Decides the column layout from the first non-blank line. Returns true if that line is a
  // data row (a file without header), false if it was a header.
  bool layout(std::string_view ln) {
    const size_t n = split(ln);
    if (n > kMaxFields) fail(detail::concat("more than ", kMaxFields, " columns"));
    int64_t t;
    if (time_.parse(fields_[0], &t)) {
      if (n >= 2 && time_.parse(fields_[1], &t)) {
        // nfdump -o csv -q (or the documented fmt: order): ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,
        // ipkt,ibyt,opkt,obyt,...
        if (n < 15)
          fail(detail::concat("two times first, as in nfdump -o csv -q, but ", n,
                              " columns (expected at least 15: ts,te,td,sa,da,sp,dp,pr,flg,fwd,"
                              "stos,ipkt,ibyt,opkt,obyt)"));
        static constexpr int kQuiet[kNumCols] = {1, 2,  3,  4,  5,  6, 7,  8,
                                                 9, 10, 11, 12, 99, 0, 13, 14};
        for (int c = 0; c < kNumCols; ++c)
          names_[c] = kNfdumpNames[c].csv ? kNfdumpNames[c].csv : "";
        nfdump_ = true;
        stats_.format = "nfdump";
        positional(kQuiet, n);
        return true;
      }
      if (n != 12 && n != 13)
        fail(detail::concat("expected 12 or 13 columns (UGR'16 without header), got ", n));
      static constexpr int kUgr[kNumCols] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99, 99, 99};
      for (int c = 0; c < kNumCols; ++c) names_[c] = kUgrNames[c];
      positional(kUgr, n);
      return true;
    }
    if (n == 1 && fmt_layout(ln)) return false;
    // A header: find the columns by name.
    std::vector<std::string> names(n);
    for (size_t i = 0; i < n; ++i) {
      names[i] = lower(fields_[i]);
      if (names[i].find(" addr:port") != std::string::npos)
        fail("nfdump's %sap/%dap (address:port) columns cannot be read: use %sa,%sp,%da,%dp");
      for (size_t j = 0; j < i; ++j)
        if (names[j] == names[i] && !names[i].empty())
          fail(detail::concat("header: duplicate column '", names[i], "'"));
    }
    auto find = [&](const char* name) -> int {
      if (!name) return -1;
      for (size_t i = 0; i < n; ++i)
        if (names[i] == name) return static_cast<int>(i);
      return -1;
    };
    nfdump_ = find("pkt") < 0 && find("ipkt") >= 0;
    int known = 0;
    for (int c = 0; c < kNumCols; ++c) {
      const ColNames& nf = kNfdumpNames[c];
      if (nfdump_) {
        col_[c] = find(nf.csv);
        names_[c] = nf.csv ? nf.csv : kUgrNames[c];
      } else {
        col_[c] = c < kUgrCols ? find(kUgrNames[c]) : find(nf.csv);
        if (c == kLabel && col_[c] < 0) col_[c] = find("lable");  // the STAN repo's spelling
        names_[c] = kUgrNames[c];
      }
      if (c == kLabel && col_[c] >= 0) names_[c] = names[static_cast<size_t>(col_[c])];
      if (col_[c] >= 0) ++known;
    }
    if (known == 0) {
      // Neither a header nor a UGR'16 row: report why it is not a row.
      fail(detail::concat("column 'te': ", describe(Bad::time, fields_[0]),
                          " (and the line is not a header: no known column names)"));
    }
    finish_header(n, nfdump_ ? "nfdump" : "ugr16");
    return false;
  }

  // Checks a header's columns (col_, names_ set) and takes the layout.
  void finish_header(size_t n, const char* format) {
    for (int c = 0; c < kUgrCols; ++c) {
      if (col_[c] < 0 && c != kFwd && c != kStos && c != kLabel)
        fail(detail::concat("header has no column '", names_[c], "'"));
    }
    if ((col_[kOpkt] >= 0) != (col_[kObyt] >= 0))
      fail("header has only one of the out-packet and out-byte columns");
    ncols_ = n;
    have_layout_ = true;
    stats_.format = format;
  }

  // nfdump -o "fmt:..." prints a header of its own words ("Date first seen", "Src IP Addr",
  // "In Pkt", ...) separated by spaces, whatever separators the format string has. Reads it
  // word by word when the line is one; returns false if it is not such a header.
  bool fmt_layout(std::string_view ln) {
    std::string h;  // lower case, runs of spaces (and the format's separators) as one space
    for (char ch : ln) {
      const bool sep = ch == ' ' || ch == '\t' || ch == ';' || ch == '|';
      if (sep) {
        if (!h.empty() && h.back() != ' ') h += ' ';
      } else {
        h += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
    }
    if (!h.empty() && h.back() == ' ') h.pop_back();
    if (!h.starts_with("date ") && h.find("src ip addr") == std::string::npos) return false;
    if (h.find("addr:port") != std::string::npos)
      fail("nfdump's %sap/%dap (address:port) columns cannot be read: use %sa,%sp,%da,%dp");
    for (int c = 0; c < kNumCols; ++c) {
      col_[c] = -1;
      names_[c] = detail::concat(kFmtTokens[c], " (",
                                 kNfdumpNames[c].fmt[0] ? kNfdumpNames[c].fmt[0] : "", ")");
    }
    size_t pos = 0, n = 0;
    while (pos < h.size()) {
      int found = -1;
      size_t len = 0;
      for (int c = 0; c < kNumCols; ++c) {
        for (const char* word : kNfdumpNames[c].fmt) {
          if (!word) continue;
          const size_t wl = std::strlen(word);
          if (wl > len && h.compare(pos, wl, word) == 0 &&
              (pos + wl == h.size() || h[pos + wl] == ' ')) {
            found = c;
            len = wl;
          }
        }
      }
      if (found < 0) {
        fail(detail::concat("nfdump fmt: header: '", h.substr(pos, h.find(' ', pos) - pos),
                            "' is not a column stan reads (use the fields of: ", kDocumentedFmt,
                            ")"));
      }
      if (col_[found] >= 0) fail(detail::concat("header: duplicate column ", names_[found]));
      col_[found] = static_cast<int>(n++);
      pos += len + 1;
    }
    nfdump_ = true;
    finish_header(n, "nfdump-fmt");
    return true;
  }

  void row(std::string_view ln) {
    ++stats_.lines;
    RowError err;
    FlowRecord r;
    const size_t n = split(ln);
    if (n != ncols_) {
      bad_row(detail::concat("expected ", ncols_, " columns, got ",
                             n > kMaxFields ? std::string("more than 256") : std::to_string(n)));
      return;
    }
    if (!parse(r, err)) {
      if (err.col < 0) {
        bad_row(describe(err.bad, err.text));
      } else {
        bad_row(detail::concat("column '", names_[err.col], "': ", describe(err.bad, err.text)));
      }
      return;
    }
    if (v6_ && !opt_.ipv6) {
      ++stats_.ipv6_rows;
      return;
    }
    const bool bidir = col_[kOpkt] >= 0 && (out_pkt_ != 0 || out_byt_ != 0);
    if (!bidir) {
      deliver(r, false);
      return;
    }
    ++stats_.biflow_rows;
    if (opt_.biflows == Biflows::forward || r.pkt != 0 || r.byt != 0) deliver(r, false);
    if (opt_.biflows == Biflows::split) {
      FlowRecord rev = r;
      std::swap(rev.sa, rev.da);
      if (rev.pr != proto::icmp && rev.pr != 58) std::swap(rev.sp, rev.dp);
      rev.pkt = out_pkt_;
      rev.byt = out_byt_;
      ++stats_.reverse_records;
      deliver(rev, true);
    }
  }

  void deliver(FlowRecord& r, bool reverse) {
    if (v6_) {
      Ip6Pair p = ip6_;
      if (reverse) std::swap(p.sa, p.da);
      r.ip6 = table_.add_ip6(p);
    }
    if (opt_.row_limit >= 0 && stats_.rows >= opt_.row_limit)
      fail(detail::concat("more than ", opt_.row_limit,
                          " flow records, the row limit (--max-rows raises it)"));
    ++stats_.rows;
    on_row_(r);
  }

  void bad_row(const std::string& reason) {
    if (!opt_.skip_bad_rows) fail(reason);
    ++stats_.bad_rows;
    if (stats_.first_error.empty())
      stats_.first_error = detail::concat(path_, ":", line_no_, ": ", reason);
  }

  // An address: IPv4 on the fast path, else IPv6. Sets *v6 for an IPv6 address.
  Bad address(std::string_view s, uint32_t* v4, std::array<uint8_t, 16>* v6, bool* is_v6) {
    if (detail::parse_ipv4_fast(s, v4)) {
      *is_v6 = false;
      return Bad::none;
    }
    if (parse_ipv6(s, v6)) {
      *is_v6 = true;
      return Bad::none;
    }
    return s.find("..") != std::string_view::npos && s.find(':') != std::string_view::npos
               ? Bad::ipv6_short
               : Bad::ipv4;
  }

  bool parse(FlowRecord& r, RowError& err) {
    auto field = [&](int c) { return fields_[col_[c]]; };
    auto bad = [&](int c, Bad b) {
      err.col = c;
      err.bad = b;
      err.text = c >= 0 ? fields_[col_[c]] : std::string_view();
      return false;
    };
    int64_t v;
    Bad b;
    if (!time_.parse(field(kTe), &r.te, &r.te_ms)) return bad(kTe, Bad::time);
    if (r.te < kMinFlowTime || r.te >= kMaxFlowTime) return bad(kTe, Bad::time_range);
    if ((b = parse_td(field(kTd), &r.td)) != Bad::none) return bad(kTd, b);
    bool sa6 = false, da6 = false;
    if ((b = address(field(kSa), &r.sa, &ip6_.sa, &sa6)) != Bad::none) return bad(kSa, b);
    if ((b = address(field(kDa), &r.da, &ip6_.da, &da6)) != Bad::none) return bad(kDa, b);
    if (sa6 != da6) return bad(-1, Bad::mixed_family);
    v6_ = sa6;
    if (v6_) r.sa = r.da = 0;
    if ((b = parse_bounded(field(kSp), 65535, Bad::port, &v)) != Bad::none) return bad(kSp, b);
    r.sp = static_cast<uint16_t>(v);
    if ((b = parse_bounded(field(kDp), 65535, Bad::port, &v)) != Bad::none) {
      // nfdump -o fmt: prints ICMP type.code ("8.0") as the destination port.
      const size_t dot = field(kDp).find('.');
      int64_t type = 0, code = 0;
      if (dot == std::string_view::npos ||
          parse_bounded(field(kDp).substr(0, dot), 255, Bad::port, &type) != Bad::none ||
          parse_bounded(field(kDp).substr(dot + 1), 255, Bad::port, &code) != Bad::none)
        return bad(kDp, b);
      v = type * 256 + code;
    }
    r.dp = static_cast<uint16_t>(v);
    if (!protocol(field(kPr), &r.pr)) return bad(kPr, Bad::protocol);
    if (!detail::parse_flags_fast(field(kFlg), &r.flg)) return bad(kFlg, Bad::flags);
    if (col_[kFwd] >= 0) {
      if ((b = parse_bounded(field(kFwd), 255, Bad::byte, &v)) != Bad::none) return bad(kFwd, b);
      r.fwd = static_cast<uint8_t>(v);
    }
    if (col_[kStos] >= 0) {
      if ((b = parse_bounded(field(kStos), 255, Bad::byte, &v)) != Bad::none) return bad(kStos, b);
      r.stos = static_cast<uint8_t>(v);
    }
    if ((b = parse_i64(field(kPkt), &r.pkt)) != Bad::none) return bad(kPkt, b);
    if ((b = parse_i64(field(kByt), &r.byt)) != Bad::none) return bad(kByt, b);
    if (col_[kOpkt] >= 0) {
      if ((b = parse_i64(field(kOpkt), &out_pkt_)) != Bad::none) return bad(kOpkt, b);
      if ((b = parse_i64(field(kObyt), &out_byt_)) != Bad::none) return bad(kObyt, b);
    }
    if (col_[kLabel] >= 0) {
      std::string_view name = field(kLabel);
      if (name.empty()) return bad(kLabel, Bad::empty_label);
      if (!label_valid_ || name != last_label_) {
        if (std::find(table_.labels.begin(), table_.labels.end(), name) == table_.labels.end() &&
            table_.labels.size() >= 256)
          return bad(kLabel, Bad::too_many_labels);
        last_label_id_ = table_.label_index(name);
        last_label_.assign(name);
        label_valid_ = true;
      }
      r.label = last_label_id_;
    }
    return true;
  }

  // Protocol names repeat: remember the last one.
  bool protocol(std::string_view s, uint8_t* out) {
    if (s.size() == last_pr_len_ && s.size() <= sizeof last_pr_ &&
        std::memcmp(s.data(), last_pr_, s.size()) == 0 && last_pr_len_ > 0) {
      *out = last_pr_value_;
      return true;
    }
    if (!parse_protocol(s, out)) return false;
    if (s.size() <= sizeof last_pr_) {
      std::memcpy(last_pr_, s.data(), s.size());
      last_pr_len_ = s.size();
      last_pr_value_ = *out;
    }
    return true;
  }

  const std::string& path_;
  FlowTable& table_;
  const std::function<void(const FlowRecord&)>& on_row_;
  const ReadOptions& opt_;
  ReadStats stats_;
  int64_t line_no_ = 0;

  bool have_layout_ = false;
  bool nfdump_ = false;
  size_t ncols_ = 0;
  int col_[kNumCols] = {};
  std::string names_[kNumCols];
  std::string_view fields_[kMaxFields];

  // The current row's extras: IPv6 addresses and out counters.
  bool v6_ = false;
  Ip6Pair ip6_;
  int64_t out_pkt_ = 0, out_byt_ = 0;

  detail::TimeParser time_;
  std::string last_label_;
  uint8_t last_label_id_ = 0;
  bool label_valid_ = false;
  char last_pr_[8] = {};
  size_t last_pr_len_ = 0;
  uint8_t last_pr_value_ = 0;
};

}  // namespace

ReadStats for_each_flow(ByteSource& src, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt) {
  Reader reader(src.name(), table, on_row, opt);
  return reader.run(src);
}

ReadStats for_each_flow(const std::string& path, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt) {
  ByteSource src(path);
  return for_each_flow(src, table, on_row, opt);
}

FlowTable read_flows(ByteSource& src, const ReadOptions& opt, ReadStats* stats) {
  FlowTable table;
  ReadStats s = for_each_flow(
      src, table, [&](const FlowRecord& r) { table.rows.push_back(r); }, opt);
  if (stats) *stats = std::move(s);
  return table;
}

FlowTable read_flows(const std::string& path, const ReadOptions& opt, ReadStats* stats) {
  ByteSource src(path);
  return read_flows(src, opt, stats);
}

std::string read_summary(const std::string& path, const ReadStats& s) {
  std::vector<std::string> parts;
  if (s.ipv6_rows > 0)
    parts.push_back(detail::concat(s.ipv6_rows, " IPv6 (the model covers IPv4)"));
  if (s.bad_rows > 0)
    parts.push_back(detail::concat(s.bad_rows, " malformed (first: ", s.first_error, ")"));
  std::string out;
  if (!parts.empty()) {
    out = detail::concat(path, ": skipped ", s.ipv6_rows + s.bad_rows, " of ", s.lines, " rows: ");
    if (parts.size() == 1 && s.bad_rows == 0) {
      out += "IPv6 (the model covers IPv4)";
    } else {
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    }
  }
  if (s.biflow_rows > 0) {
    out += out.empty() ? path + ": " : "; ";
    out += s.reverse_records > 0 ? detail::concat(s.biflow_rows,
                                                  " bidirectional rows: each direction became a "
                                                  "record (",
                                                  s.reverse_records,
                                                  " reverse records; --biflows forward keeps "
                                                  "the forward direction only)")
                                 : detail::concat(s.biflow_rows,
                                                  " bidirectional rows: forward direction only "
                                                  "(their out packets and bytes dropped)");
  }
  return out;
}

Biflows parse_biflows(const std::string& text) {
  if (text == "split") return Biflows::split;
  if (text == "forward") return Biflows::forward;
  throw Error("unknown --biflows '" + text + "' (expected split or forward)");
}

}  // namespace stan
