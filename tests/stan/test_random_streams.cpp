// The random streams' tags: each names one use, so no two may share a value (a shared tag would
// draw the same numbers for two purposes).
#include <catch2/catch.hpp>

#include <set>

#include "stan/random_streams.h"

TEST_CASE("random streams: every tag is distinct", "[streams]") {
  using namespace stan::streams;
  const uint64_t tags[] = {kInit,        kShuffle,     kColdStarts,    kProfileFit, kProfileNoise,
                           kMemoryNoise, kDropout,     kHostAddresses, kHosts,      kHostProfile,
                           kTstrInit,    kTstrShuffle, kTstrSubset};
  const std::set<uint64_t> distinct(std::begin(tags), std::end(tags));
  REQUIRE(distinct.size() == std::size(tags));
}
