// nfdump's own tools as child processes (stan/io/nfcapd.cpp): finding programs, a free port,
// and .nfcapd files written through a private nfcapd.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "stan/io/flow_io.h"
#include "stan/io/flow_sink.h"
#include "stan/io/netflow_encode.h"
#include "stan/io/netflow_export.h"
#include "stan/io/netflow_test_util.h"
#include "stan/io/nfcapd.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::ExportFormat;
using stan::FlowRecord;
using stan::FlowTable;
using namespace stan::netflow_test;

TEST_CASE("export: .nfcapd files through a private nfcapd", "[export][nfcapd]") {
  if (!nfcapd_required()) return;
  const std::string dir = temp_dir("nfcapd_file");
  const FlowTable t = random_flows(2000, 4);
  {
    stan::NfcapdFileWriter w(dir + "/abandoned.nfcapd");
    for (const FlowRecord& r : t.rows) w.write(r, t.ip6_of(r));
  }  // not committed: nothing left
  CHECK(fs::is_empty(dir));
  auto sink = stan::open_flow_sink(dir + "/flows.nfcapd");
  for (const FlowRecord& r : t.rows) sink->write(r, t.ip6_of(r));
  sink->commit();
  CHECK(stan::nfdump_flow_count(dir + "/flows.nfcapd") == 2000);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename());
  CHECK(left == std::vector<std::string>{"flows.nfcapd"});
  // v9 keeps the forwarding status.
  const std::string csv = shell("TZ=UTC nfdump -r " + dir + "/flows.nfcapd -o csv -q -c 1");
  CHECK(split(csv, ',')[9] == std::to_string(t.rows[0].fwd));
  fs::remove_all(dir);
}

TEST_CASE("nfcapd: programs are found on PATH and in the system folders", "[nfcapd]") {
  const std::string sh = stan::find_program("sh");
  REQUIRE_FALSE(sh.empty());
  CHECK(sh.front() == '/');
  CHECK(sh.substr(sh.size() - 3) == "/sh");
  CHECK(fs::is_regular_file(sh));
  CHECK(stan::find_program("stan-no-such-program-here").empty());
  // A folder with the name is not a program.
  const std::string dir = temp_dir("find_program");
  fs::create_directories(dir + "/tool");
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", dir.c_str(), 1);
  CHECK(stan::find_program("tool").empty());
  ::setenv("PATH", saved.c_str(), 1);
  fs::remove_all(dir);
}

TEST_CASE("nfcapd: a free UDP port can be bound on loopback", "[nfcapd]") {
  const uint16_t port = stan::free_udp_port();
  CHECK(port > 0);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::close(fd);
}
