// The peer options that feed the networks more of the host's cache (stan/model/encoding.h):
// the counts of the peers of a row's service, their shares and uses, a return's repeat of its
// peer's last flow, its last ToS, and the known remote's octets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "stan/model/encoding.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

// A 4-peer cache by uses, its peers matched by their last two services.
EncodingOptions two_services() {
  EncodingOptions o;
  o.peer_cache = 4;
  o.peer_order = PeerOrder::uses;
  o.peer_match = PeerMatch::two_services;
  return o;
}

// Encodes the flows of `s` in order from an empty cache and returns each row's counts columns as
// write_features writes them, checking that Encoder::peer_counts gives the same from the cache
// before the row's flow, as generation computes them once the ports are drawn.
std::vector<std::vector<float>> counts_columns(const Encoder& enc, const FlowTable& t,
                                               const HostStream& s) {
  std::vector<std::vector<float>> out;
  const int cc = enc.counts_col(), w = enc.counts_width();
  PeerCache peers;
  for (const HostFlow& f : s.flows) {
    const RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    std::vector<float> feat(static_cast<size_t>(enc.columns()));
    enc.write_features(row, feat.data());
    out.emplace_back(feat.begin() + cc, feat.begin() + cc + w);
    std::vector<float> again(static_cast<size_t>(w));
    enc.peer_counts(row, peers, again.data());
    REQUIRE(again == out.back());
    enc.update_peers(peers, f.remote_ip, row);
  }
  return out;
}

// Host 1: W (TCP 443) three times, X (TCP 443), Y (UDP 53), X (TCP 443).
FlowTable favourite_stream() {
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08080808, X = 0x05060708,
                 Y = 0x01010101;
  add_web_or_dns(t, host, {{W, true}, {W, true}, {W, true}, {X, true}, {Y, false}, {X, true}});
  return t;
}

}  // namespace

TEST_CASE("encoding: the peer counts tell the peer network how many peers match the service",
          "[realism][peers]") {
  // Host 1: W (TCP 443) twice, a new remote N (UDP 53), W on UDP 53, then the popular remote P
  // (UDP 53), which hosts 2-4 also talk to.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08080808, N = 0x05060708,
                 P = 0x01010101;
  int64_t te = add_web_or_dns(t, host, {{W, true}, {W, true}, {N, false}, {W, false}, {P, false}});
  for (uint32_t h = 2; h <= 4; ++h)
    t.rows.push_back(web_or_dns(++te, (42u << 24) | (219u << 16) | h, P, false));
  auto streams = build_host_streams(t, OwnerSelector{});
  EncodingOptions o = two_services();
  o.popular_peers = 4;
  o.popular_min_hosts = 3;
  o.peer_counts = true;
  Encoder enc(o);
  enc.fit(t, streams);
  REQUIRE(enc.popular_peers() == std::vector<uint32_t>{P});
  // Between the remote port's columns and the peer's: read by the peer network, not the ports'.
  const AttrSpec& rport = *enc.find(AttrId::rport);
  const int cc = enc.counts_col();
  REQUIRE(cc == rport.col + rport.ncols);
  REQUIRE(enc.find(AttrId::peer)->col == cc + kPeerCounts);
  const HostStream& s = *std::find_if(streams.begin(), streams.end(),
                                      [&](const HostStream& st) { return st.host == host; });
  REQUIRE(s.flows.size() == 5);
  // One-hot buckets 0, 1, 2, 3, 4-7, 8+: the cached peers of the row's service, then the popular.
  auto counts = [](int cached, int popular) {
    std::vector<float> v(kPeerCounts, 0.0f);
    v[cached] = v[kCountBuckets + popular] = 1;
    return v;
  };
  const std::vector<std::vector<float>> want{
      counts(0, 0),  // W: an empty cache, no popular remote of TCP 443
      counts(1, 0),  // W again: W
      counts(0, 1),  // N: none of UDP 53 cached; P is UDP 53's popular remote
      counts(1, 1),  // W on UDP 53: N
      counts(2, 1),  // P: N and W (now UDP 53)
  };
  REQUIRE(counts_columns(enc, t, s) == want);
  REQUIRE(enc.popular_of_service(Encoder::service(enc.encode(t.rows[4], s.flows[4], 0, {}))) == 1);
  // Buckets beyond 3.
  PeerCache many;
  RowValues web = enc.encode(t.rows[0], s.flows[0], 0, {});
  for (uint32_t k = 0; k < 9; ++k) enc.update_peers(many, 100 + k, web);
  std::vector<float> big(kPeerCounts);
  enc.peer_counts(web, many, big.data());
  REQUIRE(big == counts(4, 0));  // the cache holds 4: bucket 4-7
  // Stored with the model; absent in older files (off); peers matched by any service refuse it.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("peer_counts") == true);
  REQUIRE(Encoder::from_json(j).counts_col() == cc);
  REQUIRE(Encoder::from_json(j).popular_of_service(Encoder::service(web)) == 0);
  j["options"].erase("peer_counts");
  const Encoder old = Encoder::from_json(j);
  REQUIRE(old.counts_col() == -1);
  REQUIRE(old.columns() == enc.columns() - kPeerCounts);
  j["options"]["peer_counts"] = true;
  j["options"]["peer_match"] = "any";
  j.erase("popular_services");
  j.erase("keep_ports");
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_counts' needs the peer match"));
}

TEST_CASE("encoding: the peer shares give the first cached classes' shares of the host's uses",
          "[realism][peers]") {
  const FlowTable t = favourite_stream();
  const auto streams = build_host_streams(t, OwnerSelector{});
  // Matched by service (the cache by uses, ties most recent first): the row's service's peers.
  // Any service: the whole cache.
  for (const bool by_service : {true, false}) {
    INFO("by service " << by_service);
    EncodingOptions o = two_services();
    if (!by_service) o.peer_match = PeerMatch::any;
    o.peer_shares = true;
    Encoder enc(o);
    enc.fit(t, streams);
    const AttrSpec& rport = *enc.find(AttrId::rport);
    const int cc = enc.counts_col();
    REQUIRE(enc.counts_width() == kPeerShares);
    REQUIRE(cc == rport.col + rport.ncols);
    REQUIRE(enc.find(AttrId::peer)->col == cc + kPeerShares);
    auto shares = [](std::vector<float> first) {
      first.resize(kPeerShares, 0.0f);
      return first;
    };
    const std::vector<std::vector<float>> want{
        shares({}),              // an empty cache
        shares({1}),             // W(1)
        shares({1}),             // W(2)
        shares({1}),             // W(3)
        by_service ? shares({})  // no UDP 53 peer in W(3), X(1)
                   : shares({0.75f, 0.25f}),
        by_service ? shares({0.75f, 0.25f})  // W(3), X(1) of W, Y(1), X(1)
                   : shares({0.6f, 0.2f, 0.2f})};
    const std::vector<std::vector<float>> got = counts_columns(enc, t, streams.front());
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("flow " << i);
      REQUIRE(got[i].size() == want[i].size());
      for (size_t k = 0; k < got[i].size(); ++k) CHECK(got[i][k] == Approx(want[i][k]));
    }
    // With the counts as well: the counts, then the shares.
    EncodingOptions both = o;
    both.peer_counts = by_service;
    if (by_service) {
      Encoder e2(both);
      e2.fit(t, streams);
      REQUIRE(e2.counts_width() == kPeerCounts + kPeerShares);
      REQUIRE(e2.find(AttrId::peer)->col == e2.counts_col() + kPeerCounts + kPeerShares);
    }
    // Stored with the model; absent in older files (off); refused without a peer cache.
    nlohmann::json j = enc.to_json();
    REQUIRE(j.at("options").at("peer_shares") == true);
    REQUIRE(Encoder::from_json(j).counts_col() == cc);
    j["options"].erase("peer_shares");
    const Encoder old = Encoder::from_json(j);
    REQUIRE(old.counts_col() == -1);
    REQUIRE(old.columns() == enc.columns() - kPeerShares);
  }
  EncodingOptions none;
  none.peer_cache = 0;
  none.peer_shares = true;
  REQUIRE(none.broken_rule() != nullptr);
  REQUIRE(std::string(none.broken_rule()->flag) == "--peer-shares");
}

TEST_CASE("encoding: the peer uses give the host's flows with the listed peers on a log scale",
          "[realism][peers][peer_uses]") {
  const FlowTable t = favourite_stream();
  const auto streams = build_host_streams(t, OwnerSelector{});
  auto uses = [](double n) { return static_cast<float>(std::log1p(n) / kPeerUsesScale); };
  for (const bool by_service : {true, false}) {
    INFO("by service " << by_service);
    EncodingOptions o = two_services();
    if (!by_service) o.peer_match = PeerMatch::any;
    o.peer_uses = true;
    Encoder enc(o);
    enc.fit(t, streams);
    REQUIRE(enc.counts_width() == 1);
    REQUIRE(enc.uses_col() == enc.counts_col());
    REQUIRE(enc.find(AttrId::peer)->col == enc.counts_col() + 1);
    // The uses of the peers the row's classes list first, before the row's flow: W 1, 2, 3;
    // then X's row lists W (3); Y's lists none of UDP 53 (by service) or W and X (4); X's last
    // row W and X (4) or all three (5).
    const std::vector<float> want{
        0, uses(1), uses(2), uses(3), by_service ? 0 : uses(4), by_service ? uses(4) : uses(5)};
    const std::vector<std::vector<float>> got = counts_columns(enc, t, streams.front());
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("flow " << i);
      REQUIRE(got[i].size() == 1);
      CHECK(got[i][0] == Approx(want[i]).margin(1e-7));
    }
    // With the shares: the shares, then the uses, the shares as without it.
    EncodingOptions both = o;
    both.peer_shares = true;
    Encoder e2(both);
    e2.fit(t, streams);
    REQUIRE(e2.counts_width() == kPeerShares + 1);
    REQUIRE(e2.uses_col() == e2.counts_col() + kPeerShares);
    const std::vector<std::vector<float>> with = counts_columns(e2, t, streams.front());
    REQUIRE(with.back()[kPeerShares] == Approx(want.back()));
    REQUIRE(with.back()[0] == Approx(by_service ? 0.75f : 0.6f));
    // Stored with the model; absent in older files (off); refused without a peer cache.
    nlohmann::json j = enc.to_json();
    REQUIRE(j.at("options").at("peer_uses") == true);
    REQUIRE(Encoder::from_json(j).uses_col() == enc.uses_col());
    j["options"].erase("peer_uses");
    const Encoder old = Encoder::from_json(j);
    REQUIRE(old.uses_col() == -1);
    REQUIRE(old.columns() == enc.columns() - 1);
  }
  EncodingOptions none;
  none.peer_cache = 0;
  none.peer_uses = true;
  REQUIRE(none.broken_rule() != nullptr);
  REQUIRE(std::string(none.broken_rule()->flag) == "--peer-uses");
}

TEST_CASE("encoding: a return that repeats its peer's last flow with the service is a repeat",
          "[realism][peers]") {
  // Host 1's flows to W: web (1 packet, 80 bytes), the same again, web (3 packets, 1500
  // bytes), the same with a 2 s duration, UDP 53, web as the fourth again; then a new remote.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08080808, N = 0x05060708;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto flow = [&](uint32_t remote, bool web, int64_t pkt, int64_t byt, double td) {
    FlowRecord r = web_or_dns(++te, host, remote, web);
    r.pkt = pkt;
    r.byt = byt;
    r.td = td;
    r.flg = web ? 0x1b : 0;
    t.rows.push_back(r);
  };
  flow(W, true, 1, 80, 0);
  flow(W, true, 1, 80, 0);
  flow(W, true, 3, 1500, 0);
  flow(W, true, 3, 1500, 2);
  flow(W, false, 3, 1500, 2);
  flow(W, true, 3, 1500, 2);
  flow(N, true, 3, 1500, 2);
  auto streams = build_host_streams(t, OwnerSelector{});
  EncodingOptions o = two_services();
  o.peer_repeats = true;
  Encoder enc(o);
  enc.fit(t, streams);
  const AttrSpec& repeat = *enc.find(AttrId::repeat);
  REQUIRE(repeat.classes == 3);
  REQUIRE(repeat.col == enc.find(AttrId::peer)->col + enc.find(AttrId::peer)->ncols);
  REQUIRE(enc.find(AttrId::oct1)->col == repeat.col + repeat.ncols);
  // New: 0. The same again: 2. Other packets: 0. Only the duration differs: 1. Another service
  // (UDP 53): 0. Back to web, W's previous service, as its last web flow: 2. A new remote: 0.
  const std::vector<int64_t> want{0, 2, 0, 1, 0, 2, 0};
  const std::vector<std::vector<float>> columns{{0, 0}, {1, 0}, {0, 1}};
  REQUIRE(streams.size() == 1);
  PeerCache peers;
  for (size_t i = 0; i < streams[0].flows.size(); ++i) {
    const HostFlow& f = streams[0].flows[i];
    const RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    INFO("flow " << i);
    REQUIRE(row.valid[static_cast<int>(AttrId::repeat)]);
    REQUIRE(row.v[static_cast<int>(AttrId::repeat)] == static_cast<double>(want[i]));
    std::vector<float> feat(static_cast<size_t>(enc.columns()));
    enc.write_features(row, feat.data());
    REQUIRE(std::vector<float>(feat.begin() + repeat.col, feat.begin() + repeat.col + 2) ==
            columns[static_cast<size_t>(want[i])]);
    // What a repeat would copy: the last flow of the row's service, as row values.
    if (want[i] > 0) {
      const PeerLast* last = enc.repeat_source(row, peers);
      REQUIRE(last);
      for (size_t k = 0; k < 3; ++k)
        REQUIRE((*last)[k] == row.v[static_cast<int>(kRepeatAttrs[k])]);
    }
    if (i == 4) REQUIRE_FALSE(enc.repeat_source(row, peers));  // W has not had UDP 53 yet
    enc.update_peers(peers, f.remote_ip, row);
  }
  // W keeps the last flow of each of its two services: web (its last) and UDP 53.
  const size_t w =
      static_cast<size_t>(std::find(peers.ips.begin(), peers.ips.end(), W) - peers.ips.begin());
  REQUIRE(w < peers.size());
  REQUIRE(peers.last[w][0] != 0);
  REQUIRE(peers.prev_last[w][2] == 0);  // the UDP flow: no TCP flags
  REQUIRE(peers.last[w][2] == 0x1b);
  // Stored with the model; absent in older files (off); needs the service match and a cache.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("peer_repeats") == true);
  REQUIRE(Encoder::from_json(j).find(AttrId::repeat)->col == repeat.col);
  j["options"].erase("peer_repeats");
  const Encoder old = Encoder::from_json(j);
  REQUIRE_FALSE(old.find(AttrId::repeat));
  REQUIRE(old.columns() == enc.columns() - 2);
  j["options"]["peer_repeats"] = true;
  j["options"]["peer_cache"] = 0;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_repeats' needs a peer cache"));
}

TEST_CASE("encoding: a row shows its cached peer's last ToS and its known remote's octets",
          "[realism][peers]") {
  // Host 1's flows to W: web with ToS 40, web with ToS 72, UDP 53 with ToS 0, web with ToS 0;
  // then a new remote N (web, ToS 40).
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, W = 0x08090a0b, N = 0x05060708;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (auto [remote, web, tos] : std::vector<std::tuple<uint32_t, bool, uint8_t>>{
           {W, true, 40}, {W, true, 72}, {W, false, 0}, {W, true, 0}, {N, true, 40}}) {
    FlowRecord r = web_or_dns(++te, host, remote, web);
    r.stos = tos;
    t.rows.push_back(r);
  }
  auto streams = build_host_streams(t, OwnerSelector{});
  EncodingOptions o = two_services();
  o.peer_memory = o.peer_tos = o.peer_octets = true;
  Encoder enc(o);
  enc.fit(t, streams);
  // One column per ToS class, after the memory's: read by the attributes after the peer.
  REQUIRE(enc.tos_classes() == 3);
  const int tc = enc.tos_col();
  REQUIRE(tc == enc.memory_col() + kPeerMemory);
  REQUIRE(enc.find(AttrId::oct1)->col == tc + 3);
  auto tos_class = [&](uint8_t v) {
    RowValues r = enc.encode(
        [&] {
          FlowRecord f = t.rows[0];
          f.stos = v;
          return f;
        }(),
        streams[0].flows[0], 0, {});
    return static_cast<int64_t>(r.v[static_cast<int>(AttrId::tos)]);
  };
  // New W: none. Web again: its last web flow's (40). UDP 53, a service W has not had: its last
  // flow's (72). Web, now W's previous service: its last web flow's (72). New N: none.
  const std::vector<int64_t> want{-1, tos_class(40), tos_class(72), tos_class(72), -1};
  REQUIRE(streams.size() == 1);
  PeerCache peers;
  const AttrSpec& o1 = *enc.find(AttrId::oct1);
  const AttrSpec& o4 = *enc.find(AttrId::oct4);
  for (size_t i = 0; i < streams[0].flows.size(); ++i) {
    const HostFlow& f = streams[0].flows[i];
    const RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    INFO("flow " << i);
    REQUIRE(row.peer_tos == want[i]);
    REQUIRE(enc.peer_tos(row, peers) == want[i]);
    std::vector<float> feat(static_cast<size_t>(enc.columns()));
    enc.write_features(row, feat.data());
    std::vector<float> onehot(3, 0.0f);
    if (want[i] >= 0) onehot[static_cast<size_t>(want[i])] = 1;
    REQUIRE(std::vector<float>(feat.begin() + tc, feat.begin() + tc + 3) == onehot);
    // The octets' columns name the remote, new or known; they are targets for a new one only.
    const bool known = i != 0 && i != 4;
    REQUIRE(row.valid[static_cast<int>(AttrId::oct1)] == !known);
    REQUIRE(row.remote == (known ? static_cast<int64_t>(W) : -1));
    REQUIRE(enc.known_remote(row, peers) == row.remote);
    const uint32_t ip = f.remote_ip;
    REQUIRE(feat[static_cast<size_t>(o1.col)] == static_cast<float>(ip >> 24) / 255.0f);
    REQUIRE(feat[static_cast<size_t>(o4.col)] == static_cast<float>(ip & 255) / 255.0f);
    enc.update_peers(peers, f.remote_ip, row);
  }
  // Without the option a known remote's octet columns stay zero.
  EncodingOptions plain = o;
  plain.peer_octets = false;
  Encoder without(plain);
  without.fit(t, streams);
  PeerCache p2;
  const RowValues r0 = without.encode(t.rows[0], streams[0].flows[0], 0, p2);
  without.update_peers(p2, W, r0);
  const RowValues r1 = without.encode(t.rows[1], streams[0].flows[1], 0, p2);
  REQUIRE(r1.remote == -1);
  std::vector<float> feat(static_cast<size_t>(without.columns()));
  without.write_features(r1, feat.data());
  REQUIRE(feat[static_cast<size_t>(without.find(AttrId::oct1)->col)] == 0);
  // Stored with the model; absent in older files (off); the ToS needs a cache and the ToS.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("peer_tos") == true);
  REQUIRE(j.at("options").at("peer_octets") == true);
  REQUIRE(Encoder::from_json(j).tos_col() == tc);
  REQUIRE(Encoder::from_json(j).options().peer_octets);
  j["options"].erase("peer_tos");
  j["options"].erase("peer_octets");
  const Encoder old = Encoder::from_json(j);
  REQUIRE(old.tos_col() == -1);
  REQUIRE_FALSE(old.options().peer_octets);
  REQUIRE(old.columns() == enc.columns() - 3);
  j["options"]["peer_tos"] = true;
  j["options"]["flags_tos"] = false;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_tos' needs a peer cache"));
  j["options"]["flags_tos"] = true;
  j["options"]["peer_tos"] = false;
  j["options"]["peer_octets"] = true;
  j["options"]["peer_cache"] = 0;
  j["options"]["peer_memory"] = false;
  j["options"]["peer_match"] = "any";
  j.erase("keep_ports");
  j.erase("popular_services");
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("'peer_octets' needs a peer cache"));
}
