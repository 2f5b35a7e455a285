// The flow writer (stan/io/flow_write.cpp): UGR'16 CSV that reads back equal (plain, gzip, xz),
// its text, publishing on commit only, and the output names it accepts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "stan/io/flow_io.h"
#include "stan/io/flow_test_util.h"
#include "temp_dir.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::testing::read_bytes;
using stan::testing::TempDir;
using namespace stan::flow_test;

TEST_CASE("flow_io: write then read gives equal records (plain, gz, xz)", "[flow_io]") {
  TempDir d;
  const FlowTable tab = random_table(3000, 7);
  for (const char* name : {"rt.csv", "rt.csv.gz", "rt.csv.xz"}) {
    INFO(name);
    const std::string path = d.path(name);
    stan::write_flows(path, tab);
    FlowTable back = stan::read_flows(path);
    CHECK(back.labels == tab.labels);
    REQUIRE(back.rows.size() == tab.rows.size());
    CHECK(back.rows == tab.rows);
  }
  const std::string gz = read_bytes(d.path("rt.csv.gz"));
  const std::string xz = read_bytes(d.path("rt.csv.xz"));
  CHECK(gz.substr(0, 2) == "\x1f\x8b");
  CHECK(xz.substr(0, 6) == std::string("\xFD"
                                       "7zXZ\0",
                                       6));
  CHECK(read_bytes(d.path("rt.csv")).substr(0, kHeader.size() + 1) == kHeader + "\n");

  // The fixture, written and read back, including durations such as 1.3719999999999999.
  const FlowTable fx = stan::read_flows(kFixtures + "ugr16_header.csv");
  stan::write_flows(d.path("fx.csv"), fx);
  CHECK(stan::read_flows(d.path("fx.csv")).rows == fx.rows);
}

TEST_CASE("flow_io: the writer's text: durations with at most 3 decimals", "[flow_io]") {
  TempDir d;
  FlowTable tab;
  FlowRecord r;
  r.te = 1460332898;
  r.sa = ip("42.219.0.1");
  r.da = ip("8.8.8.8");
  r.sp = 5353;
  r.dp = 53;
  r.pr = stan::proto::udp;
  r.pkt = 1;
  r.byt = 76;
  for (double td : {0.0, 7.0, 22.052, 0.001, 1.372, 0.5, 1.3719999999999999, 1234567.25}) {
    r.td = td;
    tab.rows.push_back(r);
  }
  tab.rows.back().pr = 99;
  stan::write_flows(d.path("td.csv"), tab);
  std::vector<std::string> tds;
  std::stringstream ss(read_bytes(d.path("td.csv")));
  std::string line;
  std::getline(ss, line);
  CHECK(line == kHeader);
  std::getline(ss, line);
  CHECK(line == "2016-04-11 00:01:38,0,42.219.0.1,8.8.8.8,5353,53,UDP,......,0,0,1,76,background");
  tds.push_back(line.substr(20, line.find(',', 20) - 20));
  std::string last;
  while (std::getline(ss, line)) {
    tds.push_back(line.substr(20, line.find(',', 20) - 20));
    last = line;
  }
  CHECK(tds == std::vector<std::string>{"0", "7", "22.052", "0.001", "1.372", "0.5", "1.372",
                                        "1234567.25"});
  CHECK(last.find(",99,") != std::string::npos);  // unnamed protocol numbers print as numbers
}

TEST_CASE("flow_write: end times keep their milliseconds, written as nfdump prints them",
          "[flow_write]") {
  TempDir d;
  FlowTable t;
  FlowRecord r;
  r.te = 1460332807;  // 2016-04-11 00:00:07
  r.td = 2.25;
  r.sa = 0x2ADB0102;
  r.da = 0x08080808;
  r.pr = stan::proto::udp;
  r.pkt = 3;
  r.byt = 300;
  for (uint16_t ms : {0, 5, 40, 640, 999}) {
    r.te_ms = ms;
    t.rows.push_back(r);
  }
  stan::write_flows(d.path("ms.csv"), t);
  const std::string text = read_bytes(d.path("ms.csv"));
  CHECK_THAT(text, Contains("\n2016-04-11 00:00:07,2.25,"));  // whole seconds as before
  CHECK_THAT(text, Contains("\n2016-04-11 00:00:07.005,2.25,"));
  CHECK_THAT(text, Contains("\n2016-04-11 00:00:07.040,2.25,"));
  CHECK_THAT(text, Contains("\n2016-04-11 00:00:07.640,2.25,"));
  CHECK_THAT(text, Contains("\n2016-04-11 00:00:07.999,2.25,"));
  CHECK(stan::read_flows(d.path("ms.csv")).rows == t.rows);
  t.rows[0].te_ms = 1000;
  REQUIRE_THROWS_WITH(stan::write_flows(d.path("bad.csv"), t), Contains("te_ms 1000 is not 0-999"));
  CHECK_FALSE(fs::exists(d.path("bad.csv")));
}

TEST_CASE("flow_io: FlowWriter publishes on commit only", "[flow_io]") {
  TempDir d;
  const FlowTable tab = expected_fixture();
  for (const char* name : {"gen.csv", "gen.csv.xz", "gen.csv.gz"}) {
    INFO(name);
    {
      stan::FlowWriter w(d.path(name), tab.labels);
      for (const FlowRecord& r : tab.rows) w.write(r);
      CHECK(w.rows() == 7);
      CHECK(d.files().size() <= 1);  // at most the temporary file (none while anonymous)
      CHECK_FALSE(fs::exists(d.path(name)));
    }  // destroyed without commit
    CHECK(d.files().empty());

    stan::FlowWriter w(d.path(name), tab.labels);
    for (const FlowRecord& r : tab.rows) w.write(r);
    w.commit();
    CHECK(d.files() == std::vector<std::string>{name});
    CHECK(stan::read_flows(d.path(name)).rows == tab.rows);
    REQUIRE_THROWS_WITH(w.write(tab.rows[0]), Contains("write after commit"));
    fs::remove(d.path(name));
  }

  stan::FlowWriter w(d.path("bad.csv"));
  FlowRecord r;
  r.td = -1;
  REQUIRE_THROWS_WITH(w.write(r), Contains("td -1 is not >= 0"));
  r.td = 0;
  r.byt = -3;
  REQUIRE_THROWS_WITH(w.write(r), Contains("byt -3 is negative"));
  r.byt = 0;
  r.label = 1;
  REQUIRE_THROWS_WITH(w.write(r), Contains("label index 1 but only 1 label names"));
  REQUIRE_THROWS_WITH(stan::FlowWriter(d.path("l.csv"), {"a,b"}), Contains("label 'a,b'"));
  REQUIRE_THROWS_WITH(stan::write_flows(d.path("missing/dir/out.csv"), tab),
                      Contains("cannot write '" + d.path("missing/dir/out.csv") + "'"));
}

TEST_CASE("flow_write: output names must end in .csv, .csv.gz or .csv.xz", "[flow_write]") {
  for (const char* ok : {"a.csv", "dir/flows.csv.gz", "/tmp/x.y/flows.csv.xz"}) {
    INFO(ok);
    CHECK_NOTHROW(stan::check_csv_output_name(ok));
  }
  const std::string tail = " (flow files are written as .csv, .csv.gz or .csv.xz)";
  REQUIRE_THROWS_WITH(stan::check_csv_output_name("flows"),
                      "cannot write 'flows': no file extension" + tail);
  REQUIRE_THROWS_WITH(stan::check_csv_output_name("dir.v2/flows"),
                      "cannot write 'dir.v2/flows': no file extension" + tail);
  REQUIRE_THROWS_WITH(stan::check_csv_output_name("out/flows.txt"),
                      "cannot write 'out/flows.txt': unknown extension '.txt'" + tail);
  REQUIRE_THROWS_WITH(stan::check_csv_output_name("flows.tar.gz"),
                      "cannot write 'flows.tar.gz': unknown extension '.tar.gz'" + tail);
  // A bare extension is not a file name.
  REQUIRE_THROWS_WITH(stan::check_csv_output_name(".csv"),
                      "cannot write '.csv': unknown extension '.csv'" + tail);
  // FlowWriter checks the name before creating anything.
  TempDir d;
  REQUIRE_THROWS_WITH(stan::FlowWriter(d.path("flows.json")),
                      Contains("unknown extension '.json'"));
  CHECK(d.files().empty());
}

TEST_CASE("flow_write: IPv6 records are written with their addresses", "[flow_write]") {
  TempDir d;
  FlowTable tab;
  stan::Ip6Pair p;
  REQUIRE(stan::parse_ipv6("2001:db8::10", &p.sa));
  REQUIRE(stan::parse_ipv6("2001:db8:1::53", &p.da));
  FlowRecord r;
  r.te = t("2016-04-11 00:00:01");
  r.sp = 40000;
  r.dp = 53;
  r.pr = stan::proto::udp;
  r.pkt = 1;
  r.byt = 80;
  r.ip6 = tab.add_ip6(p);
  tab.rows.push_back(r);
  stan::write_flows(d.path("v6.csv"), tab);
  std::stringstream ss(read_bytes(d.path("v6.csv")));
  std::string line;
  std::getline(ss, line);
  CHECK(line == kHeader);
  std::getline(ss, line);
  CHECK(line ==
        "2016-04-11 00:00:01,0,2001:db8::10,2001:db8:1::53,40000,53,UDP,......,0,0,1,80,"
        "background");
}
