// `stan eval` as a whole (stan/eval/eval.cpp): rules the real data breaks, copies, real data
// against itself and against the independent baseline, the table, JSON and report of one
// result with the train-on-synthetic hook, errors, and owner host lists.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "stan/eval/baseline.h"
#include "stan/eval/eval.h"
#include "stan/eval/eval_test_util.h"
#include "stan/eval/report_html.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::eval_test::ip;
using stan::eval_test::make_dependent_flows;

namespace {

const std::string kSample = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
const std::string kSampleHosts = std::string(STAN_ASSETS_DIR) + "/sample/hosts.csv";

// One flow between host and remote, a second after the table's last: the remote asks the host's
// port (serves) or the host asks the remote's.
void add_flow(FlowTable& t, uint32_t host, uint32_t remote, bool serves, uint8_t pr,
              uint16_t port) {
  FlowRecord r;
  r.te = 1460332800 + static_cast<int64_t>(t.rows.size());
  r.sa = serves ? remote : host;
  r.da = serves ? host : remote;
  r.sp = 40000;
  r.dp = port;
  r.pr = pr;
  r.pkt = 1;
  r.byt = 80;
  t.rows.push_back(r);
}

}  // namespace

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

TEST_CASE("eval: returns to a remote keep or change its service and port classes", "[eval]") {
  // One host, remote A: TCP 443 from port 40000, again from 40001 (same classes), from 50000
  // (same service, another local port class), then UDP 53 (another service); remote B once.
  FlowTable t;
  const uint32_t host = ip("42.219.1.1"), A = ip("60.0.0.1"), B = ip("60.0.0.2");
  auto flow = [&](uint32_t remote, uint16_t sp, uint16_t dp, uint8_t pr, int64_t pkt = 1) {
    FlowRecord r;
    r.te = 1460332800 + static_cast<int64_t>(t.rows.size());
    r.sa = host;
    r.da = remote;
    r.sp = sp;
    r.dp = dp;
    r.pr = pr;
    r.pkt = pkt;
    r.byt = 80 * pkt;
    t.rows.push_back(r);
  };
  flow(A, 40000, 443, stan::proto::tcp);
  flow(B, 40000, 443, stan::proto::tcp);
  flow(A, 40001, 443, stan::proto::tcp);
  flow(A, 50000, 443, stan::proto::tcp, 2);
  flow(A, 50000, 53, stan::proto::udp, 2);
  const stan::EvalResult r = stan::evaluate({&t, &t, nullptr, nullptr, "", "", "", ""});
  const stan::SideSummary& s = r.real();
  CHECK(s.returns_share == Approx(3.0 / 5.0));        // A's 2nd, 3rd and 4th flows
  CHECK(s.return_same_service == Approx(2.0 / 3.0));  // TCP 443, TCP 443, then UDP 53
  CHECK(s.return_same_ports == Approx(1.0 / 3.0));    // only 40001 shares 40000's class
  CHECK(s.return_same_size == Approx(1.0 / 3.0));     // 40001: 1 packet again; then 2; UDP
  CHECK(s.repeat_remote_share == Approx(2.0 / 4.0));  // A, B, A, A, A: the last two repeat
  const std::string text = stan::format_eval_table(r);
  CHECK_THAT(text, Contains("of them: the remote's last service"));
  CHECK_THAT(text, Contains("flows to the previous flow's remote"));
  CHECK_THAT(text, Contains("of them: its last service, packets and bytes"));
  CHECK(stan::eval_to_json(r).at("sides").at("real").at("repeat_remote_share") == Approx(0.5));
  CHECK(stan::eval_to_json(r).at("sides").at("real").at("return_same_ports") == Approx(1.0 / 3.0));
}

TEST_CASE("eval: hosts' main services and the JS of their distributions", "[eval]") {
  // Real: host 1 serves web (3 flows in, 1 DNS lookup out), host 2 asks DNS, host 3 serves SSH
  // once and web once (a tie: serves TCP 22 comes first). Synthetic: hosts 1 and 2 as real,
  // host 3 asks DNS.
  auto table = [](bool real) {
    FlowTable t;
    auto flow = [&](uint32_t host, bool serves, uint8_t pr, uint16_t port) {
      add_flow(t, host, ip("60.0.0.1") + static_cast<uint32_t>(t.rows.size()), serves, pr, port);
    };
    const uint32_t h1 = ip("42.219.1.1"), h2 = ip("42.219.1.2"), h3 = ip("42.219.1.3");
    for (int i = 0; i < 3; ++i) flow(h1, true, stan::proto::tcp, 80);
    flow(h1, false, stan::proto::udp, 53);
    flow(h2, false, stan::proto::udp, 53);
    if (real) {
      flow(h3, true, stan::proto::tcp, 80);
      flow(h3, true, stan::proto::tcp, 22);
    } else {
      flow(h3, false, stan::proto::udp, 53);
    }
    return t;
  };
  const FlowTable real = table(true), syn = table(false);
  const stan::EvalResult r = stan::evaluate({&real, &syn, nullptr, nullptr, "", "", "", ""});
  using Roles = std::map<std::string, int64_t>;
  CHECK(r.real().host_roles ==
        Roles{{"serves_tcp_80", 1}, {"uses_udp_53", 1}, {"serves_tcp_22", 1}});
  CHECK(r.sides[1].host_roles == Roles{{"serves_tcp_80", 1}, {"uses_udp_53", 2}});
  // p = (1/3, 1/3, 1/3), q = (0, 1/3, 2/3) over serves_tcp_22, serves_tcp_80, uses_udp_53.
  const double m22 = 1.0 / 6, m53 = 0.5;
  const double want =
      0.5 * (1.0 / 3) * std::log2((1.0 / 3) / m22) +
      0.5 * ((1.0 / 3) * std::log2((1.0 / 3) / m53) + (2.0 / 3) * std::log2((2.0 / 3) / m53));
  CHECK(r.vs_real[1].host_role_js == Approx(want));
  const stan::EvalResult same = stan::evaluate({&real, &real, nullptr, nullptr, "", "", "", ""});
  CHECK(same.vs_real[1].host_role_js == 0);
  const std::string text = stan::format_eval_table(r);
  CHECK_THAT(text, Contains("hosts' main service (JS)"));
  CHECK_THAT(text, Contains("hosts mainly uses_udp_53"));
  const auto j = stan::eval_to_json(r).at("sides");
  CHECK(j.at("synthetic").at("distance_to_real").at("host_role_js") == Approx(want));
  CHECK(j.at("real").at("host_roles").at("serves_tcp_22") == 1);
  // The service mix, each host counting once. Real: serves_tcp_80 (3/4 + 1/2) / 3, uses_udp_53
  // (1/4 + 1) / 3, serves_tcp_22 (1/2) / 3. Synthetic: serves_tcp_80 (3/4) / 3, uses_udp_53
  // (1/4 + 1 + 1) / 3.
  using Mix = std::map<std::string, double>;
  const Mix real_mix{
      {"serves_tcp_22", 0.5 / 3}, {"serves_tcp_80", 1.25 / 3}, {"uses_udp_53", 1.25 / 3}};
  const Mix syn_mix{{"serves_tcp_80", 0.75 / 3}, {"uses_udp_53", 2.25 / 3}};
  for (const auto& [name, share] : real_mix)
    CHECK(r.real().host_services.at(name) == Approx(share));
  for (const auto& [name, share] : syn_mix)
    CHECK(r.sides[1].host_services.at(name) == Approx(share));
  CHECK(r.sides[1].host_services.size() == 2);
  double mix_js = 0;
  for (const auto& [name, a] : real_mix) {
    const double b = syn_mix.count(name) ? syn_mix.at(name) : 0.0, m = 0.5 * (a + b);
    mix_js += 0.5 * a * std::log2(a / m) + (b > 0 ? 0.5 * b * std::log2(b / m) : 0.0);
  }
  CHECK(r.vs_real[1].host_service_js == Approx(mix_js));
  CHECK(mix_js > 0.05);
  CHECK(same.vs_real[1].host_service_js == 0);
  CHECK_THAT(text, Contains("hosts' service mix (JS)"));
  CHECK(j.at("synthetic").at("distance_to_real").at("host_service_js") == Approx(mix_js));
  CHECK(j.at("real").at("host_services").at("serves_tcp_22") == Approx(0.5 / 3));
  // Each service's flows with its busiest host: real serves_tcp_80 3 (h1), uses_udp_53 1,
  // serves_tcp_22 1, of 7 host flows; synthetic 3 and 1 of 6.
  CHECK(r.real().service_top_host_share == Approx(5.0 / 7));
  CHECK(r.sides[1].service_top_host_share == Approx(4.0 / 6));
  CHECK_THAT(text, Contains("flows of a service with its busiest host"));
  CHECK(j.at("real").at("service_top_host_share") == Approx(5.0 / 7));
}

TEST_CASE("eval: each service's flows with its busiest host-remote pair", "[eval]") {
  // Web served by h1 to A three times and to B once, by h2 to C twice; DNS asked by h2 of D
  // twice and by h1 of D once (one remote, two pairs). Busiest pairs: web (h1, A) 3, DNS (h2,
  // D) 2, of 9 host flows; busiest hosts: web h1 4, DNS h2 2. The synthetic side spreads the
  // same services over a new remote per flow: its busiest pairs carry 1 flow each.
  auto table = [](bool spread) {
    FlowTable t;
    auto flow = [&](uint32_t host, uint32_t remote, bool serves, uint8_t pr, uint16_t port) {
      if (spread) remote = ip("70.0.0.1") + static_cast<uint32_t>(t.rows.size());
      add_flow(t, host, remote, serves, pr, port);
    };
    const uint32_t h1 = ip("42.219.1.1"), h2 = ip("42.219.1.2");
    const uint32_t a = ip("60.0.0.1"), b = ip("60.0.0.2"), c = ip("60.0.0.3"), dns = ip("60.0.0.4");
    for (int i = 0; i < 3; ++i) flow(h1, a, true, stan::proto::tcp, 80);
    flow(h1, b, true, stan::proto::tcp, 80);
    for (int i = 0; i < 2; ++i) flow(h2, c, true, stan::proto::tcp, 80);
    for (int i = 0; i < 2; ++i) flow(h2, dns, false, stan::proto::udp, 53);
    flow(h1, dns, false, stan::proto::udp, 53);
    return t;
  };
  const FlowTable real = table(false), syn = table(true);
  const stan::EvalResult r = stan::evaluate({&real, &syn, nullptr, nullptr, "", "", "", ""});
  CHECK(r.real().service_top_pair_share == Approx(5.0 / 9));
  CHECK(r.real().service_top_host_share == Approx(6.0 / 9));
  CHECK(r.sides[1].service_top_pair_share == Approx(2.0 / 9));
  CHECK(r.sides[1].service_top_host_share == Approx(6.0 / 9));
  CHECK_THAT(stan::format_eval_table(r), Contains("flows of a service with its busiest pair"));
  const auto j = stan::eval_to_json(r);
  CHECK(j.at("sides").at("real").at("service_top_pair_share") == Approx(5.0 / 9));
  CHECK(j.at("sides").at("synthetic").at("service_top_pair_share") == Approx(2.0 / 9));
  CHECK(j.at("definitions").contains("service_top_pair_share"));
}

namespace {
// One HTTPS flow from host to remote, a second after the table's last.
void add_client_flow(FlowTable& t, uint32_t host, uint32_t remote) {
  add_flow(t, host, remote, false, stan::proto::tcp, 443);
}
}  // namespace

TEST_CASE("eval: concentration on a host's top remotes, over flows and over hosts", "[eval]") {
  // Host 1: A three times, B once. Host 2: C twice, then 12 other remotes once each. Host 3: one
  // flow. Top remote flows 3 + 2 + 1 of 19; ten top remotes 4 + (2 + 9) + 1; per-host top shares
  // 3/4, 2/14, 1/1 (lower median 3/4).
  FlowTable t;
  auto flow = [&](uint32_t host, uint32_t remote) { add_client_flow(t, host, remote); };
  const uint32_t h1 = ip("42.219.1.1"), h2 = ip("42.219.1.2"), h3 = ip("42.219.1.3");
  const uint32_t A = ip("60.0.0.1"), B = ip("60.0.0.2"), C = ip("60.0.0.3");
  for (uint32_t remote : {A, B, A, A}) flow(h1, remote);
  flow(h2, C);
  for (uint32_t i = 0; i < 12; ++i) flow(h2, ip("61.0.0.1") + i);
  flow(h2, C);
  flow(h3, A);
  const stan::EvalResult r = stan::evaluate({&t, &t, nullptr, nullptr, "", "", "", ""});
  const stan::SideSummary& s = r.real();
  CHECK(s.top_remote_share == Approx(6.0 / 19.0));
  CHECK(s.top10_remote_share == Approx(16.0 / 19.0));
  CHECK(s.top_remote_share_median == Approx(3.0 / 4.0));
  CHECK_THAT(stan::format_eval_table(r), Contains("flows to their host's top remote"));
  const nlohmann::json j = stan::eval_to_json(r).at("sides").at("synthetic");
  CHECK(j.at("top10_remote_share") == Approx(16.0 / 19.0));
  CHECK(j.at("top_remote_share_median") == Approx(0.75));
  // 16 pairs, all among the 100 busiest.
  CHECK(s.top_pairs_share == Approx(1.0));
  CHECK(j.at("top_pairs_share") == Approx(1.0));
}

TEST_CASE("eval: the busiest host-remote pairs' share of flows counts the 100 largest pairs",
          "[eval]") {
  // Host 1: remote A 50 times, then 150 remotes once each; host 2: remote A 20 times. The 100
  // busiest pairs: 50 + 20 + 98 single flows, of 220 host flows.
  FlowTable t;
  auto flow = [&](uint32_t host, uint32_t remote) { add_client_flow(t, host, remote); };
  const uint32_t h1 = ip("42.219.1.1"), h2 = ip("42.219.1.2"), A = ip("60.0.0.1");
  for (int i = 0; i < 50; ++i) flow(h1, A);
  for (uint32_t i = 0; i < 150; ++i) flow(h1, ip("61.0.0.1") + i);
  for (int i = 0; i < 20; ++i) flow(h2, A);
  const stan::EvalResult r = stan::evaluate({&t, &t, nullptr, nullptr, "", "", "", ""});
  CHECK(r.real().top_pairs_share == Approx(168.0 / 220.0));
  CHECK(r.sides[1].top_pairs_share == Approx(168.0 / 220.0));
  CHECK_THAT(stan::format_eval_table(r), Contains("flows of the 100 busiest host-remote pairs"));
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
