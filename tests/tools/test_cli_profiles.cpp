// `stan profiles` and the services in a host's profile, through the program: the profile file it
// writes (the bundled model's fields), which `generate --profiles` reads, and `train
// --profile-services`.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace fs = std::filesystem;
using namespace stan::testing::cli;

namespace {

// The bundled model's profile fields: the base ones, then its services' (serves_tcp_80, ...).
std::vector<std::string> bundled_profile_fields() {
  const Run i = run("info --json");
  REQUIRE(i.code == 0);
  return nlohmann::json::parse(i.output).at("profiles").at("names").get<std::vector<std::string>>();
}

// The comma-separated cells of a CSV row (no quoting: `stan profiles` writes none).
std::vector<std::string> csv_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::stringstream ss(row);
  for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
  return cells;
}

}  // namespace

TEST_CASE(
    "cli: train --profile-services adds the services to the profile, which generate "
    "--profiles can set",
    "[cli]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const std::string info =
      train_sample(model, "--profile-services 4 --profile-components 3", false);
  CHECK_THAT(info, Catch::Contains("profiles: 16 fields, mixture of 3 Gaussians"));
  CHECK_THAT(info, Catch::Contains("serves_tcp_"));
  CHECK_THAT(run("info --json --model " + model).output,
             Catch::Contains("\"profile_services\": 4"));
  // A profile file may name a service field of this model.
  const size_t at = info.find("serves_tcp_");
  const std::string field = info.substr(at, info.find_first_of(" \n", at) - at);
  {
    std::ofstream f(dir + "/p.csv");
    f << field << "\n0.9\n";
  }
  const Run g = run("generate --model " + model + " --hosts 2 --duration 10m --quiet --profiles " +
                    dir + "/p.csv --out " + dir + "/g.csv");
  INFO(g.output);
  CHECK(g.code == 0);
  check_refused(dir, "--profile-services 4 --no-profiles", "--profile-services");
  check_refused(dir, "--profile-services 65", "--profile-services");
  // The default: six services; none with --no-profiles alone or the faithful encoding.
  CHECK_THAT(train_sample(model, "", true), Catch::Contains("\"profile_services\": 6"));
  for (const std::string flags : {"--no-profiles", "--encoding faithful"}) {
    INFO(flags);
    CHECK_THAT(train_sample(model, flags, true), Catch::Contains("\"profile_services\": 0"));
  }
  fs::remove_all(dir);
}

TEST_CASE("cli: stan profiles leaves out the model's probes, as training did", "[cli]") {
  const std::string d = temp_dir();
  // Host .200: two DNS queries of its own and three unanswered telnet attempts (a probe port of
  // the bundled model); host .201: telnet attempts alone, which it keeps (nothing else is its own).
  std::string rows = kHeader;
  for (int i = 0; i < 2; ++i)
    rows += "2016-04-11 01:0" + std::to_string(i) +
            ":00,0.0,42.219.159.200,8.8.8.8,50000,53,UDP,......,0,0,1,70,background\n";
  for (const char* host : {"42.219.159.200", "42.219.159.201"})
    for (int i = 0; i < 3; ++i)
      rows += "2016-04-11 02:0" + std::to_string(i) + ":00,3.0,61.1.2." + std::to_string(i) + "," +
              host + ",40000,23,TCP,....S.,0,0,3,180,background\n";
  write(d + "/flows.csv", rows);
  const Run r =
      run("profiles --data " + d + "/flows.csv --owners 42.219.0.0/16 --out " + d + "/p.csv");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("left out 3 flows of the model's sweeps and probes"));
  CHECK_THAT(r.output, Catch::Contains("wrote 2 hosts' profiles"));
  std::ifstream in(d + "/p.csv");
  std::string header, a, b;
  REQUIRE(std::getline(in, header));
  REQUIRE(std::getline(in, a));
  REQUIRE(std::getline(in, b));
  // host, log_flows, tcp_share, udp_share, ..., then the model's services
  const std::vector<std::string> ca = csv_cells(a), cb = csv_cells(b);
  const size_t fields = bundled_profile_fields().size();
  REQUIRE(fields > 12);
  REQUIRE(ca.size() == fields + 1);
  REQUIRE(cb.size() == fields + 1);
  CHECK(ca[0] == "42.219.159.200");
  CHECK(std::stod(ca[1]) == Approx(std::log1p(2.0)));
  CHECK(std::stod(ca[2]) == 0);  // its TCP flows were the probes
  CHECK(std::stod(ca[3]) == 1);
  CHECK(cb[0] == "42.219.159.201");
  CHECK(std::stod(cb[1]) == Approx(std::log1p(3.0)));
  CHECK(std::stod(cb[2]) == 1);
}

TEST_CASE("cli: stan profiles writes a host's profile, which generate --profiles reads", "[cli]") {
  const std::string d = temp_dir();
  // One owner host: three inbound TCP flows from two remotes (one source port), 240, 400 and
  // 1000 bytes, in hours 1, 1 and 5 of the day; a flow of another host is left out.
  write(d + "/flows.csv",
        std::string(kHeader) +
            "2016-04-11 01:10:00,1.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4,240,"
            "background\n"
            "2016-04-11 01:20:00,1.0,60.150.71.238,42.219.159.200,32864,80,TCP,....S.,0,0,4,400,"
            "background\n"
            "2016-04-11 03:00:00,1.0,60.150.71.239,42.219.159.201,32864,80,TCP,....S.,0,0,4,400,"
            "background\n"
            "2016-04-11 05:00:00,1.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4,1000,"
            "background\n");
  const Run r = run("profiles --data " + d + "/flows.csv --owners 42.219.0.0/16 --hosts " +
                    "42.219.159.200 --out " + d + "/p.csv");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("wrote 1 hosts' profiles"));
  std::ifstream in(d + "/p.csv");
  std::string header, row, extra;
  REQUIRE(std::getline(in, header));
  REQUIRE(std::getline(in, row));
  CHECK_FALSE(std::getline(in, extra));
  // The base fields, then the bundled model's services: all of the host's flows serve TCP 80.
  const std::vector<std::string> fields = bundled_profile_fields();
  std::string names = "host";
  std::vector<double> expected{std::log1p(3.0), 1, 0, 0, 1, std::log1p(2.0), std::log1p(1.0), 0,
                               std::log(400.0), 1, 5, 2};
  REQUIRE(fields.size() > expected.size());
  CHECK(std::count(fields.begin(), fields.end(), "serves_tcp_80") == 1);
  for (size_t i = 0; i < fields.size(); ++i) {
    names += "," + fields[i];
    if (i >= 12) expected.push_back(fields[i] == "serves_tcp_80" ? 1 : 0);
  }
  const std::string base =
      "host,log_flows,tcp_share,udp_share,other_share,inbound_share,log_remote_ips,"
      "log_remote_port_classes,low_remote_port_share,median_log_bytes,first_hour,last_hour,"
      "active_hours,";
  CHECK(header.rfind(base, 0) == 0);
  CHECK(header == names);
  const std::vector<std::string> cells = csv_cells(row);
  REQUIRE(cells.size() == fields.size() + 1);
  CHECK(cells[0] == "42.219.159.200");
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(header << "\n" << row << "\nfield " << i + 1);
    CHECK(std::stod(cells[i + 1]) == Approx(expected[i]).margin(1e-9));
  }
  // generate reads the file (the host column is a label, not a field) and, without --hosts or
  // --host-ips, makes a host per row.
  write(d + "/p3.csv", header + "\n" + row + "\n" + row + "\n" + row + "\n");
  const Run g = run("generate --duration 6h --start 2016-04-11T00:00:00Z --profiles " + d +
                    "/p3.csv --out " + d + "/g.csv");
  INFO(g.output);
  CHECK(g.code == 0);
  CHECK_THAT(g.output, Catch::Contains(" of 3 hosts "));
  const Run g2 = run("generate --hosts 2 --duration 6h --start 2016-04-11T00:00:00Z --profiles " +
                     d + "/p3.csv --out " + d + "/g.csv");
  CHECK_THAT(g2.output, Catch::Contains(" of 2 hosts "));
  // With --host-ips, each host takes the row its 'host' column names, whatever the order:
  // .201's row is a busy host's, .200's a quiet one's.
  write(d + "/pair.csv", "host,log_flows\n42.219.159.201,10\n42.219.159.200,1\n");
  const Run pair =
      run("generate --duration 2h --start 2016-04-11T00:00:00Z --quiet --profiles " + d +
          "/pair.csv --host-ips 42.219.159.200,42.219.159.201 --out " + d + "/pair_flows.csv");
  INFO(pair.output);
  REQUIRE(pair.code == 0);
  int64_t busy = 0, quiet = 0;
  std::ifstream flows(d + "/pair_flows.csv");
  for (std::string line; std::getline(flows, line);) {
    busy += line.find("42.219.159.201") != std::string::npos;
    quiet += line.find("42.219.159.200") != std::string::npos;
  }
  CHECK(busy > 10 * std::max<int64_t>(quiet, 1));
  // A file naming some of the hosts but not all is refused; one naming none gives rows in turn.
  const Run partial = run("generate --duration 1h --quiet --profiles " + d +
                          "/pair.csv --host-ips 42.219.159.200,42.219.1.1 --out " + d + "/x.csv");
  CHECK(partial.code != 0);
  CHECK_THAT(partial.output, Catch::Contains("no row for host 42.219.1.1"));
  CHECK_FALSE(fs::exists(d + "/x.csv"));
  const Run other = run("generate --duration 1h --quiet --profiles " + d +
                        "/pair.csv --host-ips 42.219.1.2,42.219.1.1 --out " + d + "/x.csv");
  CHECK(other.code == 0);
  CHECK_THAT(other.output, Catch::Contains("rows in turn"));
  // Refusals: no host of the list in the data, the output over the input; nothing written.
  const Run none = run("profiles --data " + d + "/flows.csv --owners 42.219.0.0/16 --hosts " +
                       "42.219.1.1 --out " + d + "/none.csv");
  CHECK(none.code != 0);
  CHECK_THAT(none.output, Catch::Contains("no flow of the --hosts hosts"));
  CHECK_FALSE(fs::exists(d + "/none.csv"));
  const Run same = run("profiles --data " + d + "/flows.csv --out " + d + "/flows.csv");
  CHECK(same.code != 0);
  CHECK_THAT(same.output, Catch::Contains("--out"));
  train_sample(d + "/flat.safetensors", "--no-profiles", false);
  const Run flat = run("profiles --model " + d + "/flat.safetensors --data " + d +
                       "/flows.csv --out " + d + "/flat.csv");
  CHECK(flat.code != 0);
  CHECK_THAT(flat.output, Catch::Contains("this model was trained without profiles"));
  CHECK_FALSE(fs::exists(d + "/flat.csv"));
  fs::remove_all(d);
}
