// The flow reader (stan/io/flow_read.cpp): UGR'16 and nfdump CSV, tolerance of the forms real
// files take, every bad field and header named with file, line and column, skipping and
// limits, the read summary and --biflows, and the bundled sample.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "stan/io/flow_test_util.h"
#include "temp_dir.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::testing::read_bytes;
using stan::testing::TempDir;
using namespace stan::flow_test;

TEST_CASE("flow_io: reads UGR'16 CSV with and without header", "[flow_io]") {
  const FlowTable want = expected_fixture();
  for (const char* name : {"ugr16_header.csv", "ugr16_noheader.csv"}) {
    INFO(name);
    stan::ReadStats st;
    FlowTable got = stan::read_flows(kFixtures + name, {}, &st);
    CHECK(st.format == "ugr16");
    CHECK(st.rows == 7);
    CHECK(st.bad_rows == 0);
    CHECK(got.labels == want.labels);
    REQUIRE(got.rows.size() == want.rows.size());
    for (size_t i = 0; i < want.rows.size(); ++i) {
      INFO("row " << i);
      CHECK(got.rows[i] == want.rows[i]);
    }
  }
}

TEST_CASE("flow_io: tolerant of CRLF, BOM, blank lines, spaces, 12 columns, 'lable'", "[flow_io]") {
  TempDir d;
  const FlowTable want = expected_fixture();
  std::string text = "\xEF\xBB\xBF" + kHeader + "\r\n\r\n" + kGoodRow + "\r\n\n";
  FlowTable got = stan::read_flows(d.write("crlf.csv", text));
  REQUIRE(got.rows.size() == 1);
  CHECK(got.rows[0] == want.rows[1]);

  got = stan::read_flows(d.write("spaces.csv", kHeader + "\n" + row_with(11, " 3928 ") + "\n"));
  REQUIRE(got.rows.size() == 1);
  CHECK(got.rows[0] == want.rows[1]);

  // UGR'16 without label column; no trailing newline.
  got = stan::read_flows(d.write("twelve.csv", kGoodRow.substr(0, kGoodRow.rfind(',')) + "\n" +
                                                   kGoodRow.substr(0, kGoodRow.rfind(','))));
  REQUIRE(got.rows.size() == 2);
  CHECK(got.rows[1] == want.rows[1]);

  // The STAN repository's header spells the label column "lable".
  std::string lable =
      "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,lable\n" + row_with(12, "blacklist") + "\n";
  got = stan::read_flows(d.write("lable.csv", lable));
  REQUIRE(got.rows.size() == 1);
  CHECK(got.labels[got.rows[0].label] == "blacklist");

  // Columns in another order, found by name; fwd/stos/label optional.
  got = stan::read_flows(
      d.write("reordered.csv",
              "byt,pkt,te,td,sa,da,sp,dp,pr,flg\n3928,35,2016-04-11 00:01:39,22.052,45.202.195.102,"
              "42.219.156.227,17784,22,TCP,.AP.S.\n"));
  REQUIRE(got.rows.size() == 1);
  CHECK(got.rows[0] == want.rows[1]);

  CHECK(stan::read_flows(d.write("empty.csv", "")).rows.empty());
  CHECK(stan::read_flows(d.write("header_only.csv", kHeader + "\n")).rows.empty());
}

TEST_CASE("flow_io: reads nfdump -o csv by column name and stops at the summary", "[flow_io]") {
  // nfdump_csv.csv: real `nfdump -o csv` output (see fixtures/make_nfdump_fixtures.sh) of the
  // records of nfdump_source.csv; its first rows are those of ugr16_header.csv.
  FlowTable want = expected_fixture();
  want.rows[3].fwd = 2;  // nfdump_source.csv gives this row a forwarding status
  stan::ReadStats st;
  FlowTable got = stan::read_flows(kFixtures + "nfdump_csv.csv", {}, &st);
  CHECK(st.format == "nfdump");
  CHECK(st.ipv6_rows == 2);  // IPv6 rows are skipped unless asked for
  REQUIRE(got.rows.size() == 10);
  for (int i = 0; i < 5; ++i) CHECK(got.rows[i] == want.rows[i]);
  FlowRecord icmp = want.rows[5];
  icmp.label = 0;  // nfdump has no labels
  CHECK(got.rows[5] == icmp);

  // A blank line also ends the records.
  TempDir d;
  std::string text = read_bytes(kFixtures + "nfdump_csv.csv");
  text.insert(text.find("Summary"), "\n");
  CHECK(stan::read_flows(d.write("blank.csv", text)).rows.size() == 10);

  std::string no_ibyt = text;
  no_ibyt.replace(no_ibyt.find(",ibyt,"), 6, ",xbyt,");
  REQUIRE_THROWS_WITH(stan::read_flows(d.write("no_ibyt.csv", no_ibyt)),
                      Contains("no_ibyt.csv:1: header has no column 'ibyt'"));
}

TEST_CASE("flow_read: an end time's fraction is kept as milliseconds", "[flow_read]") {
  TempDir d;
  const std::string head = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt\n";
  const std::string tail = ",2.25,42.219.1.2,8.8.8.8,5353,53,UDP,......,0,0,3,300\n";
  const FlowTable t = stan::read_flows(
      d.write("ms.csv", head + "2016-04-11 00:00:07" + tail + "2016-04-11 00:00:07.640" + tail +
                            "2016-04-11 00:00:07.5" + tail + "2016-04-11 00:00:07.12345" + tail +
                            "2016-04-11T00:00:07.250+02:00" + tail));
  REQUIRE(t.rows.size() == 5);
  const int64_t te = 1460332807;
  CHECK((t.rows[0].te == te && t.rows[0].te_ms == 0));
  CHECK((t.rows[1].te == te && t.rows[1].te_ms == 640));
  CHECK((t.rows[2].te == te && t.rows[2].te_ms == 500));  // ".5": half a second
  CHECK((t.rows[3].te == te && t.rows[3].te_ms == 123));  // digits past the third dropped
  CHECK((t.rows[4].te == te - 7200 && t.rows[4].te_ms == 250));
}

TEST_CASE("flow_io: every bad field is an error naming file, line, column", "[flow_io]") {
  TempDir d;
  struct Case {
    int col;
    std::string value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {11, "abc", "column 'byt': 'abc' is not an integer"},
      {11, "-5", "column 'byt': '-5' is negative"},
      {10, "-1", "column 'pkt': '-1' is negative"},
      {10, "1.5", "column 'pkt': '1.5' is not an integer"},
      {10, "99999999999999999999", "column 'pkt': '99999999999999999999' is out of range"},
      {2, "45.202.195", "column 'sa': '45.202.195' is not an IP address"},
      {3, "42.219.256.1", "column 'da': '42.219.256.1' is not an IP address"},
      {0, "2016-13-11 00:01:39", "column 'te': '2016-13-11 00:01:39' is not a time"},
      {0, "2016-04-11 25:01:39", "column 'te': '2016-04-11 25:01:39' is not a time"},
      {1, "abc", "column 'td': 'abc' is not a number"},
      {1, "-0.5", "column 'td': '-0.5' is negative"},
      {1, "nan", "column 'td': 'nan' is not a number"},
      {4, "70000", "column 'sp': '70000' is not a port number (0-65535)"},
      {5, "65536", "column 'dp': '65536' is not a port number (0-65535)"},
      {5, "-1", "column 'dp': '-1' is negative"},
      {6, "XYZ", "column 'pr': unknown protocol 'XYZ'"},
      {6, "300", "column 'pr': unknown protocol '300'"},
      {7, ".AP.X.", "column 'flg': '.AP.X.' is not a TCP flag string"},
      {8, "256", "column 'fwd': '256' is out of range (0-255)"},
      {9, "x", "column 'stos': 'x' is not an integer"},
      {12, "", "column 'label': empty label"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO("case " << i << ": " << c.message);
    const std::string path =
        d.write("bad" + std::to_string(i) + ".csv",
                kHeader + "\n" + kGoodRow + "\n" + row_with(c.col, c.value) + "\n" + kGoodRow);
    REQUIRE_THROWS_WITH(stan::read_flows(path), Contains(path + ":3: " + c.message));
    // Without a header the same row is line 2.
    const std::string bare = d.write("bare" + std::to_string(i) + ".csv",
                                     kGoodRow + "\n" + row_with(c.col, c.value) + "\n");
    REQUIRE_THROWS_WITH(stan::read_flows(bare), Contains(bare + ":2: " + c.message));
  }
  // Wrong column count.
  const std::string short_row = d.write("short.csv", kHeader + "\n" + kGoodRow + ",extra\n");
  REQUIRE_THROWS_WITH(stan::read_flows(short_row),
                      Contains(short_row + ":2: expected 13 columns, got 14"));
  const std::string bare_short = d.write("bare_short.csv", "2016-04-11 00:01:39,1,2,3\n");
  REQUIRE_THROWS_WITH(stan::read_flows(bare_short),
                      Contains("bare_short.csv:1: expected 12 or 13 columns"));
  const std::string mixed = d.write("mixed.csv", kGoodRow + "\n" + kGoodRow.substr(0, 60) + "\n");
  REQUIRE_THROWS_WITH(stan::read_flows(mixed), Contains("mixed.csv:2: expected 13 columns, got 5"));
}

TEST_CASE("flow_io: header problems and missing files are clear errors", "[flow_io]") {
  TempDir d;
  const std::string no_byt =
      d.write("no_byt.csv", "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,label\n" + kGoodRow + "\n");
  REQUIRE_THROWS_WITH(stan::read_flows(no_byt),
                      Contains("no_byt.csv:1: header has no column 'byt'"));
  const std::string dup = d.write("dup.csv", kHeader + ",te\n");
  REQUIRE_THROWS_WITH(stan::read_flows(dup), Contains("dup.csv:1: header: duplicate column 'te'"));
  const std::string junk = d.write("junk.csv", "hello,world\n" + kGoodRow + "\n");
  REQUIRE_THROWS_WITH(
      stan::read_flows(junk),
      Contains("junk.csv:1: column 'te': 'hello' is not a time") && Contains("not a header"));
  REQUIRE_THROWS_WITH(
      stan::read_flows(d.path("nope.csv")),
      Contains("cannot open '" + d.path("nope.csv") + "'") && Contains("No such file"));
  REQUIRE_THROWS_WITH(stan::read_flows(d.dir.string()),
                      Contains("cannot open '" + d.dir.string() + "': is a folder"));
}

TEST_CASE("flow_io: skip_bad_rows skips and counts, and max_rows stops", "[flow_io]") {
  TempDir d;
  const std::string path = d.write(
      "mixed.csv", kHeader + "\n" + kGoodRow + "\n" + row_with(11, "abc") + "\n" + kGoodRow + "\n" +
                       row_with(2, "1.2.3") + "\n" + kGoodRow + ",x\n" + kGoodRow + "\n");
  stan::ReadOptions opt;
  opt.skip_bad_rows = true;
  stan::ReadStats st;
  FlowTable tab = stan::read_flows(path, opt, &st);
  CHECK(st.rows == 3);
  CHECK(st.bad_rows == 3);
  CHECK(tab.rows.size() == 3);
  CHECK(st.first_error == path + ":3: column 'byt': 'abc' is not an integer");

  opt.max_rows = 2;
  tab = stan::read_flows(path, opt, &st);
  CHECK(tab.rows.size() == 2);
  CHECK(st.rows == 2);

  // Header errors are not row errors: still thrown.
  const std::string no_td = d.write("no_td.csv", "te,sa,da,sp,dp,pr,flg,pkt,byt\n");
  REQUIRE_THROWS_WITH(stan::read_flows(no_td, opt), Contains("header has no column 'td'"));

  // for_each_flow streams without filling table.rows, and interns labels into table.
  FlowTable labels_only;
  int64_t n = 0;
  stan::for_each_flow(kFixtures + "ugr16_header.csv", labels_only, [&](const FlowRecord&) { ++n; });
  CHECK(n == 7);
  CHECK(labels_only.rows.empty());
  CHECK(labels_only.labels == std::vector<std::string>{"background", "blacklist"});
}

TEST_CASE("flow_io: the bundled sample reads with its documented row count", "[flow_io]") {
  const std::string path = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
  stan::ReadStats st;
  FlowTable tab = stan::read_flows(path, {}, &st);
  CHECK(st.format == "ugr16");
  CHECK(st.bad_rows == 0);
  REQUIRE(tab.rows.size() == 208701);  // stan/assets/sample/README.md
  CHECK(tab.labels == std::vector<std::string>{"background", "blacklist"});
  int64_t blacklist = 0;
  bool sorted = true;
  for (size_t i = 0; i < tab.rows.size(); ++i) {
    blacklist += tab.rows[i].label == 1;
    if (i && tab.rows[i].te < tab.rows[i - 1].te) sorted = false;
  }
  CHECK(blacklist == 172);
  CHECK(sorted);
  CHECK(stan::format_time(tab.rows.front().te) == "2016-04-11 00:01:39");
  CHECK(stan::format_time(tab.rows.back().te) == "2016-04-11 23:59:59");
}

TEST_CASE("flow_read: the read summary says what was skipped, split or dropped", "[flow_read]") {
  stan::ReadStats s;
  s.lines = 10;
  CHECK(stan::read_summary("f.csv", s).empty());  // every row became one record
  s.ipv6_rows = 2;
  CHECK(stan::read_summary("f.csv", s) ==
        "f.csv: skipped 2 of 10 rows: IPv6 (the model covers IPv4)");
  s.ipv6_rows = 0;
  s.bad_rows = 3;
  s.first_error = "f.csv:4: column 'byt': 'x' is not an integer";
  CHECK(stan::read_summary("f.csv", s) ==
        "f.csv: skipped 3 of 10 rows: 3 malformed (first: f.csv:4: column 'byt': 'x' is not an "
        "integer)");
  s.ipv6_rows = 2;
  CHECK(stan::read_summary("f.csv", s) ==
        "f.csv: skipped 5 of 10 rows: 2 IPv6 (the model covers IPv4), 3 malformed (first: f.csv:4: "
        "column 'byt': 'x' is not an integer)");

  stan::ReadStats b;
  b.lines = 10;
  b.biflow_rows = 4;
  b.reverse_records = 4;
  CHECK(stan::read_summary("b.csv", b) ==
        "b.csv: 4 bidirectional rows: each direction became a record (4 reverse records; "
        "--biflows forward keeps the forward direction only)");
  b.reverse_records = 0;
  b.ipv6_rows = 1;
  CHECK(stan::read_summary("b.csv", b) ==
        "b.csv: skipped 1 of 10 rows: IPv6 (the model covers IPv4); 4 bidirectional rows: "
        "forward direction only (their out packets and bytes dropped)");
}

TEST_CASE("flow_read: --biflows takes split or forward and names anything else", "[flow_read]") {
  CHECK(stan::parse_biflows("split") == stan::Biflows::split);
  CHECK(stan::parse_biflows("forward") == stan::Biflows::forward);
  for (const char* bad : {"", "Split", "both", "forward "}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(stan::parse_biflows(bad),
                        "unknown --biflows '" + std::string(bad) + "' (expected split or forward)");
  }
}

TEST_CASE("flow_read: lines counts data rows only, max_rows counts records delivered",
          "[flow_read]") {
  // Header, a blank line and three rows; the last row is bad and skipped.
  const std::string text =
      kHeader + "\n\n" + kGoodRow + "\n" + kGoodRow + "\n" + row_with(11, "x") + "\n";
  stan::ReadOptions opt;
  opt.skip_bad_rows = true;
  stan::ByteSource src("three.csv", text);
  stan::ReadStats st;
  const FlowTable tab = stan::read_flows(src, opt, &st);
  CHECK(st.lines == 3);
  CHECK(st.rows == 2);
  CHECK(st.bad_rows == 1);
  CHECK(tab.rows.size() == 2);
  CHECK(st.format == "ugr16");
  opt.max_rows = 1;
  stan::ByteSource again("three.csv", text);
  CHECK(stan::read_flows(again, opt, &st).rows.size() == 1);
  CHECK(st.rows == 1);
}
