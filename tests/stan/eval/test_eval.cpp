// `stan eval`: metric primitives on inputs with known answers, rules on hand-made flows, and the
// whole evaluation on real data against itself and against the independent baseline.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "stan/eval/baseline.h"
#include "stan/eval/eval.h"
#include "stan/eval/report_html.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;

namespace {

uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

const std::string kSample = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
const std::string kSampleHosts = std::string(STAN_ASSETS_DIR) + "/sample/hosts.csv";

}  // namespace

// Hand-made traffic with strong dependencies between fields and within host streams; every record
// keeps every rule. Used here and in test_baseline.cpp.
FlowTable make_dependent_flows(int hosts, int flows_per_host, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t day = 1460332800;  // 2016-04-11 00:00:00 UTC
  FlowTable t;
  for (int h = 0; h < hosts; ++h) {
    const uint32_t host = ip("42.219.1.0") + static_cast<uint32_t>(h + 1);
    int64_t te = day + uni(0, 3600);
    int64_t level = uni(1, 20);  // a slowly changing per-host size level: autocorrelated bytes
    for (int i = 0; i < flows_per_host; ++i) {
      if (i % 10 == 0) level = std::clamp<int64_t>(level + uni(-5, 5), 1, 30);
      te += uni(0, 1) == 0 ? 0 : uni(1, 40);
      FlowRecord r;
      r.te = te;
      const int kind = (h + i / 7) % 3;  // web (in), dns (out), ping (out)
      if (kind == 0) {
        r.sa = ip("60.0.0.0") + static_cast<uint32_t>(uni(0, 50) * uni(0, 50));
        r.da = host;
        r.sp = static_cast<uint16_t>(uni(1024, 65535));
        r.dp = uni(0, 1) ? 80 : 443;
        r.pr = stan::proto::tcp;
        r.flg = stan::tcp_flag::ack | stan::tcp_flag::psh | stan::tcp_flag::syn;
        r.pkt = level + uni(1, 10);
        r.byt = r.pkt * (40 + 40 * level + uni(0, 20));
        r.td = 0.05 * static_cast<double>(r.pkt);
      } else if (kind == 1) {
        r.sa = host;
        r.da = uni(0, 1) ? ip("8.8.8.8") : ip("1.1.1.1");
        r.sp = static_cast<uint16_t>(uni(1024, 65535));
        r.dp = 53;
        r.pr = stan::proto::udp;
        r.flg = 0;
        r.stos = 40;
        r.pkt = uni(1, 2);
        r.byt = r.pkt * uni(60, 120);
        r.td = r.pkt == 1 ? 0.0 : 0.01;
      } else {
        r.sa = host;
        r.da = ip("9.9.0.0") + static_cast<uint32_t>(uni(0, 255));
        r.sp = 0;
        r.dp = 2048;
        r.pr = stan::proto::icmp;
        r.pkt = uni(1, 4);
        r.byt = r.pkt * 84;
        r.td = r.pkt == 1 ? 0.0 : static_cast<double>(r.pkt - 1);
      }
      t.rows.push_back(r);
    }
  }
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [](const FlowRecord& a, const FlowRecord& b) { return a.te < b.te; });
  return t;
}

TEST_CASE("eval: Jensen-Shannon divergence on known histograms", "[eval]") {
  const std::vector<double> a{1, 0}, b{0, 1}, u{0.5, 0.5}, c{3, 1}, c2{30, 10};
  CHECK(stan::js_divergence(a, b) == 1.0);   // disjoint
  CHECK(stan::js_divergence(c, c2) == 0.0);  // same shares, counts or probabilities
  // p=(1,0), q=(.5,.5), m=(.75,.25): JS = .5 log2(4/3) + .5 (.5 log2(2/3) + .5 log2 2)
  const double want = 0.5 * std::log2(4.0 / 3) + 0.25 * std::log2(2.0 / 3) + 0.25;
  CHECK(stan::js_divergence(a, u) == Approx(want).epsilon(1e-12));
  CHECK(stan::js_divergence(u, a) == Approx(want).epsilon(1e-12));  // symmetric
  CHECK_THROWS_AS(stan::js_divergence(a, std::vector<double>{1, 1, 1}), stan::Error);
  CHECK_THROWS_AS(stan::js_divergence(a, std::vector<double>{0, 0}), stan::Error);
}

TEST_CASE("eval: Wasserstein-1 of point masses and shifted samples", "[eval]") {
  using V = std::vector<double>;
  CHECK(stan::wasserstein1_sorted(V{0}, V{1}) == 1.0);
  CHECK(stan::wasserstein1_sorted(V{2}, V{-1.5}) == 3.5);
  CHECK(stan::wasserstein1_sorted(V{0, 1, 5}, V{0.25, 1.25, 5.25}) == Approx(0.25));  // shift
  CHECK(stan::wasserstein1_sorted(V{0, 0, 1, 1}, V{0, 1}) == 0.0);  // same distribution
  CHECK(stan::wasserstein1_sorted(V{0}, V{0, 1}) == Approx(0.5));
  CHECK(stan::wasserstein1_sorted(V{0, 1}, V{0}) == Approx(0.5));
  CHECK_THROWS_AS(stan::wasserstein1_sorted(V{}, V{1}), stan::Error);
}

TEST_CASE("eval: mutual information, entropy and NMI with known answers", "[eval]") {
  std::vector<uint16_t> x, y, half, indep, konst;
  for (int i = 0; i < 4000; ++i) {
    x.push_back(static_cast<uint16_t>(i % 4));
    half.push_back(static_cast<uint16_t>((i % 4) / 2));   // a function of x: 1 bit of it
    indep.push_back(static_cast<uint16_t>((i / 4) % 3));  // every (x, indep) pair equally often
    konst.push_back(7);
  }
  CHECK(stan::entropy_bits(x, 4) == Approx(2.0));
  CHECK(stan::mutual_information(x, 4, x, 4) == Approx(2.0));
  CHECK(stan::normalized_mutual_information(x, 4, x, 4) == Approx(1.0));
  CHECK(stan::mutual_information(x, 4, half, 2) == Approx(1.0));
  CHECK(stan::normalized_mutual_information(x, 4, half, 2) == Approx(1 / std::sqrt(2.0)));
  CHECK(std::abs(stan::mutual_information(x, 4, indep, 3)) < 1e-12);
  CHECK(stan::normalized_mutual_information(x, 4, konst, 8) == 0.0);  // H = 0
  // Large code spaces take the hash-map path: same answer.
  CHECK(stan::mutual_information(x, 3000, half, 3000) == Approx(1.0));
  CHECK_THROWS_AS(stan::mutual_information(x, 4, std::vector<uint16_t>{1}, 2), stan::Error);
}

TEST_CASE("eval: Pearson correlation", "[eval]") {
  const std::vector<double> a{1, 2, 3, 4}, b{2, 4, 6, 8}, c{4, 3, 2, 1}, k{5, 5, 5, 5};
  CHECK(stan::pearson(a, b) == Approx(1.0));
  CHECK(stan::pearson(a, c) == Approx(-1.0));
  CHECK(stan::pearson(a, k) == 0.0);
}

TEST_CASE("eval: autocorrelation of an alternating sequence is -1 at lag 1", "[eval]") {
  std::vector<double> alt;
  for (int i = 0; i < 101; ++i) alt.push_back(i % 2 ? 3.0 : -1.0);
  const auto acf = stan::pooled_autocorrelation({alt}, 3);
  REQUIRE(acf.size() == 3);
  // The mean of an odd-length alternating series is off centre, so allow rounding only.
  std::vector<double> even(alt.begin(), alt.end() - 1);
  const auto acf_even = stan::pooled_autocorrelation({even, even}, 2);
  CHECK(acf_even[0] == Approx(-1.0).epsilon(1e-12));
  CHECK(acf_even[1] == Approx(1.0).epsilon(1e-12));
  CHECK(acf[0] < -0.99);
  // Pooled: a constant series adds nothing; too-short series are skipped; no data gives NaN.
  const auto pooled = stan::pooled_autocorrelation({even, {2, 2, 2, 2}, {5}}, 1);
  CHECK(pooled[0] == Approx(-1.0).epsilon(1e-12));
  CHECK(std::isnan(stan::pooled_autocorrelation({{1, 2}}, 2)[1]));
  CHECK_THROWS_AS(stan::pooled_autocorrelation({even}, 0), stan::Error);
}

TEST_CASE("eval: power-law slope of a known rank-frequency law", "[eval]") {
  std::vector<int64_t> f;
  for (int r = 1; r <= 3000; ++r) f.push_back(std::llround(1e7 * std::pow(r, -1.5)));
  std::reverse(f.begin(), f.end());  // any order
  f.push_back(0);                    // zeros ignored
  CHECK(stan::power_law_slope(f) == Approx(-1.5).margin(0.01));
  std::vector<int64_t> g;
  for (int r = 1; r <= 1000; ++r) g.push_back(1000 / r);
  CHECK(stan::power_law_slope(g) == Approx(-1.0).margin(0.05));
  CHECK(std::isnan(stan::power_law_slope({5})));
  const auto grid = stan::log_rank_grid(10);
  CHECK(grid == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 9, 10});
}

TEST_CASE("eval: port classes", "[eval]") {
  CHECK(stan::port_class(0) == 0);
  CHECK(stan::port_class(1023) == 1023);
  CHECK(stan::port_class(1024) == 1024);
  CHECK(stan::port_class(1123) == 1024);
  CHECK(stan::port_class(1124) == 1025);
  CHECK(stan::port_class(65535) == stan::kPortClasses - 1);
}

TEST_CASE("eval: rule counting on hand-made flows", "[eval]") {
  const auto& rules = stan::eval_rules();
  auto index = [&](const std::string& name) {
    for (size_t k = 0; k < rules.size(); ++k) {
      if (rules[k].name == name) return k;
    }
    FAIL("no rule " << name);
    return size_t{0};
  };
  FlowTable t;
  FlowRecord ok;  // TCP 42.219.1.1:5000 -> 8.8.8.8:80, 2 packets 120 bytes, 0.5 s
  ok.sa = ip("42.219.1.1");
  ok.da = ip("8.8.8.8");
  ok.sp = 5000;
  ok.dp = 80;
  ok.pr = stan::proto::tcp;
  ok.flg = stan::tcp_flag::ack;
  ok.pkt = 2;
  ok.byt = 120;
  ok.td = 0.5;
  t.rows.push_back(ok);
  FlowRecord small = ok;  // TCP under 40 bytes/packet
  small.byt = 60;
  t.rows.push_back(small);
  FlowRecord udp80 = ok;  // UDP on port 80, one packet with a duration
  udp80.pr = stan::proto::udp;
  udp80.flg = 0;
  udp80.pkt = 1;
  udp80.byt = 50;
  t.rows.push_back(udp80);
  FlowRecord icmp = ok;  // ICMP with a source port, 28 bytes/packet exactly (ok)
  icmp.pr = stan::proto::icmp;
  icmp.sp = 7;
  icmp.dp = 2048;
  icmp.byt = 56;
  t.rows.push_back(icmp);
  FlowRecord stray = ok;  // touches no owner; multicast source
  stray.sa = ip("224.0.0.5");
  stray.da = ip("8.8.4.4");
  t.rows.push_back(stray);

  const stan::OwnerSelector owners;  // 42.219.0.0/16
  std::map<uint64_t, int64_t> patterns;
  const stan::RuleCounts c = stan::count_rule_violations(t, owners, &patterns);
  CHECK(c.records == 5);
  CHECK(c.applies[index("tcp_min_bytes_per_packet")] == 3);
  CHECK(c.broken[index("tcp_min_bytes_per_packet")] == 1);
  CHECK(c.applies[index("udp_min_bytes_per_packet")] == 1);
  CHECK(c.broken[index("udp_min_bytes_per_packet")] == 0);
  CHECK(c.applies[index("one_packet_zero_duration")] == 1);
  CHECK(c.broken[index("one_packet_zero_duration")] == 1);
  CHECK(c.applies[index("port80_is_tcp")] == 4);  // ICMP's dp is not a port
  CHECK(c.broken[index("port80_is_tcp")] == 1);
  CHECK(c.applies[index("icmp_source_port_zero")] == 1);
  CHECK(c.broken[index("icmp_source_port_zero")] == 1);
  CHECK(c.broken[index("icmp_min_bytes_per_packet")] == 0);
  CHECK(c.broken[index("touches_owner")] == 1);
  CHECK(c.broken[index("source_not_multicast")] == 1);
  CHECK(c.broken[index("packets_positive")] == 0);
  CHECK(c.applies[index("packets_positive")] == 5);
  const uint64_t bit_small = uint64_t{1} << index("tcp_min_bytes_per_packet");
  CHECK(stan::rule_violation_bits(small, owners) == bit_small);
  CHECK(stan::rule_violation_bits(ok, owners) == 0);
  CHECK(patterns[0] == 1);  // only `ok` keeps every rule
  int64_t total = 0;
  for (const auto& [bits, n] : patterns) total += n;
  CHECK(total == 5);
}

TEST_CASE("eval: rules the real data breaks are reported but not counted", "[eval]") {
  FlowTable real = make_dependent_flows(4, 300, 1);
  // Every 20th incoming record gets a multicast source: over 0.5% of all records.
  const stan::OwnerSelector owners;
  int incoming = 0;
  for (auto& r : real.rows) {
    if (!owners.is_owner(r.sa) && incoming++ % 20 == 0) r.sa = ip("239.1.2.3");
  }
  FlowTable syn = make_dependent_flows(4, 300, 2);
  syn.rows[0].pkt = 0;  // breaks packets_positive only (the per-packet rules need pkt >= 1)
  const stan::EvalResult res = stan::evaluate({&real, &syn, nullptr, nullptr, "", "", "", ""});
  const auto& rules = stan::eval_rules();
  for (size_t k = 0; k < rules.size(); ++k) {
    INFO(rules[k].name);
    CHECK(res.rule_counted[k] == (rules[k].name != "source_not_multicast"));
  }
  CHECK(res.real().any_rule_broken == 0);  // the multicast rule is not counted
  CHECK(res.synthetic().any_rule_broken == 1);
  CHECK(res.synthetic().any_rule_rate == Approx(1.0 / static_cast<double>(syn.rows.size())));
}

TEST_CASE("eval: copies of training records", "[eval]") {
  FlowTable train = make_dependent_flows(2, 50, 3);
  FlowTable cand;
  cand.rows = {train.rows[0], train.rows[1], train.rows[2], train.rows[3]};
  cand.rows[0].te += 1000;  // time is ignored: still a copy
  cand.rows[1].fwd = 9;     // so is fwd
  cand.rows[2].td += 0.001;
  cand.rows[3].byt += 1;
  CHECK(stan::copy_share(cand, train) == Approx(0.5));
  CHECK(stan::copy_share(train, train) == 1.0);
  CHECK(stan::copy_share(FlowTable{}, train) == 0.0);
}

namespace {

void check_self_distances_zero(const stan::EvalResult& r) {
  const stan::SideDistance& d = r.vs_real[1];
  for (int f = 0; f < stan::kEvalFields; ++f) {
    INFO(stan::eval_field_name(f));
    CHECK(std::abs(d.field[f]) < 1e-12);
  }
  CHECK(std::abs(d.nmi_mad) < 1e-12);
  CHECK(std::abs(d.corr_mad) < 1e-12);
  CHECK(std::abs(d.acf_mad) < 1e-12);
  CHECK(std::abs(d.flows_per_host_w1) < 1e-12);
  CHECK(std::abs(d.remotes_per_host_w1) < 1e-12);
  CHECK(r.synthetic().any_rule_rate == r.real().any_rule_rate);
  CHECK(r.synthetic().power_law_slope == r.real().power_law_slope);
}

}  // namespace

TEST_CASE("eval: real data against itself gives zero distances", "[eval]") {
  SECTION("hand-made flows") {
    const FlowTable t = make_dependent_flows(10, 500, 4);
    const stan::EvalResult r = stan::evaluate({&t, &t, nullptr, &t, "", "", "", ""});
    check_self_distances_zero(r);
    CHECK(r.synthetic().copy_share == 1.0);
    CHECK(r.real().any_rule_rate == 0.0);
  }
  SECTION("bundled sample") {
    if (!std::filesystem::exists(kSample)) {
      WARN("bundled sample missing: " << kSample);
      return;
    }
    const FlowTable t = stan::read_flows(kSample);
    stan::EvalOptions opt;
    opt.owners.hosts = stan::read_host_list(kSampleHosts);
    const stan::EvalResult r = stan::evaluate({&t, &t, nullptr, nullptr, "", "", "", ""}, opt);
    check_self_distances_zero(r);
    CHECK(r.real().hosts == 41);
    CHECK(r.real().records_outside_owners == 0);
  }
}

namespace {

// Joint and rule metrics clearly worse for the baseline; its marginals stay small.
void check_baseline_breaks_structure(const FlowTable& real, const stan::OwnerSelector& owners,
                                     double marginal_tol) {
  stan::BaselineOptions bo;
  bo.owners = owners;
  bo.seed = 11;
  const FlowTable base = stan::sample_independent_baseline(real, bo);
  stan::EvalOptions opt;
  opt.owners = owners;
  const stan::EvalResult r = stan::evaluate({&real, &base, nullptr, nullptr, "", "", "", ""}, opt);
  const stan::SideDistance& d = r.vs_real[1];
  using F = stan::EvalField;
  for (int f : {0, 1, 2, 3, 4, 5, 6}) {  // categorical fields drawn directly (hour is not)
    INFO(stan::eval_field_name(f));
    CHECK(d.field[f] < marginal_tol);
  }
  for (F f : {F::bytes, F::packets, F::duration}) {
    INFO(stan::eval_field_name(static_cast<int>(f)));
    CHECK(d.field[static_cast<int>(f)] < marginal_tol);
  }
  // Derived from independent bytes and packets: far off.
  CHECK(d.field[static_cast<int>(F::bytes_per_packet)] > 3 * marginal_tol);
  CHECK(d.nmi_mad > 0.05);
  CHECK(d.corr_mad > 0.15);
  CHECK(d.acf_mad > 0.05);
  CHECK(r.synthetic().any_rule_rate > 0.2);
  CHECK(r.synthetic().any_rule_rate > 20 * r.real().any_rule_rate);
}

}  // namespace

TEST_CASE("eval: the independent baseline keeps marginals and breaks dependence", "[eval]") {
  SECTION("hand-made flows") {
    check_baseline_breaks_structure(make_dependent_flows(20, 1500, 5), {}, 0.02);
  }
  SECTION("bundled sample") {
    if (!std::filesystem::exists(kSample)) {
      WARN("bundled sample missing: " << kSample);
      return;
    }
    stan::OwnerSelector owners;
    owners.hosts = stan::read_host_list(kSampleHosts);
    check_baseline_breaks_structure(stan::read_flows(kSample), owners, 0.03);
  }
}

TEST_CASE("eval: table, JSON, report and the train-on-synthetic hook", "[eval]") {
  const FlowTable real = make_dependent_flows(6, 300, 6);
  const FlowTable syn = make_dependent_flows(6, 300, 7);
  const FlowTable base = stan::sample_independent_baseline(real, {});
  stan::EvalOptions opt;
  opt.hist_bins = 120;  // long polylines in the report
  int calls = 0;
  opt.tstr = [&](const stan::TstrInputs& in) {
    ++calls;
    CHECK(in.real == &real);
    CHECK(in.baseline == &base);
    return std::vector<stan::TaskScore>{{"protocol classifier", "macro-F1", 0.97, 0.94, 0.5}};
  };
  const stan::EvalResult r =
      stan::evaluate({&real, &syn, &base, &real, "r.csv", "s.csv", "b.csv", "t.csv"}, opt);
  CHECK(calls == 1);
  REQUIRE(r.has_baseline());
  REQUIRE(r.tstr.size() == 1);

  const std::string table = stan::format_eval_table(r);
  CHECK_THAT(table, Contains("mean JS, 8 categorical fields"));
  CHECK_THAT(table, Contains("baseline"));
  CHECK_THAT(table, Contains("protocol classifier (macro-F1)"));
  CHECK_THAT(table, Contains("share copying a training record"));

  const nlohmann::json j = stan::eval_to_json(r);
  CHECK(j["fields"].size() == stan::kEvalFields);
  CHECK(j["rules"].size() == stan::eval_rules().size());
  CHECK(j["sides"]["synthetic"]["distance_to_real"]["nmi_mad"].get<double>() ==
        Approx(r.vs_real[1].nmi_mad));
  CHECK(j["sides"]["real"]["copy_share"].get<double>() == 1.0);
  CHECK(j["sides"]["baseline"]["path"] == "b.csv");
  CHECK(j["tstr"][0]["train_on_synthetic"].get<double>() == 0.94);
  CHECK(j["fields"][8]["w1_scale"].get<double>() > 0);

  const std::string html = stan::render_html_report(r);
  CHECK_THAT(html, Contains("<svg"));
  // Well-formed SVG: every element opened is closed; long polylines are not cut short.
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t p = html.find(what); p != std::string::npos; p = html.find(what, p + 1)) ++n;
    return n;
  };
  CHECK(count("<svg ") == count("</svg>"));
  CHECK(count("<svg ") >= 25);
  size_t long_lines = 0;
  for (size_t p = html.find("<polyline"); p != std::string::npos;
       p = html.find("<polyline", p + 1)) {
    const size_t end = html.find('<', p + 1);
    REQUIRE(end != std::string::npos);
    CHECK(html.compare(end - 2, 2, "/>") == 0);
    long_lines += end - p > 2000;
  }
  CHECK(long_lines > 0);
  CHECK_THAT(html, Contains("protocol classifier"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  // The only URL is the SVG namespace.
  size_t urls = 0, ns = 0;
  for (size_t p = html.find("http"); p != std::string::npos; p = html.find("http", p + 1)) ++urls;
  for (size_t p = html.find("http://www.w3.org/2000/svg"); p != std::string::npos;
       p = html.find("http://www.w3.org/2000/svg", p + 1)) {
    ++ns;
  }
  CHECK(urls == ns);

  const auto dir = std::filesystem::temp_directory_path() / "stan_test_eval_report";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  stan::write_html_report((dir / "r.html").string(), r);
  CHECK(std::filesystem::file_size(dir / "r.html") == html.size());
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);  // no temp left
  CHECK_THROWS_AS(stan::write_html_report((dir / "missing" / "r.html").string(), r), stan::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("eval: errors name the problem", "[eval]") {
  const FlowTable real = make_dependent_flows(2, 50, 8);
  FlowTable outside;
  FlowRecord r;
  r.sa = ip("1.2.3.4");
  r.da = ip("5.6.7.8");
  r.pkt = 1;
  r.byt = 40;
  outside.rows.push_back(r);
  CHECK_THROWS_WITH(stan::evaluate({&real, &outside, nullptr, nullptr, "", "syn.csv", "", ""}),
                    Contains("synthetic data (syn.csv) has no flow touching an owner host"));
  CHECK_THROWS_AS(stan::evaluate({&real, nullptr, nullptr, nullptr, "", "", "", ""}), stan::Error);
  stan::EvalOptions bad;
  bad.max_lag = 0;
  CHECK_THROWS_AS(stan::evaluate({&real, &real, nullptr, nullptr, "", "", "", ""}, bad),
                  stan::Error);
}

TEST_CASE("eval: owner host lists", "[eval]") {
  const auto dir = std::filesystem::temp_directory_path() / "stan_test_eval_hosts";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "hosts.csv").string(), bad = (dir / "bad.txt").string();
  std::ofstream(good) << "host_ip,category\n42.219.1.2,both\n\n# note\n42.219.1.1,in-only\r\n"
                         "42.219.1.2,both\n";
  std::ofstream(bad) << "42.219.1.1\nnot-an-ip\n";
  CHECK(stan::read_host_list(good) == std::vector<uint32_t>{ip("42.219.1.1"), ip("42.219.1.2")});
  CHECK_THROWS_WITH(stan::read_host_list(bad), Contains("bad.txt:2"));
  CHECK_THROWS_AS(stan::read_host_list((dir / "none").string()), stan::Error);
  std::filesystem::remove_all(dir);
}
