// Where a command's flows go (stan/io/flow_sink.cpp): the names accepted, CSV files published on
// commit, and a collector given the label as the input interface.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <algorithm>
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
#include "temp_dir.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::ExportFormat;
using stan::FlowRecord;
using stan::FlowTable;
using namespace stan::netflow_test;
using stan::testing::TempDir;

TEST_CASE("flow_sink: the output names it accepts", "[flow_sink]") {
  for (const char* ok : {"a.csv", "a.csv.gz", "a.csv.xz", "dir/x.nfcapd", "udp://127.0.0.1:9995",
                         "udp://collector"}) {
    INFO(ok);
    CHECK(stan::is_flow_sink_name(ok));
  }
  for (const char* bad :
       {"", ".csv", "a.txt", "a.gz", "a.csv.bz2", "UDP://h:1", "tcp://h:1", "flows.nfcapd.old"}) {
    INFO(bad);
    CHECK_FALSE(stan::is_flow_sink_name(bad));
  }
  REQUIRE_THROWS_WITH(stan::open_flow_sink("a.txt"),
                      "cannot write 'a.txt': expected " + std::string(stan::kOutputForms));
}

TEST_CASE("flow_sink: a CSV sink writes the labels and publishes on commit", "[flow_sink]") {
  TempDir d;
  FlowTable t = random_flows(50, 8);
  t.rows.erase(
      std::remove_if(t.rows.begin(), t.rows.end(), [](const FlowRecord& r) { return r.is_ipv6(); }),
      t.rows.end());
  stan::SinkOptions o;
  o.labels = t.labels;
  const std::string path = d.path("out.csv.gz");
  {
    auto abandoned = stan::open_flow_sink(path, o);
    for (const FlowRecord& r : t.rows) abandoned->write(r);
  }
  CHECK(d.files().empty());
  auto sink = stan::open_flow_sink(path, o);
  for (const FlowRecord& r : t.rows) sink->write(r);
  CHECK(sink->rows() == static_cast<int64_t>(t.rows.size()));
  CHECK_FALSE(fs::exists(path));
  sink->commit();
  CHECK(sink->summary() == "wrote " + std::to_string(t.rows.size()) + " flows to " + path);
  const FlowTable back = stan::read_flows(path);
  CHECK(back.labels == t.labels);
  CHECK(back.rows == t.rows);
}

TEST_CASE("flow_sink: a collector sink sends every flow, the label as the input interface",
          "[flow_sink]") {
  TestCollector c;
  const FlowTable t = random_flows(120, 6);
  stan::SinkOptions o;
  o.labels_in_interface = true;
  o.exporter.format = ExportFormat::v9;
  o.exporter.rate = 1e9;  // nothing reads the socket until the end
  auto sink = stan::open_flow_sink(c.url(), o);
  for (const FlowRecord& r : t.rows) sink->write(r, t.ip6_of(r));
  sink->commit();
  CHECK(sink->rows() == 120);
  int64_t v6 = 0;
  for (const FlowRecord& r : t.rows) v6 += r.is_ipv6();
  CHECK_THAT(sink->summary(), Contains("sent 120 flows (" + std::to_string(v6) + " IPv6) in ") &&
                                  Contains(" v9 messages to 127.0.0.1:" + std::to_string(c.port)) &&
                                  Contains("pacing: at most "));
  std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;
  std::vector<uint64_t> labels;
  for (const auto& m : c.drain())
    for (const auto& r : decode(m, templates).records) labels.push_back(num(r, 10));
  REQUIRE(labels.size() == t.rows.size());
  for (size_t i = 0; i < labels.size(); ++i) CHECK(labels[i] == t.rows[i].label);
}
