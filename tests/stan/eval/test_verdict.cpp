// The verdict: grades against the floor, the baseline or the bands; warnings about unfair
// comparisons; the one-line summary; and how the table, JSON and HTML report show it.
#include <catch2/catch.hpp>

#include <cmath>

#include "stan/eval/baseline.h"
#include "stan/eval/eval.h"
#include "stan/eval/report_html.h"
#include "stan/eval/verdict.h"
#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"

using Catch::Contains;
using stan::EvalResult;
using stan::Grade;
using stan::SideDistance;
using stan::SideSummary;

namespace {

const std::string kSample = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";

// A result with the given sides, each distance set to `d` (field distances too), 24 h, 10 hosts.
EvalResult result(const std::vector<std::pair<std::string, double>>& sides) {
  EvalResult r;
  for (const auto& [label, d] : sides) {
    SideSummary s;
    s.label = label;
    s.records = s.host_flows = 1000;
    s.hosts = 10;
    s.first_te = 1460332800;
    s.last_te = s.first_te + 86399;
    s.owners = "42.219.0.0/16";
    r.sides.push_back(s);
    SideDistance x;
    x.field.assign(stan::kEvalFields, d);
    x.js_mean = x.w1_mean = x.nmi_mad = x.corr_mad = x.acf_mad = x.flows_per_host_w1 =
        x.remotes_per_host_w1 = d;
    r.vs_real.push_back(x);
  }
  r.owners = "42.219.0.0/16";
  return r;
}

const stan::MetricVerdict& find(const stan::Verdict& v, const std::string& key) {
  for (const auto& m : v.headline)
    if (m.key == key) return m;
  for (const auto& m : v.fields)
    if (m.key == key) return m;
  FAIL("no metric " << key);
  return v.headline.front();
}

}  // namespace

TEST_CASE("verdict: against the real-vs-real floor", "[verdict]") {
  // Floor 0.04: pass <= max(1.5*0.04, 0.04 + band/2), warn <= max(3*0.04, 0.04 + band).
  EvalResult r = result({{"real", 0}, {"synthetic", 0.05}, {"floor", 0.04}});
  stan::Verdict v = stan::judge(r);
  const auto& js = find(v, "js_mean");
  CHECK(js.basis == "floor");
  CHECK(js.reference == 0.04);
  CHECK(js.pass_at == Approx(0.065));  // 0.04 + 0.05/2
  CHECK(js.warn_at == Approx(0.12));   // 3 * 0.04
  CHECK(js.grade == Grade::pass);
  CHECK(v.overall == Grade::pass);
  CHECK(v.summary.starts_with("PASS: 8 pass, 0 warn, 0 fail of 8 headline metrics"));
  CHECK_THAT(v.basis, Contains("real-vs-real floor"));
  CHECK(v.warnings.empty());

  r.vs_real[1].nmi_mad = 0.09;  // above 1.5 x floor and floor + 0.025, below 3 x floor: warn
  r.vs_real[1].corr_mad = 0.5;  // far above: fail
  v = stan::judge(r);
  CHECK(find(v, "nmi_mad").grade == Grade::warn);
  CHECK(find(v, "corr_mad").grade == Grade::fail);
  CHECK(v.overall == Grade::fail);
  CHECK(v.count(Grade::fail) == 1);
  CHECK(v.summary.starts_with("FAIL: 6 pass, 1 warn, 1 fail"));
  CHECK_THAT(v.summary, Contains("worst: Pearson (log1p), mean |diff| 0.5000 (fail above"));
  // Per-field grades are shown but do not make the overall grade.
  r.vs_real[1].corr_mad = 0.05;
  r.vs_real[1].nmi_mad = 0.05;
  r.vs_real[1].field[3] = 0.9;
  v = stan::judge(r);
  CHECK(find(v, "field:direction").grade == Grade::fail);
  CHECK(v.overall == Grade::pass);
}

TEST_CASE("verdict: the baseline is the bar for structure, not for marginals", "[verdict]") {
  // The baseline matches marginals by construction (distance ~0) and has no structure (0.3).
  EvalResult r = result({{"real", 0}, {"synthetic", 0.04}, {"baseline", 0.3}});
  r.vs_real[2].js_mean = r.vs_real[2].w1_mean = 0.001;
  stan::Verdict v = stan::judge(r);
  CHECK(find(v, "js_mean").basis == "band");  // not "worse than the baseline"
  CHECK(find(v, "js_mean").grade == Grade::pass);
  CHECK(find(v, "w1_mean").grade == Grade::warn);  // band 0.03 / 0.08
  const auto& nmi = find(v, "nmi_mad");
  CHECK(nmi.basis == "baseline");
  CHECK(nmi.pass_at == Approx(0.15));  // half the baseline
  CHECK(nmi.warn_at == Approx(0.3));
  CHECK(nmi.grade == Grade::pass);
  r.vs_real[1].acf_mad = 0.35;  // no better than no structure
  CHECK(find(stan::judge(r), "acf_mad").grade == Grade::fail);
  CHECK_THAT(v.basis, Contains("baseline"));
}

TEST_CASE("verdict: bands, rules, copies and train-on-synthetic ratios", "[verdict]") {
  EvalResult r = result({{"real", 0}, {"synthetic", 0.01}});
  r.sides[0].any_rule_rate = 0.001;
  r.sides[1].any_rule_rate = 0.0025;  // 0.15 points over real: pass (<= +0.2)
  r.has_train = true;
  r.sides[0].copy_share = 0.002;
  r.sides[1].copy_share = 0.02;  // 10x what unrelated real traffic shares: fail
  r.tstr.push_back({"protocol classifier", "macro-F1", 0.9, 0.8, NAN, false, ""});  // 0.89
  r.tstr.push_back({"next-bytes regression", "MSE", 1.0, 1.3, NAN, true, ""});      // 1.3
  const stan::Verdict v = stan::judge(r);
  CHECK(find(v, "js_mean").basis == "band");
  CHECK(find(v, "any_rule_rate").grade == Grade::pass);
  CHECK(find(v, "copy_share").grade == Grade::fail);
  const auto& f1 = find(v, "tstr:protocol classifier");
  CHECK(f1.higher_is_better);
  CHECK(f1.value == Approx(0.8 / 0.9));
  CHECK(f1.grade == Grade::warn);                                     // below 0.9, above 0.75
  CHECK(find(v, "tstr:next-bytes regression").grade == Grade::warn);  // above 1.15, below 1.5
  CHECK(v.overall == Grade::fail);
  CHECK_THAT(v.basis, Contains("fixed bands"));
  const auto j = stan::verdict_to_json(v);
  CHECK(j["overall"] == "fail");
  CHECK(j["headline"].size() == v.headline.size());
  CHECK(j["fields"].size() == 13);
}

TEST_CASE("verdict: warnings when spans, host counts or owners do not match", "[verdict]") {
  EvalResult r = result({{"real", 0}, {"synthetic", 0.01}});
  r.sides[1].last_te = r.sides[1].first_te + 3599;  // 1 h of synthetic vs 24 h of real
  r.sides[1].hosts = 20;
  r.sides[0].hosts = 41;
  r.sides[1].records_outside_owners = 900;
  const stan::Verdict v = stan::judge(r);
  REQUIRE(v.warnings.size() == 3);
  CHECK_THAT(v.warnings[0], Contains("time spans differ: real 24.0 h, synthetic 1.0 h") &&
                                Contains("--duration 24h"));
  CHECK_THAT(v.warnings[1], Contains("host counts differ: real 41, synthetic 20"));
  CHECK_THAT(v.warnings[2], Contains("90% of the synthetic records touch no owner host"));
  CHECK_THAT(v.summary, Contains("3 warnings: time spans differ: real 24.0 h, synthetic 1.0 h"));
  // Equal spans and counts: no warning.
  CHECK(stan::judge(result({{"real", 0}, {"synthetic", 0.01}})).warnings.empty());
}

TEST_CASE("verdict: a baseline over another span or population is warned about", "[verdict]") {
  EvalResult r = result({{"real", 0}, {"synthetic", 0.01}, {"baseline", 0.3}});
  r.sides[0].last_te = r.sides[0].first_te + 2 * 3600 + 1200;  // 2.3 h of real flows
  r.sides[1].last_te = r.sides[0].last_te;
  r.sides[2].hosts = 40;  // the baseline's 24 h over 40 hosts
  const stan::Verdict v = stan::judge(r);
  REQUIRE(v.warnings.size() == 2);
  CHECK_THAT(v.warnings[0], Contains("time spans differ: real 2.3 h, baseline 24.0 h") &&
                                Contains("make the baseline with --duration 2h"));
  CHECK_THAT(v.warnings[1], Contains("host counts differ: real 10, baseline 40") &&
                                Contains("make the baseline with --hosts 10"));
}

TEST_CASE("verdict: end to end on real data, with a floor of other real hosts", "[verdict]") {
  // Real: 9 hosts of the sample; "synthetic": the same flows (a perfect generator); floor: 8
  // other hosts of the sample. Everything passes; the report shows the verdict.
  const stan::FlowTable t = stan::read_flows(kSample);
  const std::vector<std::string> a = {"42.219.154.189", "42.219.153.241", "42.219.155.12",
                                      "42.219.154.63",  "42.219.159.118", "42.219.144.208",
                                      "42.219.150.243", "42.219.146.15",  "42.219.4.9"};
  const std::vector<std::string> b = {"42.219.20.253",  "42.219.39.85",  "42.219.71.56",
                                      "42.219.145.151", "42.219.146.76", "42.219.147.211",
                                      "42.219.149.53",  "42.219.149.202"};
  stan::EvalOptions opt;
  for (const auto& h : a) stan::add_owner_prefix(opt.owners, h + "/32");
  stan::OwnerSelector fo;
  for (const auto& h : b) stan::add_owner_prefix(fo, h + "/32");
  opt.floor_owners = fo;
  stan::EvalInputs in{&t, &t, nullptr, nullptr, "real.csv", "synthetic.csv", "", ""};
  in.floor = &t;
  in.floor_path = "floor.csv";
  const EvalResult r = stan::evaluate(in, opt);
  REQUIRE(r.has_floor());
  CHECK(r.sides[static_cast<size_t>(r.side_index("floor"))].hosts == 8);
  CHECK(r.synthetic().hosts == 9);
  const stan::Verdict v = stan::judge(r);
  CHECK(v.overall == Grade::pass);
  CHECK(r.vs_real[1].js_mean == 0);
  CHECK(r.vs_real[static_cast<size_t>(r.side_index("floor"))].js_mean > 0.01);
  CHECK_THAT(stan::format_eval_table(r), Contains("verdict: PASS: ") && Contains("floor"));
  CHECK(stan::eval_to_json(r)["verdict"]["overall"] == "pass");
  const std::string html = stan::render_html_report(r);
  CHECK_THAT(html, Contains("<div class='verdict'") && Contains("<b>PASS</b>"));
  CHECK_THAT(html, Contains(">pass</span> <span") && Contains(">fail</span>"));  // the key
  CHECK_THAT(html, Contains("floor (real vs real)"));
  CHECK_THAT(html, Contains("rotate(90)' class='xl'>NMI</text>"));  // colour bars, labelled
  CHECK_THAT(html, !Contains("<b>The baseline</b>"));               // no baseline, no note about it

  // A synthetic side of one hour against a day: the report warns.
  stan::FlowTable hour;
  const int64_t t0 = t.rows.front().te;
  for (const auto& row : t.rows)
    if (row.te < t0 + 3600) hour.rows.push_back(row);
  stan::EvalInputs in2{&t, &hour, nullptr, nullptr, "real.csv", "synthetic.csv", "", ""};
  const EvalResult r2 = stan::evaluate(in2, opt);
  const std::string html2 = stan::render_html_report(r2);
  CHECK_THAT(html2, Contains("<div class='warnings'>") && Contains("time spans differ"));
}
