// The encoding: record -> attributes -> record round trips (the peers: test_peers.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "stan/model/encoding.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("encoding: encode then decode gives the record back", "[stan][encoding]") {
  FlowTable table = read_flows(sample_path(), ReadOptions{false, 20000});
  OwnerSelector owners;
  auto streams = build_host_streams(table, owners);
  Encoder enc;
  enc.fit(table, streams);
  int64_t checked = 0;
  for (const HostStream& s : streams) {
    PeerCache peers;
    double clock = 0;
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = table.rows[f.row];
      RowValues row = enc.encode(r, f, clock, peers);
      Generator g(1);
      FlowRecord back = enc.decode(row, s.host, peers, g);
      back.te = r.te;  // the sampler sets the time from its clock
      INFO(format_ipv4(r.sa) << " -> " << format_ipv4(r.da) << " " << r.sp << " " << r.dp);
      REQUIRE(back.sa == r.sa);
      REQUIRE(back.da == r.da);  // octet order kept, peers restored from the cache
      REQUIRE(back.pr == r.pr);
      REQUIRE(back.flg == (r.flg & 63));
      REQUIRE(back.stos == r.stos);
      REQUIRE(back.pkt == r.pkt);
      if (r.byt >= min_bytes_per_packet(r.pr) * r.pkt) REQUIRE(back.byt == r.byt);
      if (!(enc.one_packet_zero_duration() && r.pkt == 1))
        REQUIRE(back.td == Approx(r.td).margin(1e-3));
      // Ports: exact below 1024, within the 100-port class above; ICMP source port 0.
      const uint16_t lp = f.outgoing ? back.sp : back.dp, rp = f.outgoing ? back.dp : back.sp;
      REQUIRE(port_class(lp) == port_class(f.local_port));
      REQUIRE(port_class(rp) == port_class(f.remote_port));
      if (f.remote_port < 1024) REQUIRE(rp == f.remote_port);
      // dt reconstructs the time.
      REQUIRE(row.time - clock == Approx(std::max(0.0, row.time - clock)));
      clock = row.time;
      enc.update_peers(peers, f.remote_ip, row);
      ++checked;
    }
  }
  REQUIRE(checked > 10000);
  // The fitted encoding survives a JSON round trip.
  Encoder again = Encoder::from_json(enc.to_json());
  REQUIRE(again.to_json() == enc.to_json());
  REQUIRE(again.columns() == enc.columns());
}

TEST_CASE("encoding: frequent service ports and first octets get a column of their own",
          "[stan][encoding]") {
  FlowTable table = read_flows(sample_path(), ReadOptions{false, 20000});
  OwnerSelector owners;
  auto streams = build_host_streams(table, owners);
  EncodingOptions o;
  o.port_features = 4;
  o.octet_features = 3;
  Encoder enc(o);
  enc.fit(table, streams);
  Encoder base(EncodingOptions{});
  base.fit(table, streams);
  // The classes: the most frequent service port classes (the lower of a flow's two) and first
  // remote octets over the training flows, most frequent first.
  std::map<int64_t, int64_t> ports, octets;
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) {
      ++ports[std::min(port_class(f.local_port), port_class(f.remote_port))];
      ++octets[f.remote_ip >> 24];
    }
  auto top = [](const std::map<int64_t, int64_t>& n, size_t k) {
    std::vector<std::pair<int64_t, int64_t>> v;
    for (auto [c, count] : n) v.emplace_back(-count, c);
    std::sort(v.begin(), v.end());
    std::vector<int64_t> out;
    for (size_t i = 0; i < k && i < v.size(); ++i) out.push_back(v[i].second);
    return out;
  };
  REQUIRE(enc.feature_ports() == top(ports, 4));
  REQUIRE(enc.feature_octets() == top(octets, 3));
  REQUIRE(base.feature_ports().empty());
  // 4 more columns for each port, 3 for the first octet.
  REQUIRE(enc.columns() == base.columns() + 2 * 4 + 3);
  const AttrSpec& lp = *enc.find(AttrId::lport);
  const AttrSpec& rp = *enc.find(AttrId::rport);
  const AttrSpec& o1 = *enc.find(AttrId::oct1);
  REQUIRE(lp.ncols == 6);
  REQUIRE(o1.ncols == 4);
  // Each row: the base columns as before, and a 1 in the column of each listed class.
  int64_t ones = 0, rows = 0;
  for (const HostStream& s : streams) {
    PeerCache peers;
    for (const HostFlow& f : s.flows) {
      const RowValues row = enc.encode(table.rows[f.row], f, 0, peers);
      std::vector<float> x(static_cast<size_t>(enc.columns()));
      enc.write_features(row, x.data());
      auto block = [&](const AttrSpec& a, int64_t cls, const std::vector<int64_t>& listed,
                       int first) {
        const auto at = std::find(listed.begin(), listed.end(), cls);
        for (int k = 0; k < static_cast<int>(listed.size()); ++k) {
          const float want = at - listed.begin() == k ? 1.0f : 0.0f;
          REQUIRE(x[static_cast<size_t>(a.col + first + k)] == want);
          ones += want == 1.0f;
        }
      };
      block(lp, port_class(f.local_port), enc.feature_ports(), 2);
      block(rp, port_class(f.remote_port), enc.feature_ports(), 2);
      if (row.valid[static_cast<int>(AttrId::oct1)])
        block(o1, f.remote_ip >> 24, enc.feature_octets(), 1);
      REQUIRE(x[static_cast<size_t>(lp.col)] ==
              static_cast<float>(port_class(f.local_port)) / static_cast<float>(kPortClasses));
      enc.update_peers(peers, f.remote_ip, row);
      ++rows;
    }
  }
  REQUIRE(ones > rows / 2);
  // Generation writes a class's columns from a table: the same columns.
  const Tensor t = enc.feature_table(rp, Device::cpu());
  REQUIRE(t.shape() == std::vector<int64_t>{kPortClasses, 6});
  const std::vector<float> tv = t.to_vector<float>();
  const int64_t c0 = enc.feature_ports()[0];
  REQUIRE(tv[static_cast<size_t>(c0 * 6 + 2)] == 1.0f);
  // The low-port flag of classes below 1024, and each listed class's column.
  REQUIRE(std::count(tv.begin(), tv.end(), 1.0f) == 1024 + 4);

  // Stored with the model; older files have none; a list without its option, or a class twice,
  // is refused.
  nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("port_features") == 4);
  const Encoder back = Encoder::from_json(j);
  REQUIRE(back.feature_ports() == enc.feature_ports());
  REQUIRE(back.feature_octets() == enc.feature_octets());
  REQUIRE(back.columns() == enc.columns());
  nlohmann::json old = base.to_json();
  old["options"].erase("port_features");
  old["options"].erase("octet_features");
  REQUIRE(Encoder::from_json(old).columns() == base.columns());
  old["feature_ports"] = {80};
  REQUIRE_THROWS_WITH(Encoder::from_json(old), Catch::Contains("'feature_ports' without"));
  j["feature_octets"] = {36, 36};
  REQUIRE_THROWS_WITH(Encoder::from_json(j),
                      Catch::Contains("'feature_octets' lists a value twice"));
}
