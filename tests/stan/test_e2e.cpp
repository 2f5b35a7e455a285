// End to end: train a small model on the bundled sample, generate, read the output back.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("stan e2e: train on the sample, generate, read back", "[stan][e2e]") {
  const std::string dir = temp_dir("e2e");
  Prepared p = prepare_training(small_options());
  REQUIRE(p.train_hosts + p.val_hosts == 6);
  REQUIRE(p.train_hosts >= 1);
  REQUIRE(p.val_hosts >= 1);
  auto reports = train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 2));
  REQUIRE(reports.size() == 2);
  for (double l : reports.back().train_loss) REQUIRE(std::isfinite(l));
  // Training lowered the loss of the discrete heads (they start near log(classes)).
  const auto first = reports.front().train_loss, last = reports.back().train_loss;
  double f = 0, l = 0;
  for (size_t i = 0; i < first.size(); ++i) f += first[i], l += last[i];
  REQUIRE(l < f);

  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE(m.info()["epochs_done"] == 2);
  REQUIRE(m.info()["data"][0]["crc64"].get<std::string>().size() == 16);
  generate_to(m, dir + "/gen.csv", 64, 11);
  ReadStats st;
  FlowTable t = read_flows(dir + "/gen.csv", {}, &st);
  REQUIRE(st.rows > 0);
  const int64_t start = m.encoder().day_start() + 8 * 3600;
  int64_t prev = 0;
  for (const FlowRecord& r : t.rows) {
    REQUIRE(r.te >= start);
    REQUIRE(r.te < start + 3 * 3600);
    REQUIRE(r.te >= prev);  // sorted by time
    prev = r.te;
    REQUIRE(r.pkt >= 1);
    // Rules by construction.
    const int64_t lo = min_bytes_per_packet(r.pr);
    REQUIRE(r.byt >= lo * r.pkt);
    REQUIRE(r.byt <= 65535 * r.pkt);
    if (r.pr == proto::icmp) REQUIRE(r.sp == 0);
    if (m.encoder().one_packet_zero_duration() && r.pkt == 1) REQUIRE(r.td == 0);
    REQUIRE(r.td >= 0);
    // Every flow has exactly one side in the owner prefix (made-up hosts are 42.219/16).
    REQUIRE(((r.sa >> 16) == ((42u << 8) | 219u) || (r.da >> 16) == ((42u << 8) | 219u)));
  }
  fs::remove_all(dir);
}
