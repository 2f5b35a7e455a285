// The generated hosts: distinct addresses inside the owner prefixes, given addresses kept,
// profiles drawn (or steered), and the same hosts for the same seed.
#include <catch2/catch.hpp>

#include <set>

#include "stan/generate/generate.h"
#include "stan/generate/host_state.h"
#include "stan/stan_test_util.h"

using namespace stan;

TEST_CASE("host_state: addresses, streams and profiles come from the seed", "[hosts]") {
  StanModel m = StanModel::load(bundled_model_path());
  GenerateOptions g;
  g.hosts = 300;
  g.seed = 4;
  g.prefixes = {parse_prefix("10.1.0.0/22")};
  const auto a = make_hosts(m, g), b = make_hosts(m, g);
  REQUIRE(a.size() == 300);
  std::set<uint32_t> ips;
  const int64_t window = m.config().window * m.encoder().columns();
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(g.prefixes[0].contains(a[i].ip));
    REQUIRE((a[i].ip & 255) != 0);
    REQUIRE((a[i].ip & 255) != 255);
    ips.insert(a[i].ip);
    REQUIRE(a[i].ip == b[i].ip);
    REQUIRE(a[i].stream == b[i].stream);
    REQUIRE(a[i].input == b[i].input);
    REQUIRE(static_cast<int64_t>(a[i].input.size()) == window + m.profiles().dim());
    for (int64_t c = 0; c < window; ++c) REQUIRE(a[i].input[c] == 0.0f);  // empty window
  }
  REQUIRE(ips.size() == 300);  // distinct
  REQUIRE(a[0].stream != a[1].stream);
  // More hosts than the prefix holds is an error, not a hang.
  g.hosts = 300;
  g.prefixes = {parse_prefix("10.1.2.0/30")};
  REQUIRE_THROWS_WITH(make_hosts(m, g), Catch::Contains("distinct host addresses"));
  // Given addresses are used as they are.
  g.host_ips = {parse_prefix("42.219.1.1/32").addr, parse_prefix("42.219.1.2/32").addr};
  const auto c = make_hosts(m, g);
  REQUIRE(c.size() == 2);
  REQUIRE(c[1].ip == g.host_ips[1]);
}
