// Command-line values: durations, host lists, devices.
#include <catch2/catch.hpp>

#include <filesystem>

#include "stan/io/cli_parse.h"

using namespace stan;

TEST_CASE("cli_parse: parse_duration and host lists", "[stan][cli]") {
  REQUIRE(parse_duration("90s") == 90);
  REQUIRE(parse_duration("30m") == 1800);
  REQUIRE(parse_duration("24h") == 86400);
  REQUIRE(parse_duration("2d") == 172800);
  REQUIRE(parse_duration("15") == 15);
  REQUIRE_THROWS_WITH(parse_duration("1w"), Catch::Contains("invalid duration '1w'"));
  REQUIRE_THROWS_WITH(parse_duration("-5m"), Catch::Contains("invalid duration"));
  auto ips = parse_host_list("42.219.0.1,42.219.0.2");
  REQUIRE(ips.size() == 2);
  REQUIRE_THROWS_WITH(parse_host_list("42.219.0.300"),
                      Catch::Contains("invalid host address '42.219.0.300'"));
  auto from_csv = parse_host_list(std::string("@") + STAN_ASSETS_DIR + "/sample/hosts.csv");
  REQUIRE(from_csv.size() == 41);
  REQUIRE_THROWS_WITH(parse_device_checked("gpu"), Catch::Contains("unknown device 'gpu'"));
}
