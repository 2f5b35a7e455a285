// The field formatting and parsing helpers declared in flow_io.h (the reader lives in
// flow_read.cpp, the writer in flow_write.cpp, byte streams in compressed_io.cpp).
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "stan/io/flow_fields.h"
#include "stan/io/flow_io.h"

namespace stan {

namespace {

struct ProtoName {
  const char* name;
  uint8_t number;
};
// The names nfdump prints (its spelling) for the protocols one meets in practice; others are
// written as numbers and read from numbers (nfdump -N prints numbers).
constexpr ProtoName kProtocols[] = {
    {"ICMP", proto::icmp},
    {"IGMP", 2},
    {"GGP", 3},
    {"IPIP", proto::ipip},
    {"ST", 5},
    {"TCP", proto::tcp},
    {"EGP", 8},
    {"IGP", 9},
    {"UDP", proto::udp},
    {"DCCP", 33},
    {"IPv6", proto::ipv6},
    {"Rte6", 43},
    {"Frag6", 44},
    {"IDRP", 45},
    {"RSVP", 46},
    {"GRE", proto::gre},
    {"ESP", proto::esp},
    {"AH", 51},
    {"MOBIL", 55},
    {"ICMP6", 58},
    {"NOHE6", 59},
    {"OPTS6", 60},
    {"EIGRP", 88},
    {"OSPF", 89},
    {"ETHIP", 97},
    {"ENCAP", 98},
    {"PIM", 103},
    {"IPcmp", 108},
    {"VRRP", 112},
    {"PGM", 113},
    {"L2TP", 115},
    {"ISIS4", 124},
    {"SCTP", 132},
    {"UDP-L", 136},
    {"MPLS", 137},
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

std::string format_ipv6(const std::array<uint8_t, 16>& a) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.data(), text, sizeof text);
  return text;
}

bool parse_ipv6(std::string_view s, std::array<uint8_t, 16>* out) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf || s.find(':') == std::string_view::npos) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  return inet_pton(AF_INET6, buf, out->data()) == 1;
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

std::string port_class_name(int64_t c) {
  if (c < 1024) return std::to_string(c);
  const int64_t first = 1024 + (c - 1024) * 100;
  return std::to_string(first) + "-" + std::to_string(std::min<int64_t>(65535, first + 99));
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
