// The encoder's popular remotes (stan/model/peers.cpp): shared across hosts after the host's own
// cache, looked up first (and known, and own), ranked by flows, matched by service, and model files
// without them.
#include <catch2/catch.hpp>

#include <algorithm>

#include "stan/model/encoding.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

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
    o.peer_lookup = PeerLookup::popular_first;
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
    REQUIRE(EncodingOptions::from_json(j).peer_lookup == PeerLookup::popular_first);
    REQUIRE(Encoder::from_json(pf.to_json()).to_json() == pf.to_json());
    j.erase("peer_lookup");
    REQUIRE(EncodingOptions::from_json(j).peer_lookup == PeerLookup::cache_first);
    j["peer_lookup"] = "popular";
    REQUIRE_THROWS_WITH(EncodingOptions::from_json(j),
                        Catch::Contains("'peer_lookup' is 'popular' (expected 'cache_first', "
                                        "'popular_first', 'popular_known' or 'popular_own')"));
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
  o.peer_lookup = PeerLookup::popular_first;
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
  o.peer_lookup = PeerLookup::popular_known;
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
  REQUIRE(keep.options().peer_lookup == PeerLookup::popular_known);
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

TEST_CASE(
    "encoding: looked up popular and own, the host's popular remotes of a service lead its "
    "popular classes",
    "[realism][peers]") {
  // Two resolvers A and B (UDP 53) and a web server W (TCP 443), all popular: A asked by hosts
  // 1-5, W by hosts 1-4, B by hosts 1-3. Host 1 asks B, B, A, B, then W.
  FlowTable t;
  const uint32_t A = 0x01010101, B = 0x02020202, W = 0x08080808;
  const uint32_t host = (42u << 24) | (219u << 16) | 1;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint32_t h = 2; h <= 5; ++h) {
    const uint32_t other = (42u << 24) | (219u << 16) | h;
    t.rows.push_back(web_or_dns(++te, other, A, false));
    if (h <= 4) t.rows.push_back(web_or_dns(++te, other, W, true));
    if (h <= 3) t.rows.push_back(web_or_dns(++te, other, B, false));
  }
  for (uint32_t r : {B, B, A, B}) t.rows.push_back(web_or_dns(++te, host, r, false));
  t.rows.push_back(web_or_dns(++te, host, W, true));
  auto streams = build_host_streams(t, OwnerSelector{});
  const HostStream& s = *std::find_if(streams.begin(), streams.end(),
                                      [&](const HostStream& st) { return st.host == host; });
  EncodingOptions o;
  o.peer_cache = 4;
  o.peer_order = PeerOrder::uses;
  o.peer_match = PeerMatch::service;
  o.popular_peers = 4;
  o.popular_min_hosts = 3;
  // Host 1's peer targets, each row checked to decode to its remote from the same cache.
  auto targets = [&](PeerLookup lookup) {
    o.peer_lookup = lookup;
    Encoder e(o);
    e.fit(t, streams);
    REQUIRE(e.popular_peers() == std::vector<uint32_t>{A, W, B});
    PeerCache peers;
    std::vector<int> out;
    for (const HostFlow& f : s.flows) {
      const RowValues row = e.encode(t.rows[f.row], f, 0, peers);
      out.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
      REQUIRE(e.remote_ip(row, peers) == f.remote_ip);
      Generator g(1);
      REQUIRE(e.decode(row, host, peers, g).da == f.remote_ip);
      e.update_peers(peers, f.remote_ip, row);
    }
    REQUIRE(peers.ips.empty());  // popular remotes never enter the host's cache
    return out;
  };
  // Known only: the DNS view is A, B (by rank), then W, whatever the host asked before; W is
  // the first of its own service.
  REQUIRE(targets(PeerLookup::popular_known) == std::vector<int>{2, 2, 1, 2, 1});
  // Own: B leads the DNS view once the host knows it, then A too, by uses (B twice, A once);
  // W's view is untouched by the host's resolvers.
  REQUIRE(targets(PeerLookup::popular_own) == std::vector<int>{2, 1, 2, 1, 1});
  // Stored with the model.
  Encoder e(o);
  e.fit(t, streams);
  REQUIRE(e.to_json().at("options").at("peer_lookup") == "popular_own");
  REQUIRE(Encoder::from_json(e.to_json()).options().peer_lookup == PeerLookup::popular_own);
  REQUIRE_THAT(e.describe(), Catch::Contains("popular_peers=3 peer_lookup=popular_own"));
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
