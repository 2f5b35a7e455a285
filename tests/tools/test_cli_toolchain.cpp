// The `stan` program in and out of the NetFlow toolchain: export and generate --export into a
// real nfcapd, output names, IPv6 and malformed rows on every reading command, ISO 8601 start
// times, held-back hosts, and the installed program finding its model.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "run_command.h"
#include "stan/io/flow_io.h"
#include "stan/io/nfcapd.h"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using Run = stan::testing::CommandRun;
using stan::testing::run_command;

Run sh(const std::string& cmd) {
  return run_command(cmd);
}

Run stan_run(const std::string& args) {
  return sh(std::string(STAN_BINARY) + " " + args);
}

std::string temp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("stan_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

const std::string kFixtures = std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/";
const std::string kSample = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
const std::string kSampleHosts = std::string(STAN_ASSETS_DIR) + "/sample/hosts.csv";

bool nfcapd_required() {
  if (!stan::find_program("nfcapd").empty() && !stan::find_program("nfdump").empty()) return true;
  if (std::getenv("STAN_SKIP_NFDUMP_TESTS")) {
    WARN("SKIPPED: nfdump not installed (STAN_SKIP_NFDUMP_TESTS is set)");
    return false;
  }
  FAIL("nfcapd/nfdump are not installed: apt-get install nfdump (tools/setup.sh installs it)");
  return false;
}

// Records compared by their text fields (IPv6 indexes differ between tables); labels ignored.
std::vector<std::string> rows_text(const stan::FlowTable& t) {
  std::vector<std::string> out;
  for (stan::FlowRecord r : t.rows) {
    std::string a, b;
    if (const stan::Ip6Pair* p = t.ip6_of(r)) {
      a = stan::format_ipv6(p->sa), b = stan::format_ipv6(p->da);
    } else {
      a = stan::format_ipv4(r.sa), b = stan::format_ipv4(r.da);
    }
    std::ostringstream s;
    s << r.te << ',' << r.td << ',' << a << ',' << b << ',' << r.sp << ',' << r.dp << ','
      << int(r.pr) << ',' << int(r.flg) << ',' << int(r.fwd) << ',' << int(r.stos) << ',' << r.pkt
      << ',' << r.byt;
    out.push_back(s.str());
  }
  return out;
}

stan::FlowTable read_all(const std::string& path) {
  stan::ReadOptions o;
  o.ipv6 = true;
  return stan::read_flows(path, o);
}

}  // namespace

TEST_CASE("cli toolchain: stan export to nfcapd, read back by nfdump", "[cli][nfcapd]") {
  if (!nfcapd_required()) return;
  const std::string d = temp_dir("export");
  for (const char* format : {"v9", "ipfix"}) {
    INFO(format);
    stan::NfcapdProcess nfcapd(d + "/" + format);
    const Run r = stan_run("export --in " + kFixtures + "nfdump_source.csv --to " + nfcapd.url() +
                           " --format " + format);
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.output, Contains("sent 12 flows (2 IPv6) in 1 " + std::string(format)) &&
                             Contains("dropped 0 packets"));
    const auto files = nfcapd.stop();
    REQUIRE(files.size() == 1);
    REQUIRE(sh("TZ=UTC nfdump -r " + files[0] + " -o csv > " + d + "/back.csv").code == 0);
    auto want = rows_text(read_all(kFixtures + "nfdump_source.csv"));
    // nfcapd 1.7.1 does not keep IPFIX forwardingStatus; the 4th row is the one with fwd 2.
    if (std::string(format) == "ipfix")
      want[3].replace(want[3].find(",17,16,2,0,"), 11, ",17,16,0,0,");
    CHECK(rows_text(read_all(d + "/back.csv")) == want);
  }
  // Straight into nfdump's file format.
  Run r = stan_run("export --in " + kFixtures + "nfdump_source.csv --out " + d + "/src.nfcapd");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(stan::nfdump_flow_count(d + "/src.nfcapd") == 12);
  fs::remove_all(d);
}

TEST_CASE("cli toolchain: generate --export sends what it writes", "[cli][nfcapd]") {
  if (!nfcapd_required()) return;
  const std::string d = temp_dir("genexport");
  stan::NfcapdProcess nfcapd(d + "/col");
  const Run r = stan_run(
      "generate --hosts 6 --duration 1h --start 2016-04-11T08:00:00Z --seed 3 "
      "--out " +
      d + "/gen.csv --export " + nfcapd.url() + " --format v9 --quiet");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto files = nfcapd.stop();
  REQUIRE(files.size() == 1);
  REQUIRE(sh("TZ=UTC nfdump -r " + files[0] + " -o csv > " + d + "/back.csv").code == 0);
  const auto sent = rows_text(read_all(d + "/gen.csv"));
  REQUIRE(sent.size() > 10);
  CHECK(rows_text(read_all(d + "/back.csv")) == sent);
  CHECK_THAT(r.output, Contains("sent " + std::to_string(sent.size()) + " flows"));
  fs::remove_all(d);
}

TEST_CASE("cli toolchain: output names, ISO 8601 start times", "[cli]") {
  const std::string d = temp_dir("names");
  for (const std::string& cmd :
       {"generate --hosts 2 --duration 10m --quiet --out " + d + "/x.txt",
        "baseline --real " + kSample + " --out " + d + "/x.txt",
        "export --in " + kFixtures + "nfdump_source.csv --out " + d + "/x.txt"}) {
    const Run r = stan_run(cmd);
    INFO(cmd << "\n" << r.output);
    CHECK(r.code != 0);
    CHECK_THAT(r.output, Contains("cannot write '" + d + "/x.txt'"));
  }
  CHECK(fs::is_empty(d));
  // The same instant, three spellings: the same flows.
  std::vector<std::string> outs;
  for (const char* start :
       {"\"2016-04-11 09:00:00\"", "2016-04-11T09:00:00Z", "2016-04-11T11:00:00+02:00"}) {
    const std::string out = d + "/t" + std::to_string(outs.size()) + ".csv";
    const Run r = stan_run("generate --hosts 2 --duration 10m --seed 5 --quiet --start " +
                           std::string(start) + " --out " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.output, Contains("from 2016-04-11 09:00:00 UTC"));
    std::ifstream in(out);
    outs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  CHECK(outs[0] == outs[1]);
  CHECK(outs[0] == outs[2]);
  const Run bad = stan_run("generate --start 2016-04-11T09:00:00+25:00 --out " + d + "/b.csv");
  CHECK(bad.code != 0);
  CHECK_THAT(bad.output, Contains("ISO 8601"));
  fs::remove_all(d);
}

TEST_CASE("cli toolchain: IPv6 and malformed rows are skipped with a count on every command",
          "[cli]") {
  const std::string d = temp_dir("ipv6");
  // 72 IPv4 rows of the sample's first host flows, 144 IPv6 rows, then one malformed row.
  {
    std::ofstream f(d + "/mix.csv");
    f << "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt\n";
    stan::FlowTable t = stan::read_flows(kSample, {false, 72});
    for (const auto& r : t.rows) {
      f << stan::format_time(r.te) << ',' << r.td << ',' << stan::format_ipv4(r.sa) << ','
        << stan::format_ipv4(r.da) << ',' << r.sp << ',' << r.dp << ',' << stan::protocol_name(r.pr)
        << ',' << stan::format_flags(r.flg) << ",0,0," << r.pkt << ',' << r.byt << '\n';
    }
    for (int i = 1; i <= 144; ++i)
      f << "2016-04-11 00:10:00,0,::1,2001:db8::" << i << ",1,2,TCP,......,0,0,1,40\n";
  }
  const std::string mix = d + "/mix.csv";
  const std::string summary = "mix.csv: skipped 144 of 216 rows: IPv6 (the model covers IPv4)";
  Run r = stan_run("baseline --real " + mix +
                   " --owners 42.219.0.0/16 --hosts 2 --duration 1h "
                   "--out " +
                   d + "/b.csv");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains(summary));
  r = stan_run("eval --real " + mix + " --synthetic " + d +
               "/b.csv --owners 42.219.0.0/16 "
               "--no-tstr");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains(summary) && Contains("verdict: "));
  r = stan_run("train --data " + mix +
               " --owners 42.219.0.0/16 --epochs 1 --max-batches 1 "
               "--hidden 8 --k 2 --quiet --out " +
               d + "/m.safetensors");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains(summary));
  // IPv6 owner prefixes are accepted and explained, not refused as malformed.
  r = stan_run("train --data " + mix + " --owners ::1/128 --epochs 1 --quiet --out " + d +
               "/m6.safetensors");
  CHECK(r.code != 0);
  CHECK_THAT(r.output,
             Contains("owners: ::1/128") && Contains("IPv6") && !Contains("bad address prefix"));
  // --skip-bad-rows on eval and baseline, with the count.
  std::ofstream(mix, std::ios::app)
      << "2016-04-11 00:11:00,0,1.2.3,4.5.6.7,1,2,TCP,......,0,0,1,40\n";
  r = stan_run("baseline --real " + mix + " --owners 42.219.0.0/16 --out " + d + "/b2.csv");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Contains("mix.csv:218: column 'sa': '1.2.3' is not an IP address"));
  for (const std::string& cmd :
       {"baseline --real " + mix + " --owners 42.219.0.0/16 --skip-bad-rows --out " + d + "/b2.csv",
        "eval --real " + mix + " --synthetic " + d +
            "/b.csv --owners 42.219.0.0/16 --no-tstr "
            "--skip-bad-rows"}) {
    r = stan_run(cmd);
    INFO(cmd << "\n" << r.output);
    CHECK(r.code == 0);
    CHECK_THAT(r.output, Contains("skipped 145 of 217 rows: 144 IPv6 (the model covers IPv4), 1 "
                                  "malformed (first: ") &&
                             Contains("mix.csv:218: column 'sa'"));
  }
  fs::remove_all(d);
}

TEST_CASE("cli toolchain: held-back hosts and the default owners of the sample", "[cli]") {
  Run r = stan_run("info --list-hosts held-back --only-in " + kSampleHosts);
  REQUIRE(r.code == 0);
  CHECK(r.output ==
        "42.219.4.9\n42.219.144.208\n42.219.146.15\n42.219.150.243\n42.219.153.241\n"
        "42.219.154.63\n42.219.154.189\n42.219.155.12\n42.219.159.118\n");
  r = stan_run("info --list-hosts trained --only-in " + kSampleHosts + " | wc -l");
  CHECK(r.output == "32\n");
  r = stan_run("info --json | grep -c '\"42.219.0.0/16\"'");  // the owner prefix, once
  CHECK(r.output == "1\n");
  r = stan_run("info");
  CHECK_THAT(r.output, Contains("306 training, 81 held back"));
  // The sample's hosts.csv is the default owner set: 41 hosts, not every 42.219.x.y address.
  const std::string d = temp_dir("owners");
  r = stan_run("baseline --real " + kSample + " --duration 1h --out " + d + "/b.csv");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("owners: the 41 hosts listed in " + kSampleHosts));
  fs::remove_all(d);
}

TEST_CASE("cli toolchain: cmake --install puts the program and its model together", "[cli]") {
  const std::string d = temp_dir("install");
  Run r = sh("cmake --install '" + std::string(STAN_BUILD_DIR) + "' --prefix '" + d + "'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  // The installed program finds the installed model, not the source tree's.
  r = sh("env -u STAN_ASSETS_DIR '" + d + "/bin/stan' info");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Contains("model: " + d + "/share/stan/assets/model/stan-ugr16.safetensors"));
  // STAN_ASSETS_DIR overrides it.
  r = sh("STAN_ASSETS_DIR=/nonexistent '" + d + "/bin/stan' info");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Contains("/nonexistent/model/stan-ugr16.safetensors"));
  fs::remove_all(d);
}

namespace {

// Whether a running process has `text` in its command line (e.g. nfcapd's -w folder).
bool process_running_with(const std::string& text) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("cli toolchain: an interrupted .nfcapd output leaves no folder and no collector",
          "[cli][nfcapd]") {
  if (!nfcapd_required()) return;
  const std::string dir = temp_dir("nfcapd_interrupt");
  for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
    INFO("signal " << sig);
    const std::string out = dir + "/flows.nfcapd";
    const pid_t pid = stan::testing::start_long_generate(out);
    // Wait until the private collector runs (its log in the temporary folder), then interrupt.
    std::string tmp;
    for (int i = 0; i < 1200 && tmp.empty(); ++i) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().filename().string().find(".tmp.") != std::string::npos &&
            fs::exists(e.path() / "nfcapd.log", ec))
          tmp = e.path().string();
      if (tmp.empty()) ::usleep(50 * 1000);
    }
    // The collector, writing into the folder: its log may appear a moment before its command
    // line does (between fork and exec), so wait for it; on failure stop the long run first.
    bool running = !tmp.empty();
    for (int i = 0; i < 500 && running && !process_running_with(tmp); ++i) ::usleep(20 * 1000);
    running = running && process_running_with(tmp);
    if (!running) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    REQUIRE(!tmp.empty());
    REQUIRE(running);
    ::usleep(300 * 1000);  // flows on their way to it
    ::kill(pid, sig);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));  // interrupted, not finished
    // The collector dies with stan, even on SIGKILL (which no handler sees: then the folder stays).
    bool collector = true;
    for (int i = 0; i < 100 && collector; ++i) {
      collector = process_running_with(tmp);
      if (collector) ::usleep(20 * 1000);
    }
    CHECK_FALSE(collector);
    if (sig == SIGKILL) {
      CHECK(fs::exists(tmp));
      fs::remove_all(tmp);
    }
    CHECK(fs::is_empty(dir));  // no output, no temporary folder
  }
  fs::remove_all(dir);
}
