// Command-line values: durations, host lists, devices.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

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

TEST_CASE("cli_parse: durations and start times stay inside the supported years", "[stan][cli]") {
  // 106751991167300 days overflowed int64 seconds (and wrote 0 flows); now it is refused.
  REQUIRE_THROWS_WITH(parse_duration("106751991167300d"),
                      Catch::Contains("invalid duration '106751991167300d' (at most 47482 days"));
  REQUIRE_THROWS_WITH(parse_duration("9223372036854775807s"), Catch::Contains("at most"));
  REQUIRE_THROWS_WITH(parse_duration("99999999999999999999"), Catch::Contains("invalid duration"));
  REQUIRE(parse_duration("47482d") == 47482LL * 86400);
  REQUIRE(parse_start_time("2016-04-11 00:00:00", "--start") == 1460332800);
  REQUIRE_THROWS_WITH(
      parse_start_time("1969-12-31 23:59:59", "--start"),
      Catch::Contains("invalid --start '1969-12-31 23:59:59'") && Catch::Contains("1970-2099"));
  REQUIRE_THROWS_WITH(parse_start_time("yesterday", "--begin"),
                      Catch::Contains("invalid --begin 'yesterday'"));
  check_time_span(1460332800, 86400, "--start");
  REQUIRE_THROWS_WITH(check_time_span(kMaxFlowTime - 10, 11, "--start and --duration"),
                      Catch::Contains("--start and --duration: 2099-12-31 23:59:50 plus 11 s ends "
                                      "after 2099"));
}

TEST_CASE("cli_parse: an output may not name an input", "[stan][cli]") {
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / ("stan_cli_out_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d / "sub");
  const std::string in = (d / "in.csv").string();
  std::ofstream(in) << "x";
  fs::create_hard_link(in, d / "hard.csv");
  fs::create_symlink(in, d / "soft.csv");
  auto refused = [&](const std::string& out, const std::string& input) {
    try {
      check_output_not_input(out, "--out", {{"--data", input}});
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("is the input given with --data"));
      return true;
    }
    return false;
  };
  CHECK(refused(in, in));
  CHECK(refused((d / "sub" / ".." / "in.csv").string(), in));  // another spelling
  CHECK(refused((d / "hard.csv").string(), in));               // a hard link
  CHECK(refused((d / "soft.csv").string(), in));               // a symbolic link
  CHECK(refused(in, "@" + in));                                // a host list given as @file
  CHECK(refused((d / "new.csv").string(), (d / "sub" / ".." / "new.csv").string()));
  CHECK_FALSE(refused((d / "out.csv").string(), in));
  CHECK_FALSE(refused(in, ""));
  check_output_not_input("", "--out", {{"--data", in}});  // no output: nothing to check
  fs::remove_all(d);
}
