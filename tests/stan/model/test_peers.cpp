// The encoder's peers (stan/model/peers.cpp): peer-cache targets, the cache's order, peers and
// popular remotes matched by service, kept port classes, popular peers and older model files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "stan/model/encoding.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

// Encodes the sample's first 5000 flows with options `o` and a 4-peer cache: every remote comes
// back from the cache, the popular remotes or the octets, the cache keeps its bound and order,
// and the sample's hosts reuse peers.
void check_sample_peers(EncodingOptions o) {
  o.peer_cache = 4;
  FlowTable table = read_flows(sample_path(), ReadOptions{false, 5000});
  OwnerSelector owners;
  auto streams = build_host_streams(table, owners);
  Encoder enc(o);
  enc.fit(table, streams);
  int64_t hits = 0, rows = 0;
  for (const HostStream& st : streams) {
    PeerCache peers;
    for (const HostFlow& f : st.flows) {
      RowValues row = enc.encode(table.rows[f.row], f, 0, peers);
      REQUIRE(enc.remote_ip(row, peers) == f.remote_ip);
      hits += row.v[static_cast<int>(AttrId::peer)] > 0;
      ++rows;
      enc.update_peers(peers, f.remote_ip, row);
      REQUIRE(peers.size() <= 4);
      REQUIRE(peers.services.size() == peers.size());
      REQUIRE(peers.ports.size() == peers.size());
      if (o.last_first()) REQUIRE(peers.ips[0] == f.remote_ip);
      if (o.by_uses())  // by uses (with the previous remote first: the others)
        REQUIRE(std::is_sorted(peers.uses.begin() + (o.last_first() && peers.size() > 0),
                               peers.uses.end(), std::greater<>()));
    }
  }
  REQUIRE(hits > rows / 4);  // the sample's hosts reuse peers
}

}  // namespace

TEST_CASE("encoding: peer-cache targets on a hand-made stream", "[realism][peers]") {
  // One host talks to A, B, A, C, B, B (remote addresses), one flow a second.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304, B = 0x05060708,
                 C = 0x090a0b0c;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint32_t remote : {A, B, A, C, B, B}) {
    FlowRecord r = web_or_dns(++te, host, remote, true);
    r.pkt = 3;
    r.byt = 300;
    t.rows.push_back(r);
  }
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 1);
  Encoder enc;
  enc.fit(t, streams);
  REQUIRE(enc.find(AttrId::peer) != nullptr);
  PeerCache peers;
  std::vector<int> targets;
  std::vector<bool> octets_valid;
  for (const HostFlow& f : streams[0].flows) {
    RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    targets.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
    octets_valid.push_back(row.valid[static_cast<int>(AttrId::oct1)]);
    // The remote address comes back from the cache or the octets alike.
    REQUIRE(enc.remote_ip(row, peers) == f.remote_ip);
    enc.update_peers(peers, f.remote_ip, row);
  }
  // new, new, A is 2nd most recent, new, B is 3rd ([C, A, B]), B is the most recent.
  REQUIRE(targets == std::vector<int>{0, 0, 2, 0, 3, 1});
  REQUIRE(octets_valid == std::vector<bool>{true, true, false, true, false, false});
  REQUIRE(peers.ips == std::vector<uint32_t>{B, C, A});
  REQUIRE(peers.uses == std::vector<uint32_t>{3, 1, 2});
}

TEST_CASE("encoding: a cache ordered by uses keeps a host's favourite remotes in front",
          "[realism][peers]") {
  const uint32_t A = 0x01010101, B = 0x02020202, C = 0x03030303, D = 0x04040404;
  auto run = [](bool by_uses, int cap, const std::vector<uint32_t>& remotes) {
    EncodingOptions o;
    o.peer_cache = cap;
    o.peer_order = by_uses ? PeerOrder::uses : PeerOrder::recency;
    Encoder enc(o);
    PeerCache peers;
    for (uint32_t r : remotes) enc.update_peers(peers, r, RowValues{});
    return peers;
  };
  // A three times, B twice, C once, C last: by uses [A, B, C]; by recency [C, B, A].
  const std::vector<uint32_t> seq{A, B, A, B, A, C};
  PeerCache u = run(true, 8, seq);
  REQUIRE(u.ips == std::vector<uint32_t>{A, B, C});
  REQUIRE(u.uses == std::vector<uint32_t>{3, 2, 1});
  REQUIRE(run(false, 8, seq).ips == std::vector<uint32_t>{C, A, B});
  // Ties: the most recent first. C then B once each after A: [A, B, C].
  REQUIRE(run(true, 8, {A, A, C, B}).ips == std::vector<uint32_t>{A, B, C});
  // A full cache: a new remote evicts the least used (the oldest of them), not itself, even when
  // every cached peer has been used more often than it.
  // (A and B twice each: B, the more recent, stays.)
  REQUIRE(run(true, 2, {A, A, B, B, C}).ips == std::vector<uint32_t>{B, C});
  REQUIRE(run(true, 2, {A, A, B, C, D}).ips == std::vector<uint32_t>{A, D});
  // A peer that passes another moves ahead of it: B used 3 times, A twice.
  REQUIRE(run(true, 8, {A, A, B, B, B}).ips == std::vector<uint32_t>{B, A});

  // Real streams: every remote comes back from the uses-ordered cache or the octets.
  EncodingOptions ro;
  ro.peer_order = PeerOrder::uses;
  check_sample_peers(ro);

  // The order is stored with the model; files without it (older) mean recency; others are refused.
  EncodingOptions o;
  o.peer_order = PeerOrder::uses;
  nlohmann::json j = o.to_json();
  REQUIRE(j.at("peer_order") == "uses");
  REQUIRE(EncodingOptions::from_json(j).by_uses());
  j.erase("peer_order");
  REQUIRE_FALSE(EncodingOptions::from_json(j).by_uses());
  j["peer_order"] = "lru";
  REQUIRE_THROWS_WITH(EncodingOptions::from_json(j), Catch::Contains("'peer_order' is 'lru'"));
}

TEST_CASE("encoding: the previous flow's remote first keeps a run of flows in the first class",
          "[realism][peers]") {
  const uint32_t A = 0x01010101, B = 0x02020202, C = 0x03030303;
  // The peer class of each flow (1 + cache position; 0 = new), then the cache.
  auto classes = [](bool last_first, int cap, const std::vector<uint32_t>& remotes) {
    EncodingOptions o;
    o.peer_cache = cap;
    o.peer_order = last_first ? PeerOrder::last_then_uses : PeerOrder::uses;
    Encoder enc(o);
    PeerCache peers;
    std::vector<int> out;
    for (uint32_t r : remotes) {
      const auto it = std::find(peers.ips.begin(), peers.ips.end(), r);
      out.push_back(it == peers.ips.end() ? 0 : static_cast<int>(it - peers.ips.begin()) + 1);
      enc.update_peers(peers, r, RowValues{});
    }
    return std::pair{out, peers};
  };
  const std::vector<uint32_t> seq{A, A, A, B, B, A, C, B};
  // By uses, B's run is class 2 (A, used more, stays first); with the previous remote first it
  // is class 1, and A comes back to its place by uses once B's run ends.
  REQUIRE(classes(false, 8, seq).first == std::vector<int>{0, 1, 1, 0, 2, 1, 0, 2});
  const auto [got, peers] = classes(true, 8, seq);
  REQUIRE(got == std::vector<int>{0, 1, 1, 0, 1, 2, 0, 3});
  REQUIRE(peers.ips == std::vector<uint32_t>{B, A, C});
  REQUIRE(peers.uses == std::vector<uint32_t>{3, 4, 1});
  // A full cache evicts the least used of the others, never the previous remote.
  REQUIRE(classes(true, 2, {A, A, B, C}).second.ips == std::vector<uint32_t>{C, A});
  // Real streams: every remote comes back from the cache or the octets.
  EncodingOptions ro;
  ro.peer_order = PeerOrder::last_then_uses;
  check_sample_peers(ro);
  // Stored with the model.
  nlohmann::json j = ro.to_json();
  REQUIRE(j.at("peer_order") == "last_then_uses");
  const EncodingOptions back = EncodingOptions::from_json(j);
  REQUIRE(back.by_uses());
  REQUIRE(back.last_first());
}

TEST_CASE("encoding: peers matched by service list the host's peers of the row's service first",
          "[realism][peers]") {
  // One host: A and C are web servers (TCP 443), B a resolver (UDP 53); A then turns to UDP 53.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304, B = 0x05060708,
                 C = 0x090a0b0c;
  add_web_or_dns(
      t, host,
      {{A, true}, {A, true}, {B, false}, {C, true}, {B, false}, {C, true}, {A, false}, {B, false}});
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 1);
  auto targets = [&](bool by_service) {
    EncodingOptions o;
    o.peer_order = PeerOrder::uses;
    o.peer_match = by_service ? PeerMatch::service : PeerMatch::any;
    Encoder enc(o);
    enc.fit(t, streams);
    PeerCache peers;
    std::vector<int> out;
    for (const HostFlow& f : streams[0].flows) {
      RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
      out.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
      REQUIRE(row.valid[static_cast<int>(AttrId::oct1)] == (out.back() == 0));
      REQUIRE(enc.remote_ip(row, peers) == f.remote_ip);
      Generator g(1);
      REQUIRE(enc.decode(row, host, peers, g).da == f.remote_ip);
      enc.update_peers(peers, f.remote_ip, row);
    }
    // B and A (3 uses each, B the more recent) last used with UDP 53, C with TCP 443: the cache
    // remembers each peer's last service.
    REQUIRE(peers.ips == std::vector<uint32_t>{B, A, C});
    REQUIRE(peers.services.size() == 3);
    REQUIRE(peers.services[0] == peers.services[1]);
    REQUIRE(peers.services[0] != peers.services[2]);
    return out;
  };
  // Cache by uses before flows 5-8: [A, C, B], [B, A, C], [C, B, A], [A, C, B]. Matched by
  // service: B is the resolver list's first (1); C the web list's second after A (2); A, now on
  // UDP 53, comes after the resolver B and the web server C (3); B after A, now a resolver (2).
  REQUIRE(targets(true) == std::vector<int>{0, 1, 0, 0, 1, 2, 3, 2});
  REQUIRE(targets(false) == std::vector<int>{0, 1, 0, 0, 3, 3, 3, 3});

  // Stored with the model; files without it (older) mean cache order; others are refused.
  EncodingOptions o;
  o.peer_match = PeerMatch::service;
  nlohmann::json j = o.to_json();
  REQUIRE(j.at("peer_match") == "service");
  REQUIRE(EncodingOptions::from_json(j).by_service());
  REQUIRE(EncodingOptions::recommended().by_service());  // the default since the peer memory
  j.erase("peer_match");
  REQUIRE_FALSE(EncodingOptions::from_json(j).by_service());
  j["peer_match"] = "port";
  REQUIRE_THROWS_WITH(
      EncodingOptions::from_json(j),
      Catch::Contains("'peer_match' is 'port' (expected 'any', 'service' or 'two_services')"));

  // Real streams: every remote comes back from the service-matched cache or the octets.
  EncodingOptions ro = EncodingOptions::recommended();
  ro.peer_match = PeerMatch::service;
  check_sample_peers(ro);
}

TEST_CASE("encoding: with two services a peer also matches the service it had before its last",
          "[realism][peers]") {
  // One host: A on TCP 443 (3 packets), A on UDP 53, B on TCP 443, A back on TCP 443 from another
  // local port class, A on UDP 53 again from the same port (2 packets; the others 1).
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304, B = 0x05060708;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  const std::vector<std::tuple<uint32_t, bool, uint16_t>> seq{
      {A, true, 40000}, {A, false, 40000}, {B, true, 40000}, {A, true, 50000}, {A, false, 40000}};
  for (auto [remote, web, sp] : seq) {
    t.rows.push_back(web_or_dns(++te, host, remote, web, sp));
    t.rows.back().pkt = t.rows.size() == 1 ? 3 : t.rows.size() == 5 ? 2 : 1;
  }
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 1);
  struct Run {
    std::vector<int> classes;
    std::vector<std::vector<float>> memory;
    PeerCache peers;
    double keep_ports = 0;
    nlohmann::json model;
  };
  auto run = [&](bool two) {
    EncodingOptions o;
    o.peer_order = PeerOrder::uses;
    o.peer_match = two ? PeerMatch::two_services : PeerMatch::service;
    o.peer_memory = true;
    Encoder enc(o);
    enc.fit(t, streams);
    Run r;
    r.keep_ports = enc.keep_ports();
    r.model = enc.to_json();
    for (const HostFlow& f : streams[0].flows) {
      RowValues row = enc.encode(t.rows[f.row], f, 0, r.peers);
      r.classes.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
      r.memory.emplace_back(row.memory.begin(), row.memory.end());
      REQUIRE(enc.remote_ip(row, r.peers) == f.remote_ip);
      Generator g(1);
      REQUIRE(enc.decode(row, host, r.peers, g).da == f.remote_ip);
      enc.update_peers(r.peers, f.remote_ip, row);
    }
    return r;
  };
  const Run one = run(false), two = run(true);
  // Before flow 4 the cache (by uses) is [A (2 uses), B]; A's last service is UDP 53, B's TCP
  // 443. One service: the web view is [B, A], so A is the second class; two: A matches TCP 443
  // too (its previous service), so the view is [A, B]. Flow 5: A (now last on TCP 443) matches
  // UDP 53 by its previous service with two, and with one no peer has it (cache order) either.
  REQUIRE(one.classes == std::vector<int>{0, 1, 0, 2, 1});
  REQUIRE(two.classes == std::vector<int>{0, 1, 0, 1, 1});
  // The memory of flow 4: with two services A's first flow on TCP 443 (3 packets), with one its
  // first on UDP 53 (1 packet, the anchor of its last service).
  REQUIRE(two.memory[3] == two.memory[1]);  // flow 2 (UDP) saw A's web anchor too
  REQUIRE(two.memory[3] != one.memory[3]);
  // The cache keeps both services with their port classes and anchors, swapped on each switch:
  // after flow 5 A is last on UDP 53 (anchor: flow 2) and before on TCP 443 (ports of flow 4,
  // anchor: flow 1).
  const PeerCache& c = two.peers;
  const auto anchor = [](const std::vector<float>& m) { return PeerFlow{m[2], m[3], m[4], m[5]}; };
  REQUIRE(c.ips == std::vector<uint32_t>{A, B});
  REQUIRE(c.services[0] != c.services[1]);
  REQUIRE(c.prev_services[0] == c.services[1]);  // TCP 443, as B's
  REQUIRE(c.prev_services[1] == kNoService);     // B has had one service
  REQUIRE(c.prev_ports[0] == (static_cast<uint32_t>(port_class(50000)) << 16 | 443));
  REQUIRE(c.prev_first[0] == anchor(two.memory[1]));
  // Flow 5 saw A's UDP anchor (flow 2), which stays; with one service flow 5 is the anchor.
  REQUIRE(c.first[0] == anchor(two.memory[4]));
  REQUIRE(c.first[0] != one.peers.first[0]);
  REQUIRE(one.peers.prev_services[0] == c.prev_services[0]);
  // Port classes kept on return: two counts flows 4 (new class: not kept) and 5 (kept); one has
  // no return with the last service.
  REQUIRE(two.keep_ports == Approx(0.5));
  REQUIRE(one.keep_ports == 0);
  // A return to A on TCP 443 decoded at rate 1 takes the port classes of A's last TCP 443 flow
  // (flow 4's local class), not the row's.
  nlohmann::json m = two.model;
  m["keep_ports"] = 1.0;
  const Encoder e = Encoder::from_json(m);
  const HostFlow& f4 = streams[0].flows[3];
  RowValues back = e.encode(t.rows[f4.row], f4, 0, c);
  REQUIRE(back.v[static_cast<int>(AttrId::peer)] == 1);  // A first: it matches by its previous
  back.v[static_cast<int>(AttrId::lport)] = static_cast<double>(port_class(60000));
  Generator g(3);
  const FlowRecord r = e.decode(back, host, c, g);
  REQUIRE(r.da == A);
  REQUIRE(port_class(r.sp) == port_class(50000));

  // Stored with the model as peer_match two_services.
  EncodingOptions o;
  o.peer_match = PeerMatch::two_services;
  const nlohmann::json j = o.to_json();
  REQUIRE(j.at("peer_match") == "two_services");
  const EncodingOptions loaded = EncodingOptions::from_json(j);
  REQUIRE(loaded.by_service());
  REQUIRE(loaded.two_services());
  REQUIRE(EncodingOptions::recommended().two_services());  // the default since this option

  // Real streams: every remote comes back from the cache matched by two services or the octets.
  EncodingOptions ro = EncodingOptions::recommended();
  ro.peer_match = PeerMatch::two_services;
  check_sample_peers(ro);
}

TEST_CASE("encoding: popular peers are shared across hosts, after the host's own cache",
          "[realism][peers]") {
  // Four hosts; X talks to all four, Y to two of them (below the 3-host threshold), each host
  // also has a private peer. Host h: X, P_h, X, Y (hosts 0 and 1 only).
  FlowTable t;
  const uint32_t X = 0x08080808, Y = 0x01010101;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto flow = [&](uint32_t host, uint32_t remote) {
    t.rows.push_back(web_or_dns(++te, host, remote, false));
  };
  for (uint32_t h = 1; h <= 4; ++h) {
    const uint32_t host = (42u << 24) | (219u << 16) | h;
    flow(host, X);
    flow(host, 0x0a000000u + h);
    flow(host, X);
    if (h <= 2) flow(host, Y);
  }
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 4);
  EncodingOptions o;
  o.peer_cache = 4;
  o.popular_peers = 16;
  o.popular_min_hosts = 3;
  Encoder enc(o);
  enc.fit(t, streams);
  REQUIRE(enc.popular_peers() == std::vector<uint32_t>{X});
  const AttrSpec* peer = enc.find(AttrId::peer);
  REQUIRE(peer != nullptr);
  REQUIRE(peer->classes == 1 + 1 + 4);  // new, X, 4 cache slots
  REQUIRE(peer->ncols == 3);
  REQUIRE(enc.peer_limit(0) == 2);
  REQUIRE(enc.peer_limit(3) == 5);
  // Encodes every host's stream with `e`, checking that each row decodes to its remote and that
  // the cache never holds `never`; returns the peer targets per host.
  auto targets_of = [&](const Encoder& e, uint32_t never) {
    std::vector<std::vector<int>> all;
    for (const HostStream& s : streams) {
      PeerCache peers;
      std::vector<int>& targets = all.emplace_back();
      for (const HostFlow& f : s.flows) {
        RowValues row = e.encode(t.rows[f.row], f, 0, peers);
        targets.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
        REQUIRE(row.valid[static_cast<int>(AttrId::oct1)] == (targets.back() == 0));
        REQUIRE(e.remote_ip(row, peers) == f.remote_ip);
        Generator g(1);
        REQUIRE(e.decode(row, s.host, peers, g).da == f.remote_ip);
        e.update_peers(peers, f.remote_ip, row);
        REQUIRE(std::find(peers.ips.begin(), peers.ips.end(), never) == peers.ips.end());
      }
    }
    return all;
  };
  // X first: popular (class 1); the private peer: new; X again: 2nd in the cache (1 + 2);
  // Y (hosts 1 and 2): new.
  std::vector<std::vector<int>> want{{1, 0, 3, 0}, {1, 0, 3, 0}, {1, 0, 3}, {1, 0, 3}};
  REQUIRE(targets_of(enc, 0) == want);
  SECTION("looked up popular first, a popular remote keeps its class and stays out of the cache") {
    o.popular_first = true;
    Encoder pf(o);
    pf.fit(t, streams);
    REQUIRE(pf.popular_peers() == std::vector<uint32_t>{X});
    // X: popular (1) both times; the private peer: new; Y (hosts 1 and 2): new.
    for (auto& w : want) w[2] = 1;
    REQUIRE(targets_of(pf, X) == want);
    // Features: minus the popular rank (never a cache position), new, popular.
    const AttrSpec* pp = pf.find(AttrId::peer);
    std::vector<float> feat(pf.columns(), 0.0f);
    RowValues prow;
    prow.v[static_cast<int>(AttrId::peer)] = 1;
    prow.valid[static_cast<int>(AttrId::peer)] = true;
    pf.write_attr(*pp, prow, feat.data());
    REQUIRE(feat[pp->col] == -1.0f);
    REQUIRE(feat[pp->col + 1] == 0.0f);
    REQUIRE(feat[pp->col + 2] == 1.0f);
    // The lookup is stored with the model; files without it (older) mean the cache first.
    nlohmann::json j = o.to_json();
    REQUIRE(j.at("peer_lookup") == "popular_first");
    REQUIRE(EncodingOptions::from_json(j).popular_first);
    REQUIRE(Encoder::from_json(pf.to_json()).to_json() == pf.to_json());
    j.erase("peer_lookup");
    REQUIRE_FALSE(EncodingOptions::from_json(j).popular_first);
    j["peer_lookup"] = "popular";
    REQUIRE_THROWS_WITH(EncodingOptions::from_json(j),
                        Catch::Contains("'peer_lookup' is 'popular' (expected 'cache_first', "
                                        "'popular_first' or 'popular_known')"));
  }
  // Features: cache position, new, popular.
  std::vector<float> f(enc.columns(), 0.0f);
  RowValues row;
  row.v[static_cast<int>(AttrId::peer)] = 1;
  row.valid[static_cast<int>(AttrId::peer)] = true;
  enc.write_attr(*peer, row, f.data());
  REQUIRE(f[peer->col] == 0.0f);
  REQUIRE(f[peer->col + 1] == 0.0f);
  REQUIRE(f[peer->col + 2] == 1.0f);
  Encoder again = Encoder::from_json(enc.to_json());
  REQUIRE(again.popular_peers() == enc.popular_peers());
  REQUIRE(again.to_json() == enc.to_json());
  // A model file's list is checked: addresses only, no more than its options allow.
  nlohmann::json bad = enc.to_json();
  bad["popular_peers"] = {"10.0.0.0/8"};
  REQUIRE_THROWS_WITH(Encoder::from_json(bad), Catch::Contains("is not an address"));
  bad["popular_peers"] = {7};
  REQUIRE_THROWS_WITH(Encoder::from_json(bad), Catch::Contains("holds a non-string"));
  bad["popular_peers"] = nlohmann::json::array();
  for (int i = 0; i < 17; ++i) bad["popular_peers"].push_back("8.8.8." + std::to_string(i));
  REQUIRE_THROWS_WITH(Encoder::from_json(bad),
                      Catch::Contains("17 popular peers, the options allow 16"));
  bad = enc.to_json();
  bad["options"]["popular_peers"] = -1;
  REQUIRE_THROWS_WITH(Encoder::from_json(bad), Catch::Contains("'popular_peers' is -1"));
}

TEST_CASE(
    "encoding: looked up popular first and known, a popular remote keeps its class and "
    "what the host knows of it",
    "[realism][peers]") {
  // Hosts 2-4 query P (TCP 443) once each, so P is popular. Host 1: P from local port 40000
  // (3 packets), a private remote N, P again from 40010 (the same port class), P from 50000.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, P = 0x01010101, N = 0x05060708;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint32_t h = 2; h <= 4; ++h)
    t.rows.push_back(web_or_dns(++te, (42u << 24) | (219u << 16) | h, P, true));
  FlowRecord first = web_or_dns(++te, host, P, true, 40000);
  first.pkt = 3;
  first.byt = 1500;
  t.rows.push_back(first);
  t.rows.push_back(web_or_dns(++te, host, N, true));
  t.rows.push_back(web_or_dns(++te, host, P, true, 40010));
  t.rows.push_back(web_or_dns(++te, host, P, true, 50000));
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  const HostStream& s = *std::find_if(streams.begin(), streams.end(),
                                      [&](const HostStream& st) { return st.host == host; });
  REQUIRE(s.flows.size() == 4);
  EncodingOptions o;
  o.peer_cache = 4;
  o.peer_match = PeerMatch::service;
  o.popular_peers = 4;
  o.popular_min_hosts = 3;
  o.peer_memory = true;
  o.popular_first = true;
  // Host 1's rows with options `opt`, each checked to decode to its remote; the peer targets, the
  // memory's "known" column and whether the row's peer is known (Encoder::known_peer).
  struct Encoded {
    std::vector<int> targets, known_col, known;
    PeerCache peers;
  };
  auto encode = [&](const EncodingOptions& opt) {
    Encoder e(opt);
    e.fit(t, streams);
    REQUIRE(e.popular_peers() == std::vector<uint32_t>{P});
    Encoded out;
    for (const HostFlow& f : s.flows) {
      const RowValues row = e.encode(t.rows[f.row], f, 0, out.peers);
      out.targets.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
      out.known_col.push_back(static_cast<int>(row.memory[0]));
      out.known.push_back(e.known_peer(row, out.peers).first != nullptr);
      Generator g(1);
      REQUIRE(e.decode(row, host, out.peers, g).da == f.remote_ip);
      e.update_peers(out.peers, f.remote_ip, row);
      REQUIRE(std::find(out.peers.ips.begin(), out.peers.ips.end(), P) == out.peers.ips.end());
    }
    return out;
  };
  // Popular first: P has its popular class (1) every time, N is new; P is never known.
  const Encoded plain = encode(o);
  REQUIRE(plain.targets == std::vector<int>{1, 0, 1, 1});
  REQUIRE(plain.known == std::vector<int>{0, 0, 0, 0});
  REQUIRE(plain.known_col == std::vector<int>{0, 0, 0, 0});
  REQUIRE(plain.peers.popular.empty());
  // And known: the same classes, but P's returns know it, from a cache of their own.
  o.popular_known = true;
  const Encoded known = encode(o);
  REQUIRE(known.targets == plain.targets);
  REQUIRE(known.known == std::vector<int>{0, 0, 1, 1});
  REQUIRE(known.known_col == std::vector<int>{0, 0, 1, 1});
  REQUIRE(known.peers.ips == std::vector<uint32_t>{N});
  REQUIRE(known.peers.popular.size() == 1);
  REQUIRE(known.peers.popular[0].ips == std::vector<uint32_t>{P});
  REQUIRE(known.peers.popular[0].uses == std::vector<uint32_t>{3});
  // Its first flow of the service is the memory's anchor, and its last port classes are the ones
  // a return keeps (Encoder::keep_ports, here at rate 1).
  Encoder e(o);
  e.fit(t, streams);
  nlohmann::json j = e.to_json();
  REQUIRE(j.at("options").at("peer_lookup") == "popular_known");
  j["keep_ports"] = 1.0;
  const Encoder keep = Encoder::from_json(j);
  REQUIRE(keep.options().popular_known);
  PeerCache peers;
  RowValues row;
  for (size_t i = 0; i < 3; ++i) {
    const HostFlow& f = s.flows[i];
    row = keep.encode(t.rows[f.row], f, 0, peers);
    keep.update_peers(peers, f.remote_ip, row);
  }
  RowValues back = row;  // the third row: P from 40010
  back.v[static_cast<int>(AttrId::lport)] = static_cast<double>(port_class(60000));
  std::vector<float> mem(kPeerMemory);
  keep.peer_memory(back, peers, mem.data());
  REQUIRE(mem[0] == 1.0f);
  REQUIRE(mem[1] == 1 / 255.0f);
  REQUIRE(mem[2] ==
          static_cast<float>(keep.encode(t.rows[s.flows[0].row], s.flows[0], 0, PeerCache())
                                 .v[static_cast<int>(AttrId::pkt)]));
  Generator g(3);
  const FlowRecord r = keep.decode(back, host, peers, g);
  REQUIRE(r.da == P);
  REQUIRE(port_class(r.sp) == port_class(40010));
  // Without known, the same return keeps nothing: the row's own class.
  j["options"]["peer_lookup"] = "popular_first";
  const Encoder forget = Encoder::from_json(j);
  PeerCache none;
  Generator g2(3);
  REQUIRE(port_class(forget.decode(back, host, none, g2).sp) == port_class(60000));
}

TEST_CASE("encoding: popular remotes ranked by flows put a busy shared server first",
          "[realism][peers]") {
  // Five hosts. S (a scanner) sends one flow to each of the five; R (a resolver) takes 20 flows
  // from each of three; Q takes 50 flows from two, below the 3-host threshold either way.
  FlowTable t;
  const uint32_t S = 0x0b0b0b0b, R = 0x8f480889, Q = 0x07070707;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto flow = [&](uint32_t host, uint32_t remote, int n) {
    for (int i = 0; i < n; ++i) t.rows.push_back(web_or_dns(++te, host, remote, false));
  };
  for (uint32_t h = 1; h <= 5; ++h) {
    const uint32_t host = (42u << 24) | (219u << 16) | h;
    flow(host, S, 1);
    if (h <= 3) flow(host, R, 20);
    if (h <= 2) flow(host, Q, 50);
  }
  auto streams = build_host_streams(t, OwnerSelector{});
  REQUIRE(streams.size() == 5);
  EncodingOptions o;
  o.peer_cache = 4;
  o.popular_peers = 1;
  o.popular_min_hosts = 3;
  Encoder by_hosts(o);
  by_hosts.fit(t, streams);
  REQUIRE(by_hosts.popular_peers() == std::vector<uint32_t>{S});  // five hosts against three
  REQUIRE_FALSE(by_hosts.to_json()["options"].contains("popular_rank"));  // as before the option
  o.popular_by_flows = true;
  Encoder by_flows(o);
  by_flows.fit(t, streams);
  REQUIRE(by_flows.popular_peers() ==
          std::vector<uint32_t>{R});  // 60 flows against five; Q: two hosts
  o.popular_peers = 4;
  Encoder all(o);
  all.fit(t, streams);
  REQUIRE(all.popular_peers() == std::vector<uint32_t>{R, S});
  REQUIRE_THAT(all.describe(), Catch::Contains("popular_peers=2 (by flows)"));

  // The rank is part of the model file; an old file (no field) ranks by hosts; a bad one is
  // refused.
  const nlohmann::json j = all.to_json();
  REQUIRE(j["options"].at("popular_rank") == "flows");
  const Encoder loaded = Encoder::from_json(j);
  REQUIRE(loaded.options().popular_by_flows);
  REQUIRE(loaded.popular_peers() == all.popular_peers());
  nlohmann::json old = j;
  old["options"].erase("popular_rank");
  REQUIRE_FALSE(EncodingOptions::from_json(old["options"]).popular_by_flows);
  nlohmann::json bad = j;
  bad["options"]["popular_rank"] = "bytes";
  REQUIRE_THROWS_WITH(Encoder::from_json(bad),
                      Catch::Contains("'popular_rank' is 'bytes' (expected 'hosts' or 'flows')"));
}

TEST_CASE("encoding: a returning peer keeps its last port classes at the fitted rate",
          "[realism][peers]") {
  // One host, remote A on TCP 443 from local ports 40000, 40010 (the same class), 50000 (another
  // class), 50010 (the same as the last): of 3 returns with A's last service, 2 keep its classes.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint16_t sp : {40000, 40010, 50000, 50010})
    t.rows.push_back(web_or_dns(++te, host, A, true, sp));
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  EncodingOptions o;
  o.peer_order = PeerOrder::uses;
  o.peer_match = PeerMatch::service;
  Encoder enc(o);
  enc.fit(t, streams);
  REQUIRE(enc.keep_ports() == Approx(2.0 / 3.0));
  o.peer_match = PeerMatch::any;
  Encoder plain(o);
  plain.fit(t, streams);
  REQUIRE(plain.keep_ports() == 0);
  REQUIRE_FALSE(plain.to_json().contains("keep_ports"));

  // Decoding a return to A with its service: at rate 1 the record takes A's last classes, at
  // rate 0 the row's own.
  PeerCache peers;
  const HostFlow& f0 = streams[0].flows[0];
  RowValues first = enc.encode(t.rows[f0.row], f0, 0, peers);
  enc.update_peers(peers, A, first);
  REQUIRE(peers.ports[0] == (static_cast<uint32_t>(port_class(40000)) << 16 | 443));
  RowValues back = first;
  back.v[static_cast<int>(AttrId::lport)] = static_cast<double>(port_class(60000));
  back.v[static_cast<int>(AttrId::peer)] = 1;  // no popular remotes: the cache's first
  back.valid[static_cast<int>(AttrId::oct1)] = false;
  auto local_class = [&](double rate) {
    nlohmann::json j = enc.to_json();
    j["keep_ports"] = rate;
    const Encoder e = Encoder::from_json(j);
    Generator g(3);
    const FlowRecord r = e.decode(back, host, peers, g);
    REQUIRE(r.da == A);
    REQUIRE(r.dp == 443);
    return port_class(r.sp);
  };
  REQUIRE(local_class(1.0) == port_class(40000));
  REQUIRE(local_class(0.0) == port_class(60000));
  // Another service (UDP) is not a return with A's service: the row's classes stay.
  back.v[static_cast<int>(AttrId::proto)] = 1;
  REQUIRE(local_class(1.0) == port_class(60000));

  // Stored with the model and checked on load.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("keep_ports") == Approx(2.0 / 3.0));
  REQUIRE(Encoder::from_json(j).keep_ports() == Approx(2.0 / 3.0));
  j["keep_ports"] = 1.5;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'keep_ports'"));
  j["keep_ports"] = 0.5;
  j["options"]["peer_match"] = "any";
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("needs the options' peer_match"));
}

TEST_CASE("encoding: popular remotes matched by service list those of the row's service first",
          "[realism][peers]") {
  // Four hosts; each talks to W (TCP 443) twice, then to R (UDP 53); host 1 then asks W on UDP
  // 53. W has more flows than R, so it is the first popular remote, and its service is TCP 443.
  FlowTable t;
  const uint32_t W = 0x08080808, R = 0x01010101;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto flow = [&](uint32_t host, uint32_t remote, bool web) {
    t.rows.push_back(web_or_dns(++te, host, remote, web));
  };
  const uint32_t first = (42u << 24) | (219u << 16) | 1;
  for (uint32_t h = 1; h <= 4; ++h) {
    const uint32_t host = (42u << 24) | (219u << 16) | h;
    flow(host, W, true);
    flow(host, W, true);
    flow(host, R, false);
  }
  flow(first, W, false);
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 4);
  auto fitted = [&](bool by_service) {
    EncodingOptions o;
    o.peer_cache = 0;  // every flow to a popular remote has its popular class
    o.popular_peers = 16;
    o.popular_min_hosts = 3;
    o.peer_match = by_service ? PeerMatch::service : PeerMatch::any;
    Encoder enc(o);
    enc.fit(t, streams);
    REQUIRE(enc.popular_peers() == std::vector<uint32_t>{W, R});
    return enc;
  };
  auto targets = [&](const Encoder& enc) {
    std::vector<int> out;
    for (const HostFlow& f : streams[0].flows) {  // host 1
      RowValues row = enc.encode(t.rows[f.row], f, 0, {});
      out.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
      REQUIRE(enc.remote_ip(row, {}) == f.remote_ip);
      Generator g(1);
      REQUIRE(enc.decode(row, first, {}, g).da == f.remote_ip);
    }
    return out;
  };
  const Encoder by_service = fitted(true);
  // W on TCP 443: first; R on UDP 53: first of its service; W on UDP 53: after R.
  REQUIRE(targets(by_service) == std::vector<int>{1, 1, 1, 2});
  REQUIRE(targets(fitted(false)) == std::vector<int>{1, 1, 2, 1});

  // The services are stored with the model and checked on load.
  nlohmann::json j = by_service.to_json();
  REQUIRE(j.at("popular_services").size() == 2);
  REQUIRE(j.at("popular_services")[0] != j.at("popular_services")[1]);
  REQUIRE(targets(Encoder::from_json(j)) == std::vector<int>{1, 1, 1, 2});
  REQUIRE_FALSE(fitted(false).to_json().contains("popular_services"));
  nlohmann::json bad = j;
  bad["popular_services"].push_back(0);
  REQUIRE_THROWS_WITH(Encoder::from_json(bad), Catch::Contains("'popular_services'"));
  bad = j;
  bad["popular_services"][0] = 1700;  // port class 1700: beyond the 1670 classes
  REQUIRE_THROWS_WITH(Encoder::from_json(bad),
                      Catch::Contains("port class 1700 is not below 1670"));
  bad = j;
  bad["options"]["peer_match"] = "any";
  REQUIRE_THROWS_WITH(Encoder::from_json(bad), Catch::Contains("needs the options' peer_match"));
}

TEST_CASE("encoding: a model file without popular peers keeps the old peer layout",
          "[realism][peers]") {
  FlowTable table = read_flows(sample_path(), ReadOptions{false, 5000});
  auto streams = build_host_streams(table, OwnerSelector{});
  EncodingOptions o;
  o.popular_peers = 0;
  Encoder enc(o);
  enc.fit(table, streams);
  nlohmann::json j = enc.to_json();
  j["options"].erase("popular_peers");
  j["options"].erase("popular_min_hosts");
  j.erase("popular_peers");
  Encoder old = Encoder::from_json(j);
  REQUIRE(old.options().popular_peers == 0);
  REQUIRE(old.find(AttrId::peer)->classes == 1 + o.peer_cache);
  REQUIRE(old.find(AttrId::peer)->ncols == 2);
  REQUIRE(old.columns() == enc.columns());
  REQUIRE(old.peer_limit(3) == 4);
}

TEST_CASE("encoding: the peer memory shows a return its remote's first flow of the service",
          "[realism][peers]") {
  // Host 1: W (TCP 443, 3 packets of 500 bytes, 2 s), W again (1 packet, 0 s), W on UDP 53, then
  // a new remote N. Hosts 2-4 talk to P (UDP 53) once each, so P is a popular remote that host 1
  // has not used.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08080808, N = 0x05060708,
                 P = 0x01010101;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  FlowRecord w = web_or_dns(++te, host, W, true);
  w.pkt = 3;
  w.byt = 1500;
  w.td = 2;
  t.rows.push_back(w);
  w.te = ++te;
  w.pkt = 1;
  w.byt = 40;
  w.td = 0;
  t.rows.push_back(w);
  t.rows.push_back(web_or_dns(++te, host, W, false));
  t.rows.push_back(web_or_dns(++te, host, N, true));
  for (uint32_t h = 2; h <= 4; ++h)
    t.rows.push_back(web_or_dns(++te, (42u << 24) | (219u << 16) | h, P, false));
  t.rows.push_back(web_or_dns(++te, host, P, false));
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  EncodingOptions o;
  o.peer_cache = 4;
  o.peer_order = PeerOrder::uses;
  o.popular_peers = 4;
  o.popular_min_hosts = 3;
  o.peer_memory = true;
  Encoder enc(o);
  enc.fit(t, streams);
  REQUIRE(enc.popular_peers() == std::vector<uint32_t>{P});
  const int mc = enc.memory_col();
  REQUIRE(mc == enc.find(AttrId::peer)->col + enc.find(AttrId::peer)->ncols);
  REQUIRE(enc.find(AttrId::oct1)->col == mc + kPeerMemory);
  // Host 1's rows, encoded as the dataset does, and their memory columns.
  const HostStream& s = *std::find_if(streams.begin(), streams.end(),
                                      [&](const HostStream& st) { return st.host == host; });
  REQUIRE(s.flows.size() == 5);
  PeerCache peers;
  std::vector<RowValues> rows;
  std::vector<std::vector<float>> mem;
  for (const HostFlow& f : s.flows) {
    rows.push_back(enc.encode(t.rows[f.row], f, 0, peers));
    std::vector<float> feat(static_cast<size_t>(enc.columns()));
    enc.write_features(rows.back(), feat.data());
    mem.emplace_back(feat.begin() + mc, feat.begin() + mc + kPeerMemory);
    // The same from the cache, as generation computes it once the peer class is drawn.
    std::vector<float> again(kPeerMemory);
    enc.peer_memory(rows.back(), peers, again.data());
    REQUIRE(again == mem.back());
    enc.update_peers(peers, f.remote_ip, rows.back());
  }
  auto at = [&](const RowValues& r, AttrId a) {
    return static_cast<float>(r.v[static_cast<int>(a)]);
  };
  // A new remote: nothing known.
  REQUIRE(mem[0] == std::vector<float>(kPeerMemory, 0.0f));
  REQUIRE(mem[3] == std::vector<float>(kPeerMemory, 0.0f));
  // W's returns: known, its octet, and its first flow's packets, bytes, duration kind and
  // duration, also after a second flow with the service (the anchor stays).
  const std::vector<float> first{1.0f,
                                 8 / 255.0f,
                                 at(rows[0], AttrId::pkt),
                                 at(rows[0], AttrId::bytes),
                                 1.0f,
                                 at(rows[0], AttrId::td)};
  REQUIRE(mem[1] == first);
  REQUIRE(mem[2] == first);
  REQUIRE(at(rows[0], AttrId::pkt) != at(rows[1], AttrId::pkt));
  // The popular remote P, not in host 1's cache: its octet only.
  REQUIRE(rows[4].v[static_cast<int>(AttrId::peer)] == 1);
  REQUIRE(mem[4] == std::vector<float>{0.0f, 1 / 255.0f, 0.0f, 0.0f, 0.0f, 0.0f});
  // W's service changed with its third flow (UDP 53, zero duration): that flow is its anchor.
  REQUIRE(peers.first[std::find(peers.ips.begin(), peers.ips.end(), W) - peers.ips.begin()] ==
          PeerFlow{at(rows[2], AttrId::pkt), at(rows[2], AttrId::bytes), 0.0f, 0.0f});

  // Stored with the model; absent in older files (off); a model without a cache refuses it.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("peer_memory") == true);
  REQUIRE(Encoder::from_json(j).memory_col() == mc);
  j["options"].erase("peer_memory");
  const Encoder old = Encoder::from_json(j);
  REQUIRE(old.memory_col() == -1);
  REQUIRE(old.columns() == enc.columns() - kPeerMemory);
  j["options"]["peer_memory"] = true;
  j["options"]["peer_cache"] = 0;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_memory' needs a peer cache"));
}
