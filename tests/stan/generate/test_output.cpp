// Ordered output: flows leave in (time, host, sequence) order, only below the watermark.
#include <catch2/catch.hpp>

#include <vector>

#include "stan/generate/output.h"

using namespace stan;

TEST_CASE("output: flows leave in time, host, sequence order below the watermark", "[output]") {
  std::vector<FlowRecord> out;
  OrderedOutput o([&](const FlowRecord& r) { out.push_back(r); });
  auto flow = [](int64_t te, uint32_t sa) {
    FlowRecord r;
    r.te = te;
    r.sa = sa;
    return r;
  };
  o.add(2, 0, flow(100, 2));
  o.add(1, 0, flow(100, 1));
  o.add(1, 1, flow(100, 11));
  o.add(0, 0, flow(105, 0));
  o.add(3, 0, flow(90, 3));
  REQUIRE(o.pending() == 5);
  o.release(100);  // only te < 100 may leave
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].sa == 3);
  o.release(101);
  REQUIRE(out.size() == 4);
  REQUIRE(out[1].sa == 1);   // host 1 before host 2 at the same time
  REQUIRE(out[2].sa == 11);  // then host 1's next flow
  REQUIRE(out[3].sa == 2);
  o.flush();
  REQUIRE(out.size() == 5);
  REQUIRE(out[4].te == 105);
  REQUIRE(o.emitted() == 5);
  REQUIRE(o.pending() == 0);
}
