// Heavy conversations (stan/model/conversations.h): which pairs are kept and what of them, what a
// generated host draws and how a flow is rewritten, the model file's conversations and their
// errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "stan/io/hosts.h"
#include "stan/model/conversations.h"
#include "stan/stan_test_util.h"

using namespace stan;

namespace {

constexpr int64_t kDay0 = 1460332800;  // 2016-04-11 00:00 UTC
constexpr uint32_t kHost = 0x0a000001, kOther = 0x0a000002;
constexpr uint32_t kMonitor = 0xc0a80101, kWeb = 0x5b0a0a0a, kDns = 0x08080808;

// A flow of 1.5 s with ToS 40, `pkt` packets of 100 bytes, and ACK if TCP.
FlowRecord flow(int64_t te, uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp, uint8_t pr,
                int64_t pkt) {
  FlowRecord r = testing::make_flow(te, sa, da, sp, dp, pr);
  r.td = 1.5;
  r.flg = pr == proto::tcp ? tcp_flag::ack : 0;
  r.stos = 40;
  r.pkt = pkt;
  r.byt = 100 * pkt;
  return r;
}

// Day 1: the monitor polls host 1's SNMP port 30 times (incoming UDP, 2 packets), host 1 asks the
// DNS server 29 times (one short of 30), and host 2 fetches 40 pages from the web server
// (outgoing TCP, 7 packets). Day 2: the monitor polls host 1 10 times.
using Net = testing::FlowNet;
Net make_net() {
  Net n;
  n.owners.hosts = {kHost, kOther};
  auto& rows = n.table.rows;
  for (int i = 0; i < 30; ++i)
    rows.push_back(flow(kDay0 + 60 * i, kMonitor, kHost, 40000 + i, 161, proto::udp, 2));
  for (int i = 0; i < 29; ++i)
    rows.push_back(flow(kDay0 + 61 * i, kHost, kDns, 50000, 53, proto::udp, 1));
  for (int i = 0; i < 40; ++i)
    rows.push_back(flow(kDay0 + 30 * i, kOther, kWeb, 33000 + i, 80, proto::tcp, 7));
  for (int i = 0; i < 10; ++i)
    rows.push_back(flow(kDay0 + 86400 + 60 * i, kMonitor, kHost, 41000 + i, 161, proto::udp, 2));
  n.streams = build_host_streams(n.table, n.owners);
  return n;
}

ConversationOptions keep(int64_t min_flows, int templates = 4) {
  ConversationOptions o;
  o.min_flows = min_flows;
  o.templates = templates;
  return o;
}

}  // namespace

TEST_CASE("conversations: the pairs of a host-day with enough flows, and samples of their flows",
          "[stan][conversations]") {
  const Net n = make_net();
  const ConversationModel m = ConversationModel::fit(n.streams, n.table, keep(30), Generator(5, 1));
  // The monitor's first day (30 flows) and the web server's (40); not the DNS server (29) nor the
  // monitor's second day (10).
  REQUIRE(m.conversations().size() == 2);
  const Conversation& snmp = m.conversations()[0];  // host 1's stream comes first
  const Conversation& web = m.conversations()[1];
  CHECK(snmp.octet == 0xc0);
  CHECK(snmp.flows == 30);
  CHECK(web.octet == 0x5b);
  CHECK(web.flows == 40);
  REQUIRE(snmp.templates.size() == 4);
  REQUIRE(web.templates.size() == 4);
  std::set<uint16_t> remote_ports;
  for (const SweepFlow& t : snmp.templates) {
    CHECK_FALSE(t.outgoing);
    CHECK(t.local_port == 161);
    CHECK(t.remote_port >= 40000);
    CHECK(t.remote_port < 40030);  // day 1's polls only
    CHECK(t.pr == proto::udp);
    CHECK(t.pkt == 2);
    CHECK(t.byt == 200);
    CHECK(t.td_ms == 1500);
    CHECK(t.stos == 40);
    remote_ports.insert(t.remote_port);
  }
  CHECK(remote_ports.size() > 1);  // drawn, not the first flow four times
  for (const SweepFlow& t : web.templates) {
    CHECK(t.outgoing);
    CHECK(t.remote_port == 80);
    CHECK(t.pkt == 7);
    CHECK(t.flg == tcp_flag::ack);
  }
  // The same generator, the same model; at a lower bar the DNS pair and the second day join.
  CHECK(ConversationModel::fit(n.streams, n.table, keep(30), Generator(5, 1)).conversations() ==
        m.conversations());
  CHECK(ConversationModel::fit(n.streams, n.table, keep(10), Generator(5, 1))
            .conversations()
            .size() == 4);
  CHECK(ConversationModel::fit(n.streams, n.table, keep(0), Generator(5, 1)).empty());
  CHECK(ConversationModel::fit(n.streams, n.table, keep(41), Generator(5, 1)).empty());
  REQUIRE_THROWS_WITH(ConversationModel::fit(n.streams, n.table, keep(30, 0), Generator(5, 1)),
                      Catch::Contains("templates"));
  ConversationOptions bad = keep(30);
  bad.chance = 1.5;
  REQUIRE_THROWS_WITH(ConversationModel::fit(n.streams, n.table, bad, Generator(5, 1)),
                      Catch::Contains("chance"));
}

TEST_CASE("conversations: busy hosts draw one at the chance, with a remote in its octet",
          "[stan][conversations]") {
  const Net n = make_net();
  ConversationOptions o = keep(30);
  o.busy = 100;
  o.chance = 0.25;
  o.max_share = 0.5;
  const ConversationModel m = ConversationModel::fit(n.streams, n.table, o, Generator(5, 1));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int drawn = 0, first = 0;
  const int hosts = 4000;
  for (int h = 0; h < hosts; ++h) {
    const Generator g = Generator(9, 3).split(static_cast<uint64_t>(h));
    CHECK(m.draw(99, g).conversation == -1);   // not busy enough
    CHECK(m.draw(nan, g).conversation == -1);  // no profile
    const ConversationModel::Draw d = m.draw(120, g);
    if (d.conversation < 0) continue;
    ++drawn;
    const Conversation& c = m.conversations()[static_cast<size_t>(d.conversation)];
    CHECK(d.remote >> 24 == c.octet);
    CHECK((d.remote & 0xff) >= 1);
    CHECK((d.remote & 0xff) <= 254);
    // The conversation's flows over the host's 120 (30 / 120 or 40 / 120, under max_share).
    CHECK(d.share == Approx(static_cast<double>(c.flows) / 120));
    first += d.conversation == 0;
  }
  CHECK(drawn == Approx(0.25 * hosts).margin(4 * std::sqrt(0.25 * 0.75 * hosts)));
  CHECK(first == Approx(0.5 * drawn).margin(4 * std::sqrt(0.25 * drawn)));
  // A host expecting 60 flows (busy 50): the web conversation's 40 flows would be 2/3 of them,
  // more than max_share.
  o.busy = 50;
  o.chance = 1;
  const ConversationModel all = ConversationModel::fit(n.streams, n.table, o, Generator(5, 1));
  bool capped = false;
  for (int h = 0; h < 50 && !capped; ++h) {
    const ConversationModel::Draw d = all.draw(60, Generator(9, 4).split(static_cast<uint64_t>(h)));
    REQUIRE(d.conversation >= 0);
    if (d.conversation == 1) {
      CHECK(d.share == 0.5);
      capped = true;
    }
  }
  CHECK(capped);
}

TEST_CASE("conversations: a rewritten flow is its template's, to the drawn remote, at its time",
          "[stan][conversations]") {
  const Net n = make_net();
  const ConversationModel m = ConversationModel::fit(n.streams, n.table, keep(30), Generator(5, 1));
  const ConversationModel::Draw snmp{0, 0xc0010203, 0.4}, web{1, 0x5b040506, 0.4};
  FlowRecord r = flow(kDay0 + 777, 0x01020304, kHost, 1, 2, proto::tcp, 99);
  r.te_ms = 250;
  m.apply(snmp, 2, kHost, r);
  const SweepFlow& t = m.conversations()[0].templates[2];
  CHECK(r.te == kDay0 + 777);  // its own time
  CHECK(r.te_ms == 250);
  CHECK(r.sa == 0xc0010203);  // incoming: the remote sends it
  CHECK(r.da == kHost);
  CHECK(r.sp == t.remote_port);
  CHECK(r.dp == 161);
  CHECK(r.pr == proto::udp);
  CHECK(r.pkt == 2);
  CHECK(r.byt == 200);
  CHECK(r.td == 1.5);
  CHECK(r.stos == 40);
  m.apply(web, 0, kOther, r);
  CHECK(r.sa == kOther);  // outgoing: the host sends it
  CHECK(r.da == 0x5b040506);
  CHECK(r.dp == 80);
  CHECK(r.sp == m.conversations()[1].templates[0].local_port);
  CHECK(r.pkt == 7);
  CHECK(r.flg == tcp_flag::ack);
}

TEST_CASE("conversations: the model file's conversations round-trip, and bad ones are clear errors",
          "[stan][conversations]") {
  const Net n = make_net();
  const ConversationModel m = ConversationModel::fit(n.streams, n.table, keep(30), Generator(5, 1));
  const nlohmann::json j = m.to_json();
  const ConversationModel back = ConversationModel::from_json(j);
  CHECK(back.conversations() == m.conversations());
  CHECK(back.to_json() == j);
  CHECK(back.options().busy == 1000);
  CHECK_THAT(back.summary(), Catch::Contains("2 host-day pairs of 30 flows or more (70 flows)"));
  CHECK(ConversationModel::from_json(nullptr).empty());
  CHECK(ConversationModel().to_json().is_null());
  auto broken = [&](auto edit) {
    nlohmann::json e = j;
    edit(e);
    return e;
  };
  REQUIRE_THROWS_WITH(
      ConversationModel::from_json(broken([](auto& e) { e["conversations"][1]["octet"] = 256; })),
      Catch::Contains("conversations[1]") && Catch::Contains("octet"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(
                          broken([](auto& e) { e["conversations"][0]["templates"].push_back(1); })),
                      Catch::Contains("conversations[0]") && Catch::Contains("10 numbers"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(
                          broken([](auto& e) { e["conversations"][0]["templates"][3] = 70000; })),
                      Catch::Contains("template 0") && Catch::Contains("remote_port"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(
                          broken([](auto& e) { e["conversations"] = nlohmann::json::array(); })),
                      Catch::Contains("'conversations' must be an array"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(broken([](auto& e) { e["chance"] = 2; })),
                      Catch::Contains("chance"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(broken([](auto& e) { e["max_share"] = 0; })),
                      Catch::Contains("max_share"));
  REQUIRE_THROWS_WITH(ConversationModel::from_json(broken([](auto& e) { e.erase("busy"); })),
                      Catch::Contains("busy"));
}
