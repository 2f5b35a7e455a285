// Internal: the hot field parsers and formatters behind flow_io.h, inline so the reader's and
// writer's per-row loops compile to straight-line code. Not part of the public API.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace stan::detail {

inline bool is_digit(char c) {
  return static_cast<unsigned>(c - '0') < 10u;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilDate {
  int64_t y;
  unsigned m, d;
};
inline CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

inline bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

inline unsigned two_digits(const char* p) {
  return static_cast<unsigned>(p[0] - '0') * 10 + static_cast<unsigned>(p[1] - '0');
}

// Parses "YYYY-MM-DD" at p (10 chars) into Unix seconds of its midnight.
inline bool parse_date10(const char* p, int64_t* out) {
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!is_digit(p[i])) return false;
  if (p[4] != '-' || p[7] != '-') return false;
  const int64_t y = two_digits(p) * 100 + two_digits(p + 2);
  const unsigned m = two_digits(p + 5), d = two_digits(p + 8);
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const unsigned dim = kDays[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
  if (d > dim) return false;
  *out = days_from_civil(y, m, d) * 86400;
  return true;
}

// "YYYY-MM-DD HH:MM:SS" (a 'T' also separates date and time), optionally followed by a
// fraction ".fff" (nfdump 1.7 prints milliseconds: kept in *ms when asked for, digits past the
// third dropped) and a zone: "Z", " UTC", "+HH:MM", "+HHMM" or "+HH" (or '-'); without a zone
// the time is UTC. Remembers the last date, since consecutive flow records almost always share
// it.
class TimeParser {
 public:
  bool parse(std::string_view s, int64_t* out, uint16_t* ms = nullptr) {
    if (ms) *ms = 0;
    if (s.size() < 19) return false;
    const char* p = s.data();
    if (!have_date_ || std::memcmp(p, last_date_, 10) != 0) {
      if (!parse_date10(p, &last_midnight_)) return false;
      std::memcpy(last_date_, p, 10);
      have_date_ = true;
    }
    if ((p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':') return false;
    for (int i : {11, 12, 14, 15, 17, 18})
      if (!is_digit(p[i])) return false;
    const unsigned hh = two_digits(p + 11), mm = two_digits(p + 14), ss = two_digits(p + 17);
    if (hh > 23 || mm > 59 || ss > 59) return false;
    int64_t offset = 0;
    if (s.size() > 19 && !zone_and_fraction(s.substr(19), &offset, ms)) return false;
    *out = last_midnight_ + hh * 3600 + mm * 60 + ss - offset;
    return true;
  }

 private:
  // What may follow the seconds: ".fff" (milliseconds into *ms if given), then "Z", " UTC",
  // "UTC" or +HH[[:]MM] / -... Sets the zone's offset east of UTC in seconds.
  static bool zone_and_fraction(std::string_view t, int64_t* offset, uint16_t* ms) {
    if (!t.empty() && t[0] == '.') {
      size_t i = 1;
      unsigned v = 0;
      while (i < t.size() && is_digit(t[i])) {
        if (i <= 3) v = v * 10 + static_cast<unsigned>(t[i] - '0');
        ++i;
      }
      if (i == 1) return false;
      for (size_t k = i; k <= 3; ++k) v *= 10;  // ".5" is 500 ms
      if (ms) *ms = static_cast<uint16_t>(v);
      t.remove_prefix(i);
    }
    if (t.empty() || t == "Z" || t == "z" || t == " UTC" || t == "UTC") return true;
    if (t[0] != '+' && t[0] != '-') return false;
    const int64_t sign = t[0] == '-' ? -1 : 1;
    t.remove_prefix(1);
    if (t.size() < 2 || !is_digit(t[0]) || !is_digit(t[1])) return false;
    const unsigned h = two_digits(t.data());
    unsigned m = 0;
    t.remove_prefix(2);
    if (!t.empty() && t[0] == ':') t.remove_prefix(1);
    if (!t.empty()) {
      if (t.size() != 2 || !is_digit(t[0]) || !is_digit(t[1])) return false;
      m = two_digits(t.data());
    }
    if (h > 23 || m > 59) return false;
    *offset = sign * static_cast<int64_t>(h * 3600 + m * 60);
    return true;
  }

  char last_date_[10] = {};
  bool have_date_ = false;
  int64_t last_midnight_ = 0;
};

inline bool parse_ipv4_fast(std::string_view s, uint32_t* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  uint32_t ip = 0;
  for (int part = 0; part < 4; ++part) {
    if (p == end || !is_digit(*p)) return false;
    uint32_t v = 0;
    int nd = 0;
    while (p != end && is_digit(*p)) {
      v = v * 10 + static_cast<uint32_t>(*p - '0');
      if (++nd > 3) return false;
      ++p;
    }
    if (v > 255) return false;
    ip = (ip << 8) | v;
    if (part < 3) {
      if (p == end || *p != '.') return false;
      ++p;
    }
  }
  if (p != end) return false;
  *out = ip;
  return true;
}

// Writes a.b.c.d (at most 15 chars); returns the end.
inline char* format_ipv4_fast(uint32_t ip, char* p) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    const unsigned v = (ip >> shift) & 255u;
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (shift) *p++ = '.';
  }
  return p;
}

// "UAPRSF" with '.' for unset bits; the 8-letter nfdump 1.7 form "CEUAPRSF" (CWR, ECE as bits
// 128 and 64); or a number ("0x1b", "27").
inline bool parse_flags_fast(std::string_view s, uint8_t* out) {
  static constexpr char kLetters[] = "CEUAPRSF";
  if (s.size() == 6 || s.size() == 8) {
    const char* letters = kLetters + (8 - s.size());
    unsigned v = 0;
    bool ok = true;
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned bit = 1u << (s.size() - 1 - i);
      if (s[i] == letters[i]) {
        v |= bit;
      } else if (s[i] != '.') {
        ok = false;
        break;
      }
    }
    if (ok) {
      *out = static_cast<uint8_t>(v);
      return true;
    }
  }
  unsigned v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    b += 2;
    base = 16;
  }
  if (b == e) return false;
  auto [q, ec] = std::from_chars(b, e, v, base);
  if (ec != std::errc() || q != e || v > 255) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

// Writes "YYYY-MM-DD HH:MM:SS" (19 chars) for years 0-9999; returns false otherwise.
inline bool format_time19(int64_t t, char* out) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t sec = t - days * 86400;
  CivilDate c = civil_from_days(days);
  if (c.y < 0 || c.y > 9999) return false;
  auto put2 = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  const auto y = static_cast<unsigned>(c.y);
  put2(out, y / 100);
  put2(out + 2, y % 100);
  out[4] = '-';
  put2(out + 5, c.m);
  out[7] = '-';
  put2(out + 8, c.d);
  out[10] = ' ';
  const auto s = static_cast<unsigned>(sec);
  put2(out + 11, s / 3600);
  out[13] = ':';
  put2(out + 14, s / 60 % 60);
  out[16] = ':';
  put2(out + 17, s % 60);
  return true;
}

// Writes nfdump's 6-letter flag string (8 letters if CWR/ECE bits are set). Returns length.
inline size_t format_flags_fast(uint8_t f, char* out) {
  static constexpr char kLetters[] = "CEUAPRSF";
  const size_t n = f >= 64 ? 8 : 6;
  for (size_t i = 0; i < n; ++i) {
    const unsigned bit = 1u << (n - 1 - i);
    out[i] = (f & bit) ? kLetters[8 - n + i] : '.';
  }
  return n;
}

// Duration with at most 3 decimals, trailing zeros dropped ("0", "7", "22.052"): rounds to the
// millisecond, so any value read from a UGR'16 file writes back to text that reads the same.
inline char* format_duration(double td, char* out, char* end) {
  auto r = std::to_chars(out, end, td, std::chars_format::fixed, 3);
  char* p = r.ptr;
  char* dot = static_cast<char*>(std::memchr(out, '.', static_cast<size_t>(p - out)));
  if (dot) {
    while (p[-1] == '0') --p;
    if (p[-1] == '.') --p;
  }
  if (p - out == 2 && out[0] == '-' && out[1] == '0') {  // -0.0001 -> "-0": print "0"
    out[0] = '0';
    p = out + 1;
  }
  return p;
}

}  // namespace stan::detail
