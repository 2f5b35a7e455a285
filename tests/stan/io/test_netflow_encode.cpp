// NetFlow v9 and IPFIX messages (stan/io/netflow_encode.cpp), decoded here independently:
// headers, templates, every field of every record, message sizes and the format names.
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

TEST_CASE("export: v9 and IPFIX messages decode to the records, templates first", "[export]") {
  FlowTable t = random_flows(500, 3);
  for (size_t i = 0; i < t.rows.size(); i += 3)  // end times with milliseconds (nfdump input)
    t.rows[i].te_ms = static_cast<uint16_t>(1 + i % 999);
  for (ExportFormat f : {ExportFormat::ipfix, ExportFormat::v9}) {
    INFO(stan::export_format_name(f));
    stan::NetflowEncoder enc({f, 512, 77, true});
    std::vector<std::vector<uint8_t>> msgs;
    size_t i = 0;
    while (i < t.rows.size()) {
      enc.begin(1700000000, 1234, msgs.empty());
      while (i < t.rows.size() && enc.fits(t.rows[i])) {
        enc.add(t.rows[i], t.ip6_of(t.rows[i]));
        ++i;
      }
      const auto m = enc.take();
      REQUIRE(m.size() <= 512);
      msgs.emplace_back(m.begin(), m.end());
    }
    CHECK(enc.data_records() == 500);
    std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;
    size_t k = 0;
    uint64_t records_before = 0;
    for (size_t j = 0; j < msgs.size(); ++j) {
      const Decoded d = decode(msgs[j], templates);
      CHECK(d.version == (f == ExportFormat::v9 ? 9 : 10));
      CHECK(d.domain == 77);
      CHECK(d.template_sets == (j == 0 ? 1 : 0));
      // v9 numbers packets, IPFIX numbers data records.
      CHECK(d.sequence == (f == ExportFormat::v9 ? j : records_before));
      records_before += d.records.size();
      for (const auto& r : d.records) {
        const FlowRecord& want = t.rows[k++];
        INFO("record " << k - 1);
        const bool icmp = want.pr == 1 || want.pr == 58;
        CHECK(num(r, 153) == static_cast<uint64_t>(want.te) * 1000 + want.te_ms);
        CHECK(num(r, 153) - num(r, 152) == static_cast<uint64_t>(std::llround(want.td * 1000)));
        if (want.is_ipv6()) {
          CHECK(r.at(27) ==
                std::vector<uint8_t>(t.ip6_of(want)->sa.begin(), t.ip6_of(want)->sa.end()));
          CHECK(r.at(28) ==
                std::vector<uint8_t>(t.ip6_of(want)->da.begin(), t.ip6_of(want)->da.end()));
        } else {
          CHECK(num(r, 8) == want.sa);
          CHECK(num(r, 12) == want.da);
        }
        if (icmp) {
          const uint16_t ie = want.is_ipv6() && f == ExportFormat::ipfix ? 139 : 32;
          CHECK(num(r, ie) == want.dp);
          CHECK(r.count(7) == 0);
        } else {
          CHECK(num(r, 7) == want.sp);
          CHECK(num(r, 11) == want.dp);
        }
        CHECK(num(r, 4) == want.pr);
        CHECK(num(r, 6) == want.flg);
        CHECK(num(r, 5) == want.stos);
        CHECK(num(r, 89) == want.fwd);
        CHECK(r.at(2).size() == 8);  // 64-bit counters
        CHECK(num(r, 2) == static_cast<uint64_t>(want.pkt));
        CHECK(num(r, 1) == static_cast<uint64_t>(want.byt));
        CHECK(num(r, 10) == want.label);
      }
    }
    CHECK(k == t.rows.size());
    CHECK(templates.size() == 4);
  }
  REQUIRE_THROWS_WITH(stan::parse_export_format("v5"), Contains("unknown export format 'v5'"));
}

TEST_CASE("netflow_encode: format names and numbers", "[export]") {
  CHECK(std::string(stan::export_format_name(ExportFormat::ipfix)) == "ipfix");
  CHECK(std::string(stan::export_format_name(ExportFormat::v9)) == "v9");
  CHECK(stan::parse_export_format("ipfix") == ExportFormat::ipfix);
  CHECK(stan::parse_export_format("10") == ExportFormat::ipfix);
  CHECK(stan::parse_export_format("v9") == ExportFormat::v9);
  CHECK(stan::parse_export_format("9") == ExportFormat::v9);
  REQUIRE_THROWS_WITH(stan::parse_export_format("IPFIX 10"),
                      Contains("unknown export format 'IPFIX 10'"));
}

TEST_CASE("netflow_encode: a message holds what fits, with the ICMP template for ICMP",
          "[export]") {
  FlowRecord tcp;
  tcp.te = 1700000000;
  tcp.sa = 0x2A000001;
  tcp.da = 0x08080808;
  tcp.sp = 1234;
  tcp.dp = 443;
  tcp.pr = stan::proto::tcp;
  tcp.pkt = 3;
  tcp.byt = 180;
  FlowRecord icmp = tcp;
  icmp.pr = stan::proto::icmp;
  icmp.sp = 0;
  icmp.dp = 8 * 256;  // echo request
  stan::NetflowEncoder enc({ExportFormat::ipfix, 512, 5, false});
  enc.begin(1700000000, 0, true);
  CHECK(enc.open());
  CHECK(enc.empty());
  int added = 0;
  while (enc.fits(added % 2 ? icmp : tcp)) {
    enc.add(added % 2 ? icmp : tcp, nullptr);
    ++added;
  }
  CHECK(added > 0);
  CHECK(enc.records() == added);
  CHECK_FALSE(enc.empty());
  const auto span = enc.take();
  CHECK_FALSE(enc.open());
  const std::vector<uint8_t> m(span.begin(), span.end());
  CHECK(m.size() <= 512);
  std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;
  const Decoded d = decode(m, templates);
  CHECK(d.version == 10);
  CHECK(d.domain == 5);
  CHECK(d.sequence == 0);
  CHECK(d.template_sets == 1);
  REQUIRE(static_cast<int>(d.records.size()) == added);
  for (int i = 0; i < added; ++i) {
    INFO("record " << i);
    const auto& r = d.records[static_cast<size_t>(i)];
    CHECK(num(r, 4) == (i % 2 ? stan::proto::icmp : stan::proto::tcp));
    if (i % 2) {
      CHECK(num(r, 32) == 8 * 256);
      CHECK(r.count(7) == 0);
    } else {
      CHECK(num(r, 7) == 1234);
      CHECK(num(r, 11) == 443);
    }
    CHECK(r.count(10) == 0);  // no ingressInterface unless asked for
  }
  CHECK(enc.messages() == 1);
  CHECK(enc.data_records() == added);
  // The next message without templates: IPFIX numbers the data records sent before.
  enc.begin(1700000001, 0, false);
  enc.add(tcp, nullptr);
  const auto next = enc.take();
  const Decoded d2 = decode(std::vector<uint8_t>(next.begin(), next.end()), templates);
  CHECK(d2.template_sets == 0);
  CHECK(d2.sequence == static_cast<uint64_t>(added));
  CHECK(d2.records.size() == 1);
}
