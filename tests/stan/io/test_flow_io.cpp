// Flow I/O: the UGR'16 / nfdump reader, the writer, compressed streams, AtomicFile, and the
// bundled sample.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "temp_dir.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::testing::read_bytes;
using stan::testing::TempDir;

namespace {

const std::string kFixtures = std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/";
const std::string kGoodRow =
    "2016-04-11 00:01:39,22.052,45.202.195.102,42.219.156.227,17784,22,TCP,.AP.S.,0,0,35,3928,"
    "background";
const std::string kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label";

int64_t t(const char* text) {
  int64_t v = 0;
  REQUIRE(stan::parse_time(text, &v));
  return v;
}

uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

// The 7 records of fixtures/ugr16_header.csv, as the reader must deliver them.
FlowTable expected_fixture() {
  FlowTable e;
  const uint8_t bl = e.label_index("blacklist");
  auto rec = [](int64_t te, double td, uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp,
                uint8_t pr, uint8_t flg, uint8_t stos, int64_t pkt, int64_t byt, uint8_t label) {
    FlowRecord r;
    r.te = te, r.td = td, r.sa = sa, r.da = da, r.sp = sp, r.dp = dp, r.pr = pr, r.flg = flg;
    r.stos = stos, r.pkt = pkt, r.byt = byt, r.label = label;
    return r;
  };
  using namespace stan::tcp_flag;
  e.rows = {
      rec(t("2016-04-11 00:01:38"), 7.0, ip("60.150.71.237"), ip("42.219.159.200"), 32864, 80,
          stan::proto::tcp, syn, 0, 4, 240, 0),
      rec(t("2016-04-11 00:01:39"), 22.052, ip("45.202.195.102"), ip("42.219.156.227"), 17784, 22,
          stan::proto::tcp, ack | psh | syn, 0, 35, 3928, 0),
      rec(t("2016-04-11 00:01:41"), 0.0, ip("237.128.62.158"), ip("42.219.151.248"), 41007, 23,
          stan::proto::tcp, syn, 40, 6, 360, 0),
      rec(t("2016-04-11 00:01:43"), 0.0, ip("127.204.60.89"), ip("42.219.159.207"), 123, 123,
          stan::proto::udp, ack, 0, 1, 76, 0),
      rec(t("2016-04-11 00:01:44"), 1.372, ip("42.219.158.243"), ip("54.143.54.185"), 80, 8502,
          stan::proto::tcp, ack | psh | syn | fin, 0, 8, 6935, 0),
      rec(t("2016-04-11 00:02:10"), 0.0, ip("42.219.153.35"), ip("200.1.2.3"), 0, 2048,
          stan::proto::icmp, 0, 0, 1, 84, bl),
      rec(t("2016-04-11 23:59:59"), 3.5, ip("42.219.154.155"), ip("10.0.0.1"), 0, 0,
          stan::proto::gre, 0, 0, 12, 1440, 0),
  };
  return e;
}

// Random records at UGR'16's resolution (td in whole milliseconds), every field exercised.
FlowTable random_table(int n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  FlowTable tab;
  tab.label_index("blacklist");
  tab.label_index("anomaly-spam");
  auto u = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < n; ++i) {
    FlowRecord r;
    r.te = static_cast<int64_t>(u(0, 4102444800));  // 1970 .. 2100
    r.td = i % 3 == 0 ? 0.0 : static_cast<double>(u(0, 100000000)) / 1000.0;
    r.sa = static_cast<uint32_t>(u(0, 0xFFFFFFFF));
    r.da = static_cast<uint32_t>(u(0, 0xFFFFFFFF));
    r.sp = static_cast<uint16_t>(u(0, 65535));
    r.dp = static_cast<uint16_t>(u(0, 65535));
    r.pr = static_cast<uint8_t>(i % 4 == 0 ? u(0, 255) : stan::proto::tcp);
    r.flg = static_cast<uint8_t>(u(0, 255));
    r.fwd = static_cast<uint8_t>(u(0, 255));
    r.stos = static_cast<uint8_t>(u(0, 255));
    r.pkt = static_cast<int64_t>(u(0, i % 5 == 0 ? INT64_MAX : 100000));
    r.byt = static_cast<int64_t>(u(0, i % 7 == 0 ? INT64_MAX : 10000000));
    r.label = static_cast<uint8_t>(u(0, 2));
    tab.rows.push_back(r);
  }
  return tab;
}

// Writes a UGR'16 file whose only data row is kGoodRow with column `col` replaced by `value`.
std::string row_with(int col, const std::string& value) {
  std::vector<std::string> f;
  std::stringstream ss(kGoodRow);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  f[static_cast<size_t>(col)] = value;
  std::string r;
  for (size_t i = 0; i < f.size(); ++i) r += (i ? "," : "") + f[i];
  return r;
}

}  // namespace

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

TEST_CASE("flow_io: label_index interns names", "[flow_io]") {
  FlowTable tab;
  CHECK(tab.label_index("background") == 0);
  CHECK(tab.label_index("blacklist") == 1);
  CHECK(tab.label_index("background") == 0);
  CHECK(tab.labels == std::vector<std::string>{"background", "blacklist"});
  for (int i = 2; i < 256; ++i) tab.label_index(std::to_string(i));
  REQUIRE_THROWS_WITH(tab.label_index("one-too-many"), Contains("too many distinct labels"));
}

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

TEST_CASE("flow_io: compressed input is detected by magic bytes", "[flow_io]") {
  TempDir d;
  const std::string text = read_bytes(kFixtures + "ugr16_header.csv");
  const FlowTable want = stan::read_flows(kFixtures + "ugr16_header.csv");
  for (auto c : {stan::Compression::gzip, stan::Compression::xz}) {
    INFO(stan::compression_name(c));
    // Misleading name: detection must not use the extension.
    const std::string path = d.path(std::string("flows_") + stan::compression_name(c) + ".csv");
    stan::ByteSink sink(path, c);
    sink.write(text);
    sink.commit();
    stan::ByteSource src(path);
    CHECK(src.compression() == c);
    FlowTable got = stan::read_flows(path);
    CHECK(got.rows == want.rows);
    CHECK(got.labels == want.labels);
  }
  // Two gzip members back to back (as `cat a.gz b.gz`) read as one stream.
  std::string header_part = text.substr(0, text.find('\n') + 1);
  stan::ByteSink a(d.path("a.gz"), stan::Compression::gzip);
  a.write(header_part);
  a.commit();
  stan::ByteSink b(d.path("b.gz"), stan::Compression::gzip);
  b.write(text.substr(header_part.size()));
  b.commit();
  const std::string both =
      d.write("both.gz", read_bytes(d.path("a.gz")) + read_bytes(d.path("b.gz")));
  CHECK(stan::read_flows(both).rows == want.rows);
}

TEST_CASE("flow_io: truncated or corrupt gz and xz files are errors naming the file", "[flow_io]") {
  TempDir d;
  const FlowTable tab = random_table(20000, 11);
  for (const char* ext : {"gz", "xz"}) {
    INFO(ext);
    const std::string full = d.path(std::string("full.csv.") + ext);
    stan::write_flows(full, tab);
    const std::string bytes = read_bytes(full);
    REQUIRE(bytes.size() > 1000);
    const std::string what = std::string("truncated or corrupt ") + (ext[0] == 'g' ? "gzip" : "xz");
    for (size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{8}}) {
      INFO("kept " << keep << " of " << bytes.size() << " bytes");
      const std::string cut = d.write(std::string("cut.csv.") + ext, bytes.substr(0, keep));
      REQUIRE_THROWS_WITH(stan::read_flows(cut), Contains(cut) && Contains(what));
    }
    std::string flipped = bytes;
    flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x55);
    const std::string bad = d.write(std::string("flipped.csv.") + ext, flipped);
    // Garbage may reach the parser before the decoder notices (the checksum comes at the end):
    // skip bad rows so that the stream error is what surfaces.
    stan::ReadOptions skip;
    skip.skip_bad_rows = true;
    REQUIRE_THROWS_WITH(stan::read_flows(bad, skip), Contains(bad) && Contains(what));
  }
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

TEST_CASE("flow_io: skip_bad_rows skips and counts; max_rows stops", "[flow_io]") {
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
