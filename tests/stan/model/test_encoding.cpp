// The encoding: record -> attributes -> record round trips (the peers: test_peers.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>

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
