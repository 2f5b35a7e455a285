// Model metadata validation: every field of the config, the encoding and the profiles is
// checked against its bounds when a model is loaded, so a crafted or corrupted file is a clear
// error naming the field, never a crash, an overflow or garbage output later on.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "stan/model/model.h"
#include "stan/stan_test_util.h"
#include "tensor/error.h"

using namespace stan;
using namespace stan::testing;
using Catch::Contains;
using nlohmann::json;

namespace {

// The bundled model's metadata, as the documents a file holds.
std::map<std::string, std::string> bundled_metadata() {
  static const nn::Checkpoint ck = nn::load_checkpoint(bundled_model_path());
  return ck.metadata;
}

std::string meta_error(const std::string& key, const std::function<void(json&)>& edit) {
  auto meta = bundled_metadata();
  json doc = json::parse(meta.at(key));
  edit(doc);
  meta[key] = doc.dump();
  try {
    parse_model_metadata(meta);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("model validation: the bundled metadata passes and builds", "[stan][model]") {
  const ModelMeta m = parse_model_metadata(bundled_metadata());
  CHECK(m.config.window == 5);
  CHECK(m.profiles.enabled());
  CHECK(m.profiles.gmm().k >= 1);
}

TEST_CASE("model validation: every bad field is named", "[stan][model]") {
  struct Case {
    std::string key;
    std::function<void(json&)> edit;
    std::string message;
  };
  const double inf = std::numeric_limits<double>::infinity();
  // The bundled model's profile fields (its services' too) and mixture components.
  const json prof = json::parse(bundled_metadata().at("profiles"));
  const int64_t d = static_cast<int64_t>(prof.at("mean").size()), k = prof.at("gmm").at("k");
  const std::string dk = std::to_string(d), kk = std::to_string(k);
  const std::vector<Case> cases = {
      {"config", [](json& c) { c["window"] = 0; }, "model config: 'window' is 0 (expected 1..64)"},
      {"config", [](json& c) { c["window"] = 2147483647; }, "'window' is 2147483647"},
      {"config", [](json& c) { c["window"] = 5.5; }, "'window' is 5.5 (expected an integer"},
      {"config", [](json& c) { c["window"] = "5"; }, "'window' is \"5\" (expected an integer"},
      {"config", [](json& c) { c["window"] = 18446744073709551615ull; },
       "'window' is 18446744073709551615"},
      {"config", [](json& c) { c["k"] = 0; }, "'k' is 0 (expected 1..64)"},
      {"config", [](json& c) { c.erase("hidden"); }, "model config: missing 'hidden'"},
      {"config", [](json& c) { c["hidden"] = -1; }, "'hidden' is -1"},
      {"config", [](json& c) { c["cnn_c1"] = 100000; }, "'cnn_c1' is 100000"},
      {"config", [](json& c) { c["lr_gamma"] = -0.5; }, "'lr_gamma' is -0.5"},
      {"config", [](json& c) { c["lr_step"] = 0; }, "'lr_step' is 0"},
      {"config", [](json& c) { c["arch"] = 7; }, "'arch' is 7 (expected a string)"},
      {"config", [](json& c) { c = json::array(); }, "model config: expected a JSON object"},
      {"config",
       [](json& c) {
         c["arch"] = "cnn";
         c["window"] = 1;
       },
       "a cnn needs a window"},
      {"encoding", [](json& e) { e["options"]["peer_cache"] = 2147483647; },
       "model encoding: options: 'peer_cache' is 2147483647 (expected 0..1024)"},
      {"encoding", [](json& e) { e["options"]["cold_starts"] = -3; }, "'cold_starts' is -3"},
      {"encoding", [](json& e) { e["options"]["censor"] = 1; }, "'censor' is 1 (expected true or"},
      {"encoding", [](json& e) { e["options"]["half_width"] = 0; }, "'half_width' is 0"},
      {"encoding", [&](json& e) { e["options"]["sigma_floor"] = inf; }, "'sigma_floor' is null"},
      {"encoding", [](json& e) { e["day_start"] = 5000000000LL; }, "'day_start' is 5000000000"},
      {"encoding",
       [](json& e) {
         e["protocols"] = json::array({6, 6});
       },
       "'protocols' lists a value twice"},
      {"encoding", [](json& e) { e["protocols"][1] = -1; }, "'protocols'[1] is -1"},
      {"encoding", [](json& e) { e["tos_values"] = json(std::vector<int>(33, 1)); },
       "'tos_values' is an array (expected a list of at most 32 integers)"},
      {"encoding", [](json& e) { e["default_flags"][0] = 64; }, "'default_flags'[0] is 64"},
      {"encoding", [](json& e) { e["dt"]["lo"] = e["dt"]["hi"]; }, "dt: 'lo'"},
      {"encoding", [](json& e) { e["dt"]["hi"] = 50.0; }, "model encoding: dt: 'hi' is 50.0"},
      {"encoding", [](json& e) { e["td"]["lo"] = -100.0; }, "model encoding: td: 'lo' is -100.0"},
      {"encoding",
       [](json& e) {
         e["bytes"]["log"] = false;
         e["bytes"]["hi"] = 1e16;
       },
       "model encoding: bytes: 'hi' is 1e+16"},
      {"encoding", [](json& e) { e["pkt"].erase("log"); }, "model encoding: pkt: missing 'log'"},
      {"encoding", [](json& e) { e["port_classes"][0]["class"] = 1023; }, "'class' is 1023"},
      {"encoding", [](json& e) { e["port_classes"][1]["class"] = e["port_classes"][0]["class"]; },
       "appears twice"},
      {"encoding", [](json& e) { e["port_classes"][0]["top"][0][0] = 80; },
       "port class entry 0: 'top'[0] is 80"},
      {"encoding", [](json& e) { e["port_classes"][0]["total"] = -1.0; }, "'total' is -1.0"},
      {"encoding", [](json& e) { e["port_classes"][0]["top"][0] = json::array({1024}); },
       "is not a [port, count] pair"},
      {"profiles", [](json& p) { p["gmm"]["k"] = 0; }, "model profiles: mixture: 'k' is 0"},
      {"profiles", [k](json& p) { p["gmm"]["k"] = k + 1; },
       "inconsistent sizes (k=" + std::to_string(k + 1)},
      {"profiles", [d](json& p) { p["gmm"]["d"] = d - 1; },
       "'means' is an array (expected a list of at most " + std::to_string(k * (d - 1)) +
           " numbers)"},
      {"profiles", [d](json& p) { p["gmm"]["d"] = d + 1; },
       "inconsistent sizes (k=" + kk + ", d=" + std::to_string(d + 1)},
      {"profiles", [](json& p) { p["gmm"]["weights"][0] = 0.0; }, "the weights sum to"},
      {"profiles", [&](json& p) { p["gmm"]["means"][5] = -inf; }, "'means'[5] is null"},
      {"profiles", [](json& p) { p["gmm"]["variances"][0] = 0.0; }, "'variances'[0] is 0.0"},
      {"profiles", [](json& p) { p["std"][0] = -1.0; }, "model profiles: 'std'[0] is -1.0"},
      {"profiles", [](json& p) { p["mean"].erase(0); },
       "expected " + dk + " fields, got " + std::to_string(d - 1) + " means"},
      {"profiles", [](json& p) { p["names"][0] = "flows"; }, "the fields are not the ones"},
      {"profiles", [](json& p) { p = nullptr; }, "profiles are on but the model has no"},
      {"info", [](json& i) { i = json::array(); }, "model info: expected a JSON object"},
      {"info", [](json& i) { i["owners"] = json::array({1}); }, "'owners' holds 1, not a prefix"},
      {"info", [](json& i) { i["owners"] = "42.219.0.0/16"; }, "'owners' is not a list"},
  };
  for (const Case& c : cases) {
    INFO(c.key << ": expecting " << c.message);
    const std::string msg = meta_error(c.key, c.edit);
    INFO("got: " << msg);
    CHECK_THAT(msg, Contains(c.message));
  }
  // Not JSON at all, or missing.
  auto meta = bundled_metadata();
  meta["encoding"] = "{\"options\":";
  REQUIRE_THROWS_WITH(parse_model_metadata(meta),
                      Contains("metadata 'encoding' is not valid JSON"));
  meta.erase("encoding");
  REQUIRE_THROWS_WITH(parse_model_metadata(meta), Contains("metadata lacks 'encoding'"));
}

TEST_CASE("model validation: the weight bound never exceeds a real model's size", "[stan][model]") {
  // The bound refuses files whose metadata asks for more weights than they hold; it must never
  // refuse a real model.
  ModelMeta base = parse_model_metadata(bundled_metadata());
  for (const char* arch : {"mlp", "cnn"})
    for (int hidden : {0, 3})
      for (bool profiles : {false, true}) {
        ModelMeta m = base;
        m.config.arch = arch;
        m.config.hidden = hidden;
        m.config.window = 3;
        m.config.cnn_c1 = 2;
        m.config.cnn_c2 = 3;
        m.config.k = 2;
        if (!profiles) m.profiles = ProfileModel();
        StanModel model(m.config, m.encoder, m.profiles, 1);
        int64_t values = 0;
        for (auto& [name, t] : model.state()) values += t.numel();
        INFO(arch << " hidden " << hidden << " profiles " << profiles);
        CHECK(weight_lower_bound(m) <= values);
        CHECK(weight_lower_bound(m) * 2 > values);  // and it is a close bound
      }
}

TEST_CASE("model validation: a model fitted on extreme values saves and loads", "[stan][model]") {
  // Packets near 2^63, a duration of 1e300 s: fitting clamps the scalers to what loading
  // accepts, so training never writes a model that cannot be read back.
  const std::string dir = temp_dir("extreme");
  std::string csv = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";
  for (int i = 0; i < 40; ++i) {
    const std::string t =
        "2016-04-11 00:0" + std::to_string(i / 10) + ":" + std::to_string(10 + i % 10 * 4);
    const bool wild = i % 7 == 0;
    csv += t + "," + (wild ? "1e300" : "1.5") + ",42.219.153." + std::to_string(i % 4 + 1) +
           ",8.8.8.8,1234,53,UDP,......,0,0," + (wild ? "9000000000000000000" : "2") + "," +
           (wild ? "9000000000000000000" : "120") + ",background\n";
  }
  std::ofstream(dir + "/wild.csv") << csv;
  PrepareOptions p;
  p.data = {dir + "/wild.csv"};
  p.config.hidden = 4;
  p.config.k = 2;
  p.config.window = 2;
  p.val_fraction = 0.25;
  p.encoding.bytes_per_packet = false;
  Prepared prep = prepare_training(p);
  prep.model.save(dir + "/m.safetensors");
  StanModel back = StanModel::load(dir + "/m.safetensors");
  CHECK(back.encoder().to_json() == prep.model.encoder().to_json());
  std::filesystem::remove_all(dir);
}
