// Every nfdump CSV form stan reads, from fixtures made by the real nfdump 1.7.1 (see
// fixtures/make_nfdump_fixtures.sh and nfdump_commands.txt), plus IPv6 and the read
// summary. The fixtures are checked against the installed nfdump: the same commands on
// nfdump_source.nfcapd must print the same records.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "stan/io/flow_io.h"
#include "stan/io/nfcapd.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;

namespace {

const std::string kFixtures = std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/";

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The output of a shell command.
std::string shell(const std::string& cmd, int* code = nullptr) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The records of nfdump_source.csv (IPv4 and IPv6), as nfdump stores them: without labels.
FlowTable source() {
  stan::ReadOptions o;
  o.ipv6 = true;
  FlowTable t = stan::read_flows(kFixtures + "nfdump_source.csv", o);
  for (FlowRecord& r : t.rows) r.label = 0;
  return t;
}

// Records compared with their addresses (IPv6 indexes differ between tables).
struct Flat {
  FlowRecord r;
  std::string sa, da;
  bool operator==(const Flat&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Flat& f) {
  return os << f.r.te << "," << f.r.td << "," << f.sa << "," << f.da << "," << f.r.sp << ","
            << f.r.dp << "," << int(f.r.pr) << "," << int(f.r.flg) << "," << int(f.r.fwd) << ","
            << int(f.r.stos) << "," << f.r.pkt << "," << f.r.byt << "," << int(f.r.label);
}
std::vector<Flat> flat(const FlowTable& t) {
  std::vector<Flat> out;
  for (FlowRecord r : t.rows) {
    Flat f;
    if (const stan::Ip6Pair* p = t.ip6_of(r)) {
      f.sa = stan::format_ipv6(p->sa);
      f.da = stan::format_ipv6(p->da);
    } else {
      f.sa = stan::format_ipv4(r.sa);
      f.da = stan::format_ipv4(r.da);
    }
    r.ip6 = 0;
    f.r = r;
    out.push_back(f);
  }
  return out;
}

// Reads a fixture (a bare name) or a file (a path), IPv6 records included.
FlowTable read_v6(const std::string& name, stan::ReadStats* st = nullptr,
                  stan::Biflows b = stan::Biflows::split) {
  stan::ReadOptions o;
  o.ipv6 = true;
  o.biflows = b;
  return stan::read_flows(name[0] == '/' ? name : kFixtures + name, o, st);
}

// nfdump_commands.txt: NAME -> nfdump arguments.
std::map<std::string, std::string> fixture_commands() {
  std::map<std::string, std::string> m;
  std::ifstream in(kFixtures + "nfdump_commands.txt");
  for (std::string line; std::getline(in, line);) {
    const size_t bar = line.find('|');
    if (bar != std::string::npos) m[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return m;
}

// Lines before nfdump's summary (which holds timings).
std::string records_part(const std::string& text) {
  const size_t s = text.find("\nSummary");
  return s == std::string::npos ? text : text.substr(0, s + 1);
}

bool nfdump_required() {
  if (!stan::find_program("nfdump").empty()) return true;
  if (std::getenv("STAN_SKIP_NFDUMP_TESTS")) {
    WARN("SKIPPED: nfdump not installed (STAN_SKIP_NFDUMP_TESTS is set)");
    return false;
  }
  FAIL(
      "nfdump is not installed: apt-get install nfdump (tools/setup.sh installs it); set "
      "STAN_SKIP_NFDUMP_TESTS=1 to skip these tests knowingly");
  return false;
}

}  // namespace

TEST_CASE("nfdump forms: the fixtures are what the installed nfdump prints", "[nfdump]") {
  if (!nfdump_required()) return;
  const auto commands = fixture_commands();
  REQUIRE(commands.size() == 8);
  for (const auto& [name, args] : commands) {
    INFO(name << ": nfdump " << args);
    int code = 0;
    const std::string out = shell(
        "cd '" + kFixtures + "' && TZ=UTC nfdump -r nfdump_source.nfcapd " + args + " 2>&1", &code);
    REQUIRE(code == 0);
    CHECK(records_part(out) == records_part(read_bytes(kFixtures + name)));
  }
  // The nfcapd file holds exactly the source records.
  CHECK(stan::nfdump_flow_count(kFixtures + "nfdump_source.nfcapd") == 12);
}

TEST_CASE("nfdump forms: -o csv with and without header give the source records", "[nfdump]") {
  const auto want = flat(source());
  for (const char* name : {"nfdump_csv.csv", "nfdump_csv_q.csv"}) {
    INFO(name);
    stan::ReadStats st;
    const FlowTable got = read_v6(name, &st);
    CHECK(st.format == "nfdump");
    CHECK(st.lines == 12);
    CHECK(st.biflow_rows == 0);
    CHECK(flat(got) == want);
  }
}

TEST_CASE("nfdump forms: the documented fmt: form, with and without header", "[nfdump]") {
  // fmt: prints TCP flags only for TCP; everything else is as in the source.
  auto want = flat(source());
  for (Flat& f : want)
    if (f.r.pr != stan::proto::tcp) f.r.flg = 0;
  stan::ReadStats st;
  CHECK(flat(read_v6("nfdump_fmt.csv", &st)) == want);
  CHECK(st.format == "nfdump-fmt");
  CHECK(flat(read_v6("nfdump_fmt_q.csv")) == want);
  // Without -N, nfdump scales big counters ("4.0 G"): an error that says what to do.
  REQUIRE_THROWS_WITH(read_v6("nfdump_fmt_scaled.csv"),
                      Contains("nfdump_fmt_scaled.csv:12: column '%ipkt (in pkt)': '4.0 G'") &&
                          Contains("run nfdump with -N"));
  // Its durations ("00:59:59.999") read as seconds on the rows before.
  stan::ReadOptions o;
  o.ipv6 = true;
  o.max_rows = 10;
  const FlowTable head = stan::read_flows(kFixtures + "nfdump_fmt_scaled.csv", o);
  REQUIRE(head.rows.size() == 10);
  CHECK(head.rows[1].td == 22.052);
}

TEST_CASE("nfdump forms: bidirectional -b and -B records", "[nfdump]") {
  const FlowTable src = source();
  auto find = [](const std::vector<Flat>& v, const std::string& sa, uint16_t sp) {
    for (const Flat& f : v)
      if (f.sa == sa && f.r.sp == sp) return f;
    FAIL("no record from " << sa << ":" << sp);
    return Flat{};
  };
  for (const char* name : {"nfdump_csv_b.csv", "nfdump_csv_bq.csv", "nfdump_csv_B.csv"}) {
    INFO(name);
    stan::ReadStats st;
    const auto got = flat(read_v6(name, &st));
    // 12 source flows; nfdump -b merges the flow 42.219.153.35:51000 -> :443 with its reverse,
    // and the two GRE flows of one host pair: 10 rows, the first split back into 2 records.
    CHECK(st.lines == 10);
    CHECK(got.size() == 11);
    const Flat fwd = find(got, "42.219.153.35", 51000), rev = find(got, "93.184.216.34", 443);
    CHECK(fwd.da == "93.184.216.34");
    CHECK((fwd.r.pkt == 20 && fwd.r.byt == 2400));
    CHECK(rev.da == "42.219.153.35");
    CHECK(rev.r.dp == 51000);
    CHECK((rev.r.pkt == 30 && rev.r.byt == 41000));
    CHECK(rev.r.te == fwd.r.te);  // one record's times for both directions
    // -B turns 42.219.158.243:80 -> :8502 around (port 80 looks like the server): its forward
    // direction is empty, and splitting gives back the source flow.
    const Flat web = find(got, "42.219.158.243", 80);
    CHECK((web.da == "54.143.54.185" && web.r.pkt == 8 && web.r.byt == 6935));
    CHECK(st.biflow_rows == (std::string(name).find("_B.") != std::string::npos ? 2 : 1));
    // --biflows forward: the forward direction only.
    stan::ReadStats fs;
    const auto forward = flat(read_v6(name, &fs, stan::Biflows::forward));
    CHECK(forward.size() == 10);
    CHECK(fs.reverse_records == 0);
    CHECK(find(forward, "42.219.153.35", 51000).r.pkt == 20);
    CHECK_THAT(stan::read_summary(name, fs), Contains("forward direction only"));
  }
  CHECK(src.rows.size() == 12);
}

TEST_CASE("IPv6: read and written, or skipped with a count and one line", "[ipv6]") {
  // Skipped by default: the model covers IPv4.
  stan::ReadStats st;
  const FlowTable v4 = stan::read_flows(kFixtures + "nfdump_source.csv", {}, &st);
  CHECK(v4.rows.size() == 10);
  CHECK(st.ipv6_rows == 2);
  CHECK(st.lines == 12);
  CHECK(v4.ip6.empty());
  CHECK(stan::read_summary("x.csv", st) ==
        "x.csv: skipped 2 of 12 rows: IPv6 (the model covers IPv4)");

  // Kept when asked: written as text and read back equal.
  const FlowTable all = read_v6("nfdump_source.csv");
  REQUIRE(all.rows.size() == 12);
  REQUIRE(all.ip6.size() == 2);
  const FlowRecord& r = all.rows[8];
  REQUIRE(r.is_ipv6());
  CHECK(stan::format_ipv6(all.ip6_of(r)->sa) == "2001:db8::10");
  CHECK(stan::format_ipv6(all.ip6_of(r)->da) == "2001:db8:1::53");
  CHECK((r.sa == 0 && r.da == 0 && r.sp == 40000 && r.dp == 53));
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("stan_v6_" + std::to_string(::getpid()) + ".csv.gz"))
                              .string();
  stan::write_flows(out, all);
  const FlowTable back = read_v6(out);
  std::filesystem::remove(out);
  CHECK(flat(back) == flat(all));

  // Malformed and mixed addresses are errors naming the column.
  const std::string bad = (std::filesystem::temp_directory_path() /
                           ("stan_v6_bad_" + std::to_string(::getpid()) + ".csv"))
                              .string();
  std::ofstream(bad) << "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt\n"
                     << "2016-04-11 00:00:01,0,2001:db8::1,10.0.0.1,1,2,TCP,......,0,0,1,40\n"
                     << "2016-04-11 00:00:02,0,2001:zz8::1,2001:db8::2,1,2,TCP,......,0,0,1,40\n";
  stan::ReadOptions skip;
  skip.skip_bad_rows = true;
  stan::ReadStats bs;
  CHECK(stan::read_flows(bad, skip, &bs).rows.empty());
  CHECK(bs.bad_rows == 2);
  CHECK_THAT(bs.first_error, Contains(":2: one address is IPv4, the other IPv6"));
  CHECK_THAT(stan::read_summary(bad, bs),
             Contains("skipped 2 of 2 rows: 2 malformed (first: ") && Contains(":2: one address"));
  REQUIRE_THROWS_WITH(read_v6(bad), Contains(":2: one address is IPv4"));
  std::filesystem::remove(bad);

  std::array<uint8_t, 16> a{};
  CHECK(stan::parse_ipv6("::ffff:1.2.3.4", &a));
  CHECK_FALSE(stan::parse_ipv6("1.2.3.4", &a));
  CHECK_FALSE(stan::parse_ipv6("2001:db8::1::2", &a));
}
