// The flow reader: a chunked line splitter over ByteSource plus hand-written field parsers.
// Hot path per row: memchr for the line end, one pass for the commas, from_chars / inline
// parsers per field, no allocation (labels and protocol names are cached).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_fields.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace stan {

namespace {

enum Col { kTe, kTd, kSa, kDa, kSp, kDp, kPr, kFlg, kFwd, kStos, kPkt, kByt, kLabel, kNumCols };
constexpr const char* kUgrNames[kNumCols] = {"te",  "td",  "sa",   "da",  "sp",  "dp",   "pr",
                                             "flg", "fwd", "stos", "pkt", "byt", "label"};
constexpr size_t kMaxFields = 256;
constexpr size_t kInitialBuffer = size_t{1} << 20;
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
  time,
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
      what = " is not an IPv4 address";
      break;
    case Bad::time:
      what = " is not a time (YYYY-MM-DD HH:MM:SS)";
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
  if (ec != std::errc() || p != e) return Bad::not_integer;
  if (*out < 0) return Bad::negative;
  return Bad::none;
}

inline Bad parse_bounded(std::string_view s, int64_t max, Bad too_big, int64_t* out) {
  Bad b = parse_i64(s, out);
  if (b == Bad::none && *out > max) return too_big;
  if (b == Bad::out_of_range) return too_big;
  return b;
}

inline Bad parse_td(std::string_view s, double* out) {
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), e, *out, std::chars_format::general);
  if (ec != std::errc() || p != e || !std::isfinite(*out)) return Bad::not_number;
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

  ReadStats run() {
    stats_.format = "ugr16";
    ByteSource src(path_);
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
    } else if (nfdump_ && (trim(ln).empty() || ln.starts_with("Summary"))) {
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

  // Decides the column layout from the first non-blank line. Returns true if that line is a
  // data row (UGR'16 without header), false if it was a header.
  bool layout(std::string_view ln) {
    const size_t n = split(ln);
    if (n > kMaxFields) fail(detail::concat("more than ", kMaxFields, " columns"));
    int64_t t;
    if (time_.parse(fields_[0], &t)) {
      if (n != 12 && n != 13)
        fail(detail::concat("expected 12 or 13 columns (UGR'16 without header), got ", n));
      for (int c = 0; c < kNumCols; ++c) {
        col_[c] = c < static_cast<int>(n) ? c : -1;
        names_[c] = kUgrNames[c];
      }
      ncols_ = n;
      have_layout_ = true;
      return true;
    }
    // A header: find the columns by name.
    std::vector<std::string> names(n);
    int known = 0;
    for (size_t i = 0; i < n; ++i) {
      names[i] = lower(fields_[i]);
      for (size_t j = 0; j < i; ++j)
        if (names[j] == names[i] && !names[i].empty())
          fail(detail::concat("header: duplicate column '", names[i], "'"));
    }
    auto find = [&](const char* name) -> int {
      for (size_t i = 0; i < n; ++i)
        if (names[i] == name) return static_cast<int>(i);
      return -1;
    };
    nfdump_ = find("pkt") < 0 && find("ipkt") >= 0;
    for (int c = 0; c < kNumCols; ++c) {
      const char* name = kUgrNames[c];
      if (nfdump_ && c == kPkt) name = "ipkt";
      if (nfdump_ && c == kByt) name = "ibyt";
      col_[c] = find(name);
      if (c == kLabel && col_[c] < 0 && find("lable") >= 0) {  // the STAN repo's spelling
        name = "lable";
        col_[c] = find(name);
      }
      names_[c] = name;
      if (col_[c] >= 0) ++known;
    }
    if (known == 0) {
      // Neither a header nor a UGR'16 row: report why it is not a row.
      fail(detail::concat("column 'te': ", describe(Bad::time, fields_[0]),
                          " (and the line is not a header: no known column names)"));
    }
    for (int c = 0; c < kNumCols; ++c) {
      if (col_[c] < 0 && c != kFwd && c != kStos && c != kLabel)
        fail(detail::concat("header has no column '", names_[c], "'"));
    }
    ncols_ = n;
    have_layout_ = true;
    if (nfdump_) stats_.format = "nfdump";
    return false;
  }

  void row(std::string_view ln) {
    RowError err;
    FlowRecord r;
    const size_t n = split(ln);
    if (n != ncols_) {
      bad_row(detail::concat("expected ", ncols_, " columns, got ",
                             n > kMaxFields ? std::string("more than 256") : std::to_string(n)));
      return;
    }
    if (!parse(r, err)) {
      bad_row(detail::concat("column '", names_[err.col], "': ", describe(err.bad, err.text)));
      return;
    }
    ++stats_.rows;
    on_row_(r);
  }

  void bad_row(const std::string& reason) {
    if (!opt_.skip_bad_rows) fail(reason);
    ++stats_.bad_rows;
    if (stats_.first_error.empty())
      stats_.first_error = detail::concat(path_, ":", line_no_, ": ", reason);
  }

  bool parse(FlowRecord& r, RowError& err) {
    auto field = [&](int c) { return fields_[col_[c]]; };
    auto bad = [&](int c, Bad b) {
      err.col = c;
      err.bad = b;
      err.text = fields_[col_[c]];
      return false;
    };
    int64_t v;
    Bad b;
    if (!time_.parse(field(kTe), &r.te)) return bad(kTe, Bad::time);
    if ((b = parse_td(field(kTd), &r.td)) != Bad::none) return bad(kTd, b);
    if (!detail::parse_ipv4_fast(field(kSa), &r.sa)) return bad(kSa, Bad::ipv4);
    if (!detail::parse_ipv4_fast(field(kDa), &r.da)) return bad(kDa, Bad::ipv4);
    if ((b = parse_bounded(field(kSp), 65535, Bad::port, &v)) != Bad::none) return bad(kSp, b);
    r.sp = static_cast<uint16_t>(v);
    if ((b = parse_bounded(field(kDp), 65535, Bad::port, &v)) != Bad::none) return bad(kDp, b);
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

  detail::TimeParser time_;
  std::string last_label_;
  uint8_t last_label_id_ = 0;
  bool label_valid_ = false;
  char last_pr_[8] = {};
  size_t last_pr_len_ = 0;
  uint8_t last_pr_value_ = 0;
};

}  // namespace

ReadStats for_each_flow(const std::string& path, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt) {
  Reader reader(path, table, on_row, opt);
  return reader.run();
}

FlowTable read_flows(const std::string& path, const ReadOptions& opt, ReadStats* stats) {
  FlowTable table;
  ReadStats s = for_each_flow(
      path, table, [&](const FlowRecord& r) { table.rows.push_back(r); }, opt);
  if (stats) *stats = std::move(s);
  return table;
}

}  // namespace stan
