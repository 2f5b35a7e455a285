// The field formatting and parsing helpers declared in flow_io.h (the reader lives in
// flow_read.cpp, the writer in flow_write.cpp, byte streams in compressed_io.cpp).
#include <cctype>
#include <charconv>
#include <cstdio>

#include "stan/io/flow_fields.h"
#include "stan/io/flow_io.h"

namespace stan {

namespace {

struct ProtoName {
  const char* name;
  uint8_t number;
};
// The names nfdump prints for the protocols one meets in practice; others print as numbers.
constexpr ProtoName kProtocols[] = {
    {"ICMP", proto::icmp},
    {"IGMP", 2},
    {"IPIP", proto::ipip},
    {"TCP", proto::tcp},
    {"EGP", 8},
    {"IGP", 9},
    {"UDP", proto::udp},
    {"IPv6", proto::ipv6},
    {"RSVP", 46},
    {"GRE", proto::gre},
    {"ESP", proto::esp},
    {"AH", 51},
    {"ICMP6", 58},
    {"EIGRP", 88},
    {"OSPF", 89},
    {"PIM", 103},
    {"VRRP", 112},
    {"L2TP", 115},
    {"SCTP", 132},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::string format_ipv4(uint32_t ip) {
  char buf[32];
  return std::string(buf, detail::format_ipv4_fast(ip, buf));
}

bool parse_ipv4(std::string_view s, uint32_t* out) {
  return detail::parse_ipv4_fast(s, out);
}

std::string format_time(int64_t unix_seconds) {
  char buf[64];
  if (detail::format_time19(unix_seconds, buf)) return std::string(buf, 19);
  // Outside years 0-9999 (never in real data): still printed, though parse_time refuses it.
  const int64_t days =
      unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
  const auto sec = static_cast<unsigned>(unix_seconds - days * 86400);
  const detail::CivilDate c = detail::civil_from_days(days);
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02u:%02u:%02u", static_cast<long long>(c.y),
                c.m, c.d, sec / 3600, sec / 60 % 60, sec % 60);
  return buf;
}

bool parse_time(std::string_view s, int64_t* out) {
  detail::TimeParser p;
  return p.parse(s, out);
}

std::string format_flags(uint8_t flags) {
  char buf[8];
  return std::string(buf, detail::format_flags_fast(flags, buf));
}

bool parse_flags(std::string_view s, uint8_t* out) {
  return detail::parse_flags_fast(s, out);
}

std::string protocol_name(uint8_t pr) {
  for (const ProtoName& p : kProtocols)
    if (p.number == pr) return p.name;
  return std::to_string(pr);
}

bool parse_protocol(std::string_view s, uint8_t* out) {
  if (!s.empty() && detail::is_digit(s[0])) {
    unsigned v = 0;
    auto [q, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || q != s.data() + s.size() || v > 255) return false;
    *out = static_cast<uint8_t>(v);
    return true;
  }
  for (const ProtoName& p : kProtocols) {
    if (iequals(s, p.name)) {
      *out = p.number;
      return true;
    }
  }
  return false;
}

}  // namespace stan
