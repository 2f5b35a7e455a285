// Sending to NetFlow collectors (stan/io/netflow_export.cpp): collector addresses, template
// refresh and pacing against a test socket, the local socket's queue, and the round trip
// through Debian's real nfcapd and nfdump, field by field.
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

TEST_CASE("export: collector addresses", "[export]") {
  std::string host;
  uint16_t port = 0;
  stan::parse_udp_url("udp://127.0.0.1:9995", 4739, &host, &port);
  CHECK((host == "127.0.0.1" && port == 9995));
  stan::parse_udp_url("udp://[::1]:2055", 4739, &host, &port);
  CHECK((host == "::1" && port == 2055));
  stan::parse_udp_url("udp://collector.example", 4739, &host, &port);
  CHECK((host == "collector.example" && port == 4739));
  REQUIRE_THROWS_WITH(stan::parse_udp_url("tcp://h:1", 1, &host, &port), Contains("udp://HOST"));
  REQUIRE_THROWS_WITH(stan::parse_udp_url("udp://h:70000", 1, &host, &port), Contains("1-65535"));
  REQUIRE_THROWS_WITH(stan::parse_udp_url("udp://::1:9", 1, &host, &port), Contains("in brackets"));
  // Nothing listens on a free loopback port: said before anything is sent.
  stan::ExportOptions o;
  o.to = "udp://127.0.0.1:" + std::to_string(stan::free_udp_port());
  REQUIRE_THROWS_WITH(stan::FlowExporter(o), Contains("no collector listens on " + o.to));
  REQUIRE_THROWS_WITH(stan::open_flow_sink("flows.txt"),
                      Contains("cannot write 'flows.txt'") && Contains(".nfcapd"));
}

TEST_CASE("export: templates are refreshed every N messages", "[export]") {
  TestCollector c;
  stan::ExportOptions o;
  o.to = c.url();
  o.format = ExportFormat::v9;
  o.template_every_messages = 4;
  o.max_message = 600;
  o.rate = 1e9;  // no queue pacing: nothing reads this socket until the end
  const FlowTable t = random_flows(300, 5);
  stan::FlowExporter e(o);
  for (const FlowRecord& r : t.rows) e.send(r, t.ip6_of(r));
  e.finish();
  const auto msgs = c.drain();
  REQUIRE(static_cast<int64_t>(msgs.size()) == e.stats().messages);
  REQUIRE(msgs.size() > 12);
  std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;
  size_t flows = 0;
  for (size_t j = 0; j < msgs.size(); ++j) {
    const Decoded d = decode(msgs[j], templates);
    CHECK(d.template_sets == (j % 4 == 0 ? 1 : 0));  // templates in every 4th message
    flows += d.records.size();
  }
  CHECK(flows == 300);
  CHECK(e.stats().local_collector);
}

TEST_CASE("export: --rate paces the flows", "[export]") {
  TestCollector c;
  stan::ExportOptions o;
  o.to = c.url();
  o.rate = 20000;
  const FlowTable t = random_flows(3000, 9);
  const auto t0 = std::chrono::steady_clock::now();
  stan::FlowExporter e(o);
  for (const FlowRecord& r : t.rows) e.send(r, t.ip6_of(r));
  e.finish();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // 3000 flows at 20000/s: the last message leaves about 0.15 s after the first.
  CHECK(s > 0.12);
  CHECK(s < 2.0);
  CHECK(e.stats().flows == 3000);
  CHECK_THAT(e.stats().pacing, Contains("--rate"));
}

TEST_CASE("export: without --rate, a slow local collector loses nothing", "[export]") {
  // A collector with a small receive buffer that reads slowly: the exporter must wait for it.
  TestCollector c(16384);
  const FlowTable t = random_flows(6000, 11);
  std::atomic<bool> done{false};
  std::atomic<size_t> received{0};
  std::thread reader([&] {
    std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;
    std::vector<uint8_t> buf(65536);
    int idle = 0;
    while (idle < 3) {
      const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        idle += done ? 1 : 0;
        continue;
      }
      idle = 0;
      received +=
          decode(std::vector<uint8_t>(buf.begin(), buf.begin() + n), templates).records.size();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  stan::ExportOptions o;
  o.to = c.url();
  o.queue_limit = 8192;
  stan::FlowExporter e(o);
  for (const FlowRecord& r : t.rows) e.send(r, t.ip6_of(r));
  e.finish();
  done = true;
  reader.join();
  CHECK(received == 6000);
  CHECK(e.stats().collector_drops == 0);
  CHECK(e.stats().wait_seconds > 0);
  CHECK_THAT(e.stats().pacing, Contains("keeps up"));
}

TEST_CASE("export: round trip through nfcapd and nfdump, every field", "[export][nfcapd]") {
  if (!nfcapd_required()) return;
  const FlowTable sent = random_flows(20000, 1);
  for (ExportFormat f : {ExportFormat::v9, ExportFormat::ipfix}) {
    const std::string name = stan::export_format_name(f);
    INFO(name);
    const std::string dir = temp_dir("nfcapd_" + name);
    stan::NfcapdProcess nfcapd(dir);
    stan::ExportOptions o;
    o.to = nfcapd.url();
    o.format = f;
    o.labels_in_interface = true;
    stan::FlowExporter e(o);
    for (const FlowRecord& r : sent.rows) e.send(r, sent.ip6_of(r));
    e.finish();
    const auto files = nfcapd.stop();
    REQUIRE(files.size() == 1);
    CHECK(e.stats().collector_drops == 0);
    CHECK_THAT(nfcapd.log(), Contains("Flows: 20000,") && Contains("Sequence Errors: 0"));
    std::printf("round trip %s: %lld flows sent, %.0f flows/s\n", name.c_str(),
                static_cast<long long>(e.stats().flows), e.stats().flows_per_second());
    // nfdump prints the records as CSV (UTC); stan reads them back.
    const std::string csv = dir + "/back.csv";
    shell("TZ=UTC nfdump -r " + files[0] + " -o csv > " + csv);
    stan::ReadOptions ro;
    ro.ipv6 = true;
    const FlowTable back = stan::read_flows(csv, ro);
    REQUIRE(back.rows.size() == sent.rows.size());
    // The label travelled as the input interface: nfdump's 'in' column (the 16th).
    std::vector<int> in_column;
    {
      std::ifstream in(csv);
      std::string line;
      std::getline(in, line);
      REQUIRE(split(line, ',')[15] == "in");
      while (std::getline(in, line) && !line.starts_with("Summary"))
        in_column.push_back(std::stoi(split(line, ',')[15]));
    }
    REQUIRE(in_column.size() == sent.rows.size());
    int64_t equal = 0;
    for (size_t i = 0; i < sent.rows.size(); ++i) {
      FlowRecord want = sent.rows[i], got = back.rows[i];
      INFO("record " << i);
      if (f == ExportFormat::ipfix) want.fwd = 0;  // nfcapd 1.7.1 drops IPFIX forwardingStatus
      REQUIRE(got.is_ipv6() == want.is_ipv6());
      if (want.is_ipv6()) REQUIRE(*back.ip6_of(got) == *sent.ip6_of(want));
      CHECK(in_column[i] == want.label);
      want.ip6 = got.ip6 = 0;
      want.label = got.label = 0;
      REQUIRE(got == want);
      ++equal;
    }
    CHECK(equal == 20000);
    fs::remove_all(dir);
  }
}

TEST_CASE("netflow_export: a local socket's queue is visible, a free port's is not", "[export]") {
  TestCollector c;
  int64_t queue = -1, drops = -1;
  REQUIRE(stan::local_udp_socket_state(c.port, &queue, &drops));
  CHECK(queue == 0);
  CHECK(drops >= 0);
  // Unread messages wait in its receive queue.
  stan::ExportOptions o;
  o.to = c.url();
  o.rate = 1e9;
  stan::FlowExporter e(o);
  const FlowTable t = random_flows(200, 2);
  for (const FlowRecord& r : t.rows) e.send(r, t.ip6_of(r));
  e.finish();
  REQUIRE(stan::local_udp_socket_state(c.port, &queue, &drops));
  CHECK(queue > 0);
  CHECK(e.stats().flows == 200);
  CHECK(e.stats().destination == "127.0.0.1:" + std::to_string(c.port));
  CHECK(static_cast<int64_t>(c.drain().size()) == e.stats().messages);
  const uint16_t unused = stan::free_udp_port();
  CHECK_FALSE(stan::local_udp_socket_state(unused, &queue, &drops));
}
