// From flow files to a model ready to train (stan/train/prepare.cpp): hosts split whole into
// training and held-back ones, what the model's info records, and the data it refuses.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "stan/stan_test_util.h"
#include "tensor/error.h"

using namespace stan;
using namespace stan::testing;
using Catch::Contains;

TEST_CASE("model validation: prepare refuses empty files and time outliers", "[stan][model]") {
  const std::string dir = temp_dir("prepare_bad");
  const std::string header = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";
  std::string good;
  for (int i = 0; i < 30; ++i)
    good += "2016-04-11 10:" + std::to_string(10 + i) +
            ":00,1.0,42.219.153.1,8.8.8.8,1234,53,UDP,......,0,0,1,80,background\n";
  std::ofstream(dir + "/empty.csv") << "";
  std::ofstream(dir + "/good.csv") << header << good;
  std::ofstream(dir + "/stray.csv")
      << header << good
      << "1970-01-02 00:00:00,1.0,42.219.153.1,8.8.8.8,1,53,UDP,......,0,0,1,80,x\n";
  PrepareOptions p;
  p.config.hidden = 4;
  p.config.k = 2;
  p.val_fraction = 0;
  p.data = {dir + "/good.csv", dir + "/empty.csv"};
  REQUIRE_THROWS_WITH(prepare_training(p), Contains("empty.csv: no flow records"));
  p.data = {dir + "/stray.csv"};
  REQUIRE_THROWS_WITH(prepare_training(p),
                      Contains("1 of 31 records lie far from the others in time (e.g. "
                               "1970-01-02 00:00:00") &&
                          Contains("--skip-bad-rows"));
  p.read.skip_bad_rows = true;
  Prepared prep = prepare_training(p);
  CHECK(prep.flows == 30);
  CHECK(prep.model.info()["time_outliers_dropped"] == 1);
  CHECK(prep.model.encoder().day_start() == 1460332800);  // 2016-04-11, not 1970
  // The row limit counts all files together.
  p.read.skip_bad_rows = false;
  p.read.row_limit = 50;
  p.data = {dir + "/good.csv", dir + "/good.csv"};
  REQUIRE_THROWS_WITH(prepare_training(p),
                      Contains("good.csv: more than 50 flow records in all files together"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("prepare: the sample's six hosts, split whole, and what the info records", "[prepare]") {
  const PrepareOptions po = small_options();
  const Prepared p = prepare_training(po);
  CHECK(p.flows == 208701);
  CHECK(p.train_hosts + p.val_hosts == 6);
  CHECK(p.train_hosts > 0);
  CHECK(p.val_hosts > 0);
  CHECK(p.read_notes.empty());  // every row of the sample became a record
  const nlohmann::json& info = p.model.info();
  CHECK(info["owners"] == nlohmann::json::array({"42.219.0.0/16"}));  // the hosts' /16, once
  CHECK(info["owner_hosts"] == 6);
  CHECK(info["seed"] == 5);
  CHECK(info["train_hosts"] == p.train_hosts);
  CHECK(info["val_hosts"] == p.val_hosts);
  REQUIRE(info["data"].size() == 1);
  CHECK(info["data"][0]["path"] == "flows.csv.xz");
  CHECK(info["data"][0]["rows"] == 208701);
  CHECK(info["data"][0]["format"] == "ugr16");
  CHECK(info["train_windows"] == p.train.examples());
  CHECK(info["val_windows"] == p.val.examples());
  CHECK_FALSE(info.contains("time_outliers_dropped"));
  std::set<std::string> held, trained, given;
  for (const auto& h : info["val_host_ips"]) held.insert(h.get<std::string>());
  for (const auto& h : info["train_host_ips"]) trained.insert(h.get<std::string>());
  for (uint32_t h : po.owners.hosts) given.insert(format_ipv4(h));
  CHECK(held.size() == static_cast<size_t>(p.val_hosts));
  CHECK(trained.size() == static_cast<size_t>(p.train_hosts));
  std::set<std::string> both = held;
  both.insert(trained.begin(), trained.end());
  CHECK(both == given);  // each host on one side, whole
  // The same split and the same examples again.
  const Prepared again = prepare_training(po);
  CHECK(again.model.info()["val_host_ips"] == info["val_host_ips"]);
  CHECK(again.train.targets == p.train.targets);
}

TEST_CASE("prepare: a split seed keeps the held-back hosts while the seed changes the weights",
          "[prepare]") {
  PrepareOptions po = small_options();
  const Prepared base = prepare_training(po);
  const nlohmann::json held = base.model.info()["val_host_ips"];
  // A seed whose own split differs.
  PrepareOptions other = po;
  for (other.seed = po.seed + 1; other.seed < po.seed + 50; ++other.seed)
    if (prepare_training(other).model.info()["val_host_ips"] != held) break;
  REQUIRE(other.seed < po.seed + 50);
  other.split_seed = static_cast<int64_t>(po.seed);
  const Prepared p = prepare_training(other);
  CHECK(p.model.info()["val_host_ips"] == held);
  CHECK(p.model.info()["split_seed"] == po.seed);
  CHECK_FALSE(base.model.info().contains("split_seed"));
  const auto w0 = base.model.state().begin()->second.to_vector<float>();
  const auto w1 = p.model.state().begin()->second.to_vector<float>();
  CHECK(w0 != w1);  // another initialisation
}

TEST_CASE("prepare: no data, or data with no owner's flow, is an error saying why", "[prepare]") {
  PrepareOptions none;
  REQUIRE_THROWS_WITH(prepare_training(none), "no training data given");
  PrepareOptions po = small_options();
  po.owners.hosts.clear();
  po.owners.prefixes = {parse_prefix("10.99.0.0/16")};
  REQUIRE_THROWS_WITH(prepare_training(po),
                      Contains("no flow of the training data belongs to an owner host (owners: ") &&
                          Contains("10.99.0.0/16") &&
                          Contains("pass --owners with the internal network's prefix"));
}
