// Field helpers of stan/io/flow_io.cpp: IPv4 addresses, times (with ISO 8601 zones), TCP flag
// strings and protocol names, parsed and formatted.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "stan/io/flow_io.h"

TEST_CASE("flow_io: field helpers parse and format", "[flow_io]") {
  uint32_t a = 0;
  REQUIRE(stan::parse_ipv4("42.219.0.1", &a));
  CHECK(a == ((42u << 24) | (219u << 16) | 1u));
  CHECK(stan::format_ipv4(a) == "42.219.0.1");
  CHECK(stan::format_ipv4(0xFFFFFFFF) == "255.255.255.255");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.", "a.b.c.d", "1..2.3",
                          "1.2.3.4 ", "1234.1.1.1", "::1"})
    CHECK_FALSE(stan::parse_ipv4(bad, &a));

  int64_t s = 0;
  REQUIRE(stan::parse_time("1970-01-01 00:00:00", &s));
  CHECK(s == 0);
  REQUIRE(stan::parse_time("2016-04-11 00:01:38", &s));
  CHECK(s == 1460332898);
  REQUIRE(stan::parse_time("2016-04-11 00:01:38.999", &s));  // nfdump 1.7 milliseconds
  CHECK(s == 1460332898);
  REQUIRE(stan::parse_time("2016-02-29 23:59:59", &s));
  CHECK(stan::format_time(s) == "2016-02-29 23:59:59");
  for (int64_t v : {int64_t{0}, int64_t{1460332898}, int64_t{951782400}, int64_t{4102444799},
                    int64_t{-1}, int64_t{253402300799}}) {
    int64_t back = 0;
    REQUIRE(stan::parse_time(stan::format_time(v), &back));
    CHECK(back == v);
  }
  CHECK(stan::format_time(-1) == "1969-12-31 23:59:59");
  for (const char* bad :
       {"", "2016-04-11", "2016-13-01 00:00:00", "2016-04-31 00:00:00", "2015-02-29 00:00:00",
        "2016-04-11 24:00:00", "2016-04-11 00:60:00", "2016/04/11 00:00:00", "2016-04-11 00:00:0x",
        "2016-04-11 00:00:00.", "2016-04-11 00:00:00 ", "1460332898"})
    CHECK_FALSE(stan::parse_time(bad, &s));

  uint8_t f = 0;
  for (int v = 0; v < 256; ++v) {
    const std::string text = stan::format_flags(static_cast<uint8_t>(v));
    CHECK(text.size() == (v < 64 ? 6u : 8u));
    REQUIRE(stan::parse_flags(text, &f));
    CHECK(f == v);
  }
  CHECK(stan::format_flags(stan::tcp_flag::ack | stan::tcp_flag::psh | stan::tcp_flag::syn |
                           stan::tcp_flag::fin) == ".AP.SF");
  REQUIRE(stan::parse_flags("0x12", &f));
  CHECK(f == 0x12);
  for (const char* bad : {"", "......X", "..X...", "FSRPAU", "0x100"})
    CHECK_FALSE(stan::parse_flags(bad, &f));

  uint8_t p = 0;
  for (int v = 0; v < 256; ++v) {
    REQUIRE(stan::parse_protocol(stan::protocol_name(static_cast<uint8_t>(v)), &p));
    CHECK(p == v);
  }
  CHECK(stan::protocol_name(stan::proto::ipv6) == "IPv6");
  REQUIRE(stan::parse_protocol("tcp", &p));
  CHECK(p == stan::proto::tcp);
  REQUIRE(stan::parse_protocol("IPIP", &p));
  CHECK(p == stan::proto::ipip);
  for (const char* bad : {"", "XYZ", "256", "-1", "6x"}) CHECK_FALSE(stan::parse_protocol(bad, &p));
}

TEST_CASE("times: ISO 8601 with a zone, and UTC without one", "[time]") {
  int64_t t = 0, u = 0;
  REQUIRE(stan::parse_time("2016-04-11 00:00:00", &u));
  CHECK(u == 1460332800);
  for (const char* s : {"2016-04-11T00:00:00Z", "2016-04-11T00:00:00", "2016-04-11 00:00:00 UTC",
                        "2016-04-11T02:00:00+02:00", "2016-04-11T02:00:00+0200",
                        "2016-04-10T19:00:00-05", "2016-04-11T00:00:00.250Z"}) {
    INFO(s);
    REQUIRE(stan::parse_time(s, &t));
    CHECK(t == u);
  }
  for (const char* s :
       {"2016-04-11T00:00:00+2", "2016-04-11T00:00:00+24:00", "2016-04-11T00:00:00Q",
        "2016-04-11T00:00:00.Z", "2016-04-11T00:00:00+02:60"}) {
    INFO(s);
    CHECK_FALSE(stan::parse_time(s, &t));
  }
}
