// printf-style formatting into std::string (stan/io/text_format.cpp), used by the text, JSON and
// HTML reports.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "stan/io/text_format.h"

TEST_CASE("text_format: strprintf formats into a string of any length", "[text_format]") {
  CHECK(stan::strprintf("%d-%s-%.2f", 42, "x", 1.5) == "42-x-1.50");
  CHECK(stan::strprintf("%s", "").empty());
  CHECK(stan::strprintf("%5s|%-3d|", "ab", 7) == "   ab|7  |");
  CHECK(stan::strprintf("100%%") == "100%");
  // Far longer than any fixed buffer: nothing is cut.
  const std::string big(100000, 'z');
  const std::string out = stan::strprintf("<%s>", big.c_str());
  REQUIRE(out.size() == big.size() + 2);
  CHECK(out == "<" + big + ">");
}

TEST_CASE("text_format: format_number is fixed-point, '-' when not finite", "[text_format]") {
  CHECK(stan::format_number(3.14159265) == "3.1416");  // 4 decimals by default
  CHECK(stan::format_number(1.0 / 3, 2) == "0.33");
  CHECK(stan::format_number(-1.25, 1) == "-1.2");  // printf rounding of the binary value
  CHECK(stan::format_number(1234567.0, 0) == "1234567");
  CHECK(stan::format_number(0.0) == "0.0000");
  CHECK(stan::format_number(1e-9, 3) == "0.000");
  CHECK(stan::format_number(std::numeric_limits<double>::quiet_NaN()) == "-");
  CHECK(stan::format_number(std::numeric_limits<double>::infinity(), 2) == "-");
  CHECK(stan::format_number(-std::numeric_limits<double>::infinity()) == "-");
}
