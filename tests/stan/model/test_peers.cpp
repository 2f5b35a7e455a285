// The encoder's peers (stan/model/peers.cpp): peer-cache targets, the cache's order, peers
// matched by service, kept port classes, the peer memory and older model files (the popular
// remotes: test_popular_peers.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "stan/model/encoding.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

// Host stream s's rows encoded as the dataset does (into *rows, through *peers), and each row's
// memory columns (Encoder::memory_width() of them) from its features, checked against the same
// from the cache, as generation computes them once the peer class is drawn.
std::vector<std::vector<float>> encode_memory(const Encoder& enc, const FlowTable& t,
                                              const HostStream& s, std::vector<RowValues>* rows,
                                              PeerCache* peers) {
  const int mc = enc.memory_col(), mw = enc.memory_width();
  std::vector<std::vector<float>> mem;
  for (const HostFlow& f : s.flows) {
    rows->push_back(enc.encode(t.rows[f.row], f, 0, *peers));
    std::vector<float> feat(static_cast<size_t>(enc.columns()));
    enc.write_features(rows->back(), feat.data());
    mem.emplace_back(feat.begin() + mc, feat.begin() + mc + mw);
    std::vector<float> again(static_cast<size_t>(mw));
    enc.peer_memory(rows->back(), *peers, again.data());
    REQUIRE(again == mem.back());
    enc.update_peers(*peers, f.remote_ip, rows->back());
  }
  return mem;
}

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
      // A popular remote stays out of the cache with the popular lookups (in peers.popular with
      // popular-known and popular-own).
      const auto& popular = enc.popular_peers();
      const bool kept_out = o.popular_first() &&
                            std::find(popular.begin(), popular.end(), f.remote_ip) != popular.end();
      if (o.last_first() && !kept_out) REQUIRE(peers.ips[0] == f.remote_ip);
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
  const std::vector<std::vector<float>> mem = encode_memory(enc, t, s, &rows, &peers);
  REQUIRE(enc.memory_width() == kPeerMemory);
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

TEST_CASE("encoding: with peer_last the peer memory shows a return its remote's last flow too",
          "[realism][peers]") {
  // Host 1 to W: web flows A, B, C, then DNS D, then web E; every flow a second apart.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08080808;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto web = [&](int64_t pkt, int64_t byt, double td, uint8_t flg) {
    FlowRecord r = web_or_dns(++te, host, W, true);
    r.pkt = pkt;
    r.byt = byt;
    r.td = td;
    r.flg = flg;
    return r;
  };
  t.rows.push_back(web(3, 1500, 2, 0x1b));             // A: FIN SYN PSH ACK
  t.rows.push_back(web(1, 40, 0, 0x04));               // B: RST
  t.rows.push_back(web(7, 3500, 5, 0x18));             // C: PSH ACK
  t.rows.push_back(web_or_dns(++te, host, W, false));  // D
  t.rows.push_back(web(2, 100, 1, 0x10));              // E
  auto streams = build_host_streams(t, OwnerSelector{});
  EncodingOptions o;
  o.peer_cache = 4;
  o.popular_peers = 0;
  o.peer_match = PeerMatch::two_services;  // E finds the web service's flows again
  o.peer_memory = true;
  o.peer_last = true;
  Encoder enc(o);
  enc.fit(t, streams);
  const int mc = enc.memory_col();
  REQUIRE(enc.memory_width() == kPeerMemory + kPeerLastMemory);
  REQUIRE(enc.find(AttrId::oct1)->col == mc + kPeerMemory + kPeerLastMemory);
  const HostStream& s = streams.front();
  REQUIRE(s.flows.size() == 5);
  PeerCache peers;
  std::vector<RowValues> rows;
  const std::vector<std::vector<float>> mem = encode_memory(enc, t, s, &rows, &peers);
  auto at = [&](size_t i, AttrId a) { return static_cast<float>(rows[i].v[static_cast<int>(a)]); };
  // The memory's last-flow columns for flow i: packets, bytes, duration kind, duration, then
  // the flag bits FIN, SYN, RST, PSH, ACK, URG.
  auto last = [&](size_t i, std::vector<float> bits) {
    std::vector<float> v{at(i, AttrId::pkt), at(i, AttrId::bytes), at(i, AttrId::td_kind),
                         at(i, AttrId::td)};
    v.insert(v.end(), bits.begin(), bits.end());
    return v;
  };
  auto tail = [&](size_t i) {
    return std::vector<float>(mem[i].begin() + kPeerMemory, mem[i].end());
  };
  REQUIRE(mem[0] == std::vector<float>(static_cast<size_t>(enc.memory_width()), 0.0f));  // new
  // B and C: the first flow stays A, the last one moves on.
  REQUIRE(mem[1][2] == at(0, AttrId::pkt));
  REQUIRE(tail(1) == last(0, {1, 1, 0, 1, 1, 0}));
  REQUIRE(mem[2][2] == at(0, AttrId::pkt));
  REQUIRE(tail(2) == last(1, {0, 0, 1, 0, 0, 0}));
  REQUIRE(at(1, AttrId::pkt) != at(0, AttrId::pkt));
  // D, another service: the web service's flows. E, back to web: its first A and last C again.
  REQUIRE(tail(3) == last(2, {0, 0, 0, 1, 1, 0}));
  REQUIRE(mem[4][2] == at(0, AttrId::pkt));
  REQUIRE(tail(4) == last(2, {0, 0, 0, 1, 1, 0}));
  // As the window of later rows shows D's row: the last-flow columns zero, the rest as it is.
  std::vector<float> feat(static_cast<size_t>(enc.columns()));
  enc.write_features(rows[3], feat.data());
  std::vector<float> shown = feat;
  enc.window_row(shown.data());
  for (int c = 0; c < enc.columns(); ++c) {
    const bool last_col = c >= mc + kPeerMemory && c < mc + enc.memory_width();
    CHECK(shown[static_cast<size_t>(c)] == (last_col ? 0.0f : feat[static_cast<size_t>(c)]));
  }
  REQUIRE(feat[static_cast<size_t>(mc + kPeerMemory)] != 0.0f);
  // Stored with the model; absent in older files (off); refused without the memory.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("peer_last") == true);
  REQUIRE(Encoder::from_json(j).memory_width() == enc.memory_width());
  j["options"].erase("peer_last");
  REQUIRE(Encoder::from_json(j).columns() == enc.columns() - kPeerLastMemory);
  j["options"]["peer_last"] = true;
  j["options"]["peer_memory"] = false;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_last' needs the peer memory"));
}
