// The text table and the JSON of an evaluation (stan/eval/format.cpp): sections, numbers as
// printed, rules not counted, copies and train-on-synthetic rows only when measured, and
// non-finite values as null.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "stan/eval/eval.h"
#include "stan/eval/eval_test_util.h"

using Catch::Contains;
using stan::FlowTable;
using stan::eval_test::make_dependent_flows;

namespace {

// Real against other hand-made traffic, without training data or train-on-synthetic scores.
stan::EvalResult small_result() {
  static const FlowTable real = make_dependent_flows(4, 200, 21);
  static const FlowTable syn = make_dependent_flows(4, 200, 22);
  return stan::evaluate({&real, &syn, nullptr, nullptr, "real.csv", "syn.csv", "", ""});
}

// The table's line that starts (after its indent) with `label`, or "".
std::string line_of(const std::string& table, const std::string& label) {
  std::stringstream ss(table);
  for (std::string l; std::getline(ss, l);)
    if (l.rfind("  " + label, 0) == 0) return l;
  return "";
}

}  // namespace

TEST_CASE("format: the table's sections and the numbers as printed", "[eval]") {
  stan::EvalResult r = small_result();
  r.sides[0].records = 1234567;
  r.vs_real[1].js_mean = 0.123456;
  const std::string table = stan::format_eval_table(r);
  CHECK(table.rfind("verdict: ", 0) == 0);
  for (const char* section :
       {"stan eval: owners ", "\nMarginals: distance to real", "\nDependence: mean |difference|",
        "\nDomain rules: share", "\nHost streams (owners ", "\nRemote IPs: rank-frequency"})
    CHECK_THAT(table, Contains(section));
  CHECK_THAT(line_of(table, "real"), Contains("1,234,567"));  // thousands grouped
  CHECK_THAT(table, Contains("      real.csv\n"));            // each side's path under its row
  CHECK_THAT(line_of(table, "mean JS, 8 categorical fields"), Contains("0.1235"));
  for (int f = 0; f < stan::kEvalFields; ++f) {
    const std::string label =
        std::string(stan::eval_field_name(f)) + (f < stan::kEvalCategorical ? " (JS)" : " (W1)");
    CHECK_FALSE(line_of(table, label).empty());
  }
  for (int k = 1; k <= r.max_lag; ++k)
    CHECK_FALSE(line_of(table, "acf lag " + std::to_string(k)).empty());
  CHECK(line_of(table, "acf lag " + std::to_string(r.max_lag + 1)).empty());
  // No training data: no copies section; no hook: train-on-synthetic not computed.
  CHECK(table.find("share copying a training record") == std::string::npos);
  CHECK_THAT(table, Contains("Train on synthetic, test on real: not computed"));
}

TEST_CASE("format: rules not counted are starred, rates in percent", "[eval]") {
  stan::EvalResult r = small_result();
  const auto& rules = stan::eval_rules();
  r.rule_counted[0] = false;
  r.sides[1].rules.applies[1] = 8;
  r.sides[1].rules.broken[1] = 1;
  r.sides[1].rules.applies[2] = 0;
  const std::string table = stan::format_eval_table(r);
  CHECK_FALSE(line_of(table, rules[0].name + " (*)").empty());
  CHECK(line_of(table, rules[1].name + " (*)").empty());
  CHECK_THAT(line_of(table, rules[1].name), Contains("12.500%"));  // 1 of 8
  const std::string none = line_of(table, rules[2].name);
  REQUIRE_FALSE(none.empty());
  CHECK(none.back() == '-');  // applies to none: no rate
}

TEST_CASE("format: train-on-synthetic rows, ratios and wrapped descriptions", "[eval]") {
  stan::EvalResult r = small_result();
  const std::string words =
      "a description long enough to need more than one line of the table so that it wraps at "
      "about one hundred columns with the continuation indented";
  r.tstr = {{"protocol classifier", "macro-F1", 0.8, 0.6, 0.2, false, words},
            {"bytes regressor", "MSE", 2.0, 3.0, std::numeric_limits<double>::quiet_NaN(), true}};
  const std::string table = stan::format_eval_table(r);
  const std::string pc = line_of(table, "protocol classifier (macro-F1)");
  REQUIRE_FALSE(pc.empty());
  for (const char* v : {"0.800", "0.600", "0.200", "0.750", "0.250"}) CHECK_THAT(pc, Contains(v));
  const std::string br = line_of(table, "bytes regressor (MSE)");
  CHECK_THAT(br, Contains("1.500"));  // 3 / 2
  CHECK(br.back() == '-');            // no baseline score: no ratio
  CHECK_THAT(table, Contains("(ratio = score / train-on-real score; macro-F1: higher, MSE: lower "
                             "is better)"));
  std::stringstream ss(table.substr(table.find("  protocol classifier: a")));
  std::string first, second;
  std::getline(ss, first);
  std::getline(ss, second);
  CHECK(first.size() <= 100);
  CHECK(second.rfind("    ", 0) == 0);
  CHECK_THAT(first + second, Contains("a description long enough"));
}

TEST_CASE("format: the JSON holds every number, null where not finite", "[eval]") {
  stan::EvalResult r = small_result();
  r.tstr = {{"t", "m", 0.5, 0.25, std::numeric_limits<double>::quiet_NaN()}};
  r.rule_counted[3] = false;
  const nlohmann::json j = stan::eval_to_json(r);
  CHECK(j["definitions"]["owners"] == r.owners);
  CHECK(j["definitions"]["rule_real_tolerance"] == r.rule_real_tolerance);
  REQUIRE(j["fields"].size() == stan::kEvalFields);
  for (int f = 0; f < stan::kEvalFields; ++f) {
    INFO(stan::eval_field_name(f));
    const auto& e = j["fields"][f];
    CHECK(e["name"] == stan::eval_field_name(f));
    CHECK(e["kind"] == (f < stan::kEvalCategorical ? "categorical" : "continuous"));
    CHECK(e["synthetic"].get<double>() == r.vs_real[1].field[f]);
    CHECK(e.contains("w1_scale") == (f >= stan::kEvalCategorical));
  }
  const auto& syn = j["sides"]["synthetic"];
  CHECK(syn["path"] == "syn.csv");
  CHECK(syn["records"] == r.synthetic().records);
  CHECK(syn["first_te"] == stan::format_time(r.synthetic().first_te));
  CHECK(syn["distance_to_real"]["js_mean"].get<double>() == r.vs_real[1].js_mean);
  CHECK(syn["copy_share"].is_null());  // no training data
  CHECK(syn["nmi"].size() == static_cast<size_t>(stan::kEvalFields * stan::kEvalFields));
  CHECK(syn["acf"].size() == static_cast<size_t>(r.max_lag));
  REQUIRE(syn["rules"].size() == stan::eval_rules().size());
  CHECK(syn["rules"][0]["applies"] == r.synthetic().rules.applies[0]);
  CHECK(j["rules"][3]["counted"] == false);
  CHECK(j["rules"][2]["counted"] == true);
  CHECK(j["nmi_fields"].size() == static_cast<size_t>(stan::kEvalFields));
  CHECK(j["corr_fields"] ==
        nlohmann::json({"bytes", "packets", "duration", "interarrival", "bytes_per_packet"}));
  REQUIRE(j["tstr"].size() == 1);
  CHECK(j["tstr"][0]["synthetic_to_real"].get<double>() == 0.5);
  CHECK(j["tstr"][0]["train_on_baseline"].is_null());
  CHECK(j["tstr"][0]["baseline_to_real"].is_null());
  r.tstr.clear();
  CHECK(stan::eval_to_json(r)["tstr"].is_null());
  // A rule that applies to no record has no rate.
  r.sides[1].rules.applies[0] = 0;
  r.sides[1].rules.broken[0] = 0;
  CHECK(stan::eval_to_json(r)["sides"]["synthetic"]["rules"][0]["rate"].is_null());
}
