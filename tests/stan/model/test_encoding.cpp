// The encoding: record -> attributes -> record round trips, peer-cache targets.
#include <catch2/catch.hpp>

#include <filesystem>

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
    std::vector<uint32_t> peers;
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
      enc.update_peers(peers, f.remote_ip);
      ++checked;
    }
  }
  REQUIRE(checked > 10000);
  // The fitted encoding survives a JSON round trip.
  Encoder again = Encoder::from_json(enc.to_json());
  REQUIRE(again.to_json() == enc.to_json());
  REQUIRE(again.columns() == enc.columns());
}

TEST_CASE("encoding: peer-cache targets on a hand-made stream", "[realism][peers]") {
  // One host talks to A, B, A, C, B, B (remote addresses), one flow a second.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304, B = 0x05060708,
                 C = 0x090a0b0c;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint32_t remote : {A, B, A, C, B, B}) {
    FlowRecord r;
    r.te = ++te;
    r.sa = host;
    r.da = remote;
    r.sp = 40000;
    r.dp = 443;
    r.pr = proto::tcp;
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
  std::vector<uint32_t> peers;
  std::vector<int> targets;
  std::vector<bool> octets_valid;
  for (const HostFlow& f : streams[0].flows) {
    RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    targets.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
    octets_valid.push_back(row.valid[static_cast<int>(AttrId::oct1)]);
    // The remote address comes back from the cache or the octets alike.
    REQUIRE(enc.remote_ip(row, peers) == f.remote_ip);
    enc.update_peers(peers, f.remote_ip);
  }
  // new, new, A is 2nd most recent, new, B is 3rd ([C, A, B]), B is the most recent.
  REQUIRE(targets == std::vector<int>{0, 0, 2, 0, 3, 1});
  REQUIRE(octets_valid == std::vector<bool>{true, true, false, true, false, false});
  REQUIRE(peers == std::vector<uint32_t>{B, C, A});
}
