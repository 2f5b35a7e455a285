// `stan eval` output: the readable table and the JSON document.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "stan/eval/eval.h"
#include "stan/eval/verdict.h"
#include "stan/io/flow_io.h"
#include "stan/io/text_format.h"

namespace stan {

namespace {

std::string num(double v, int prec = 4) {
  return format_number(v, prec);
}

std::string pct(double v) {
  return std::isfinite(v) ? strprintf("%.3f%%", 100 * v) : "-";
}

std::string grouped(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return v < 0 ? "-" + out : out;
}

double rate(int64_t broken, int64_t applies) {
  return applies > 0 ? static_cast<double>(broken) / static_cast<double>(applies) : std::nan("");
}

// One table row: a label column then right-aligned value columns.
std::string row(const std::string& label, const std::vector<std::string>& cells, int lw = 38,
                int cw = 16) {
  std::string s = "  " + label;
  if (static_cast<int>(s.size()) < lw + 2) s.resize(static_cast<size_t>(lw + 2), ' ');
  for (const auto& c : cells) s += strprintf("%*s", cw, c.c_str());
  return s + "\n";
}

std::string counts(const CountSummary& c) {
  return strprintf("%lld/%lld/%lld", static_cast<long long>(c.min),
                   static_cast<long long>(c.median), static_cast<long long>(c.max));
}

}  // namespace

std::string format_eval_table(const EvalResult& r) {
  const size_t ns = r.sides.size();
  std::vector<std::string> side_names, other_names;
  for (const auto& s : r.sides) side_names.push_back(s.label);
  for (size_t i = 1; i < ns; ++i) other_names.push_back(r.sides[i].label);
  auto per_side = [&](auto fn) {
    std::vector<std::string> v;
    for (const auto& s : r.sides) v.push_back(fn(s));
    return v;
  };
  auto per_other = [&](auto fn) {
    std::vector<std::string> v;
    for (size_t i = 1; i < ns; ++i) v.push_back(fn(r.vs_real[i]));
    return v;
  };
  std::string o;
  const Verdict verdict = judge(r);
  o += "verdict: " + verdict.summary + "\n";
  for (const auto& w : verdict.warnings) o += "  warning: " + w + "\n";
  o += "  judged against " + verdict.basis + "\n";
  for (const auto& m : verdict.headline) {
    o += strprintf("  %-4s %-58s %10s  (%s %s %s, warn %s)\n", grade_name(m.grade), m.label.c_str(),
                   num(m.value).c_str(), m.basis.c_str(),
                   m.higher_is_better ? "pass >=" : "pass <=", num(m.pass_at).c_str(),
                   num(m.warn_at).c_str());
  }
  o += "\nstan eval: owners " + r.owners + "\n\n";
  o += row("side", {"records", "host flows", "hosts", "outside owners", "hours"}, 12, 16);
  for (const auto& s : r.sides) {
    o += row(s.label,
             {grouped(s.records), grouped(s.host_flows), grouped(s.hosts),
              grouped(s.records_outside_owners),
              strprintf("%.1f", static_cast<double>(s.last_te - s.first_te) / 3600.0)},
             12, 16);
    if (!s.path.empty())
      o += "      " + s.path + (s.label == "floor" ? ", owners " + s.owners : "") + "\n";
  }

  o += "\nMarginals: distance to real (0 = same). JS: Jensen-Shannon, base 2, in [0,1].\n"
       "W1: Wasserstein-1 of log1p(value) / real range of log1p(value). Unit: host flows.\n";
  o += row("field (metric)", other_names);
  for (int f = 0; f < kEvalFields; ++f) {
    const std::string label =
        std::string(eval_field_name(f)) + (f < kEvalCategorical ? " (JS)" : " (W1)");
    o += row(label, per_other([&](const SideDistance& d) { return num(d.field[f]); }));
  }
  o += row("mean JS, 8 categorical fields",
           per_other([](const SideDistance& d) { return num(d.js_mean); }));
  o += row("mean W1, 5 continuous fields",
           per_other([](const SideDistance& d) { return num(d.w1_mean); }));

  o += "\nDependence: mean |difference| to real over pairs i<j.\n";
  o += row("", other_names);
  o += row("NMI, 13 fields (78 pairs)",
           per_other([](const SideDistance& d) { return num(d.nmi_mad); }));
  o += row("Pearson, log1p continuous (10 pairs)",
           per_other([](const SideDistance& d) { return num(d.corr_mad); }));

  o += strprintf(
      "\nDomain rules: share of records breaking the rule, over the records it applies to.\n"
      "Rules broken by over %.1f%% of the real records they apply to are not counted (*).\n",
      100 * r.rule_real_tolerance);
  std::vector<std::string> rule_head = {"applies(real)"};
  rule_head.insert(rule_head.end(), side_names.begin(), side_names.end());
  o += row("rule", rule_head, 30);
  const auto& rules = eval_rules();
  for (size_t k = 0; k < rules.size(); ++k) {
    std::vector<std::string> cells = {grouped(r.real().rules.applies[k])};
    for (const auto& s : r.sides) cells.push_back(pct(rate(s.rules.broken[k], s.rules.applies[k])));
    o += row(rules[k].name + (r.rule_counted[k] ? "" : " (*)"), cells, 30);
  }
  std::vector<std::string> any_cells = {""};
  for (const auto& s : r.sides) any_cells.push_back(pct(s.any_rule_rate));
  o += row("any counted rule (all records)", any_cells, 30);

  o += "\nHost streams (owners " + r.owners +
       "). Autocorrelation of log1p(bytes): pooled over hosts, each centred on its own mean.\n";
  o += row("", side_names);
  for (int k = 0; k < r.max_lag; ++k) {
    o += row(strprintf("acf lag %d", k + 1), per_side([&](const SideSummary& s) {
               return k < static_cast<int>(s.acf.size()) ? num(s.acf[k], 3) : "-";
             }));
  }
  auto with_dash = [&](std::vector<std::string> v) {
    v.insert(v.begin(), "-");
    return v;
  };
  o += row("acf mean |diff| to real",
           with_dash(per_other([](const SideDistance& d) { return num(d.acf_mad); })));
  o += row("flows per host min/median/max",
           per_side([](const SideSummary& s) { return counts(s.flows_per_host); }));
  o += row("flows per host W1 (log1p, normalised)",
           with_dash(per_other([](const SideDistance& d) { return num(d.flows_per_host_w1); })));
  o += row("remote IPs per host min/median/max",
           per_side([](const SideSummary& s) { return counts(s.remotes_per_host); }));
  o += row("remote IPs per host W1 (normalised)",
           with_dash(per_other([](const SideDistance& d) { return num(d.remotes_per_host_w1); })));
  // Host roles: the hosts' main services, the JS of their distributions and the shares of hosts
  // of the four commonest roles of each side.
  o += row("hosts' main service (JS)",
           with_dash(per_other([](const SideDistance& d) { return num(d.host_role_js); })));
  o += row("hosts' service mix (JS)",
           with_dash(per_other([](const SideDistance& d) { return num(d.host_service_js); })));
  std::vector<std::string> roles;
  for (const auto& side : r.sides) {
    std::vector<std::pair<int64_t, std::string>> by_hosts;
    for (const auto& [name, hosts] : side.host_roles) by_hosts.emplace_back(-hosts, name);
    std::sort(by_hosts.begin(), by_hosts.end());
    for (size_t k = 0; k < by_hosts.size() && k < 4; ++k)
      if (std::find(roles.begin(), roles.end(), by_hosts[k].second) == roles.end())
        roles.push_back(by_hosts[k].second);
  }
  for (const std::string& role : roles) {
    o += row("  hosts mainly " + role, per_side([&](const SideSummary& s) {
               const auto it = s.host_roles.find(role);
               return pct(s.hosts > 0 && it != s.host_roles.end()
                              ? static_cast<double>(it->second) / static_cast<double>(s.hosts)
                              : 0.0);
             }));
  }
  o += row("distinct remote IPs per flow (pooled)",
           per_side([](const SideSummary& s) { return num(s.distinct_remotes_per_flow, 3); }));
  o += row("distinct remote IPs / flows, host mean", per_side([](const SideSummary& s) {
             return num(s.distinct_remotes_per_flow_host_mean, 3);
           }));
  o += row("flows returning to a remote",
           per_side([](const SideSummary& s) { return pct(s.returns_share); }));
  o += row("  of them: the remote's last service",
           per_side([](const SideSummary& s) { return pct(s.return_same_service); }));
  o += row("  of them: its last port classes",
           per_side([](const SideSummary& s) { return pct(s.return_same_ports); }));
  o += row("  of them: its last service, packets and bytes",
           per_side([](const SideSummary& s) { return pct(s.return_same_size); }));
  o += row("flows to the previous flow's remote",
           per_side([](const SideSummary& s) { return pct(s.repeat_remote_share); }));
  o += row("flows to their host's top remote",
           per_side([](const SideSummary& s) { return pct(s.top_remote_share); }));
  o += row("  median over hosts",
           per_side([](const SideSummary& s) { return pct(s.top_remote_share_median); }));
  o += row("flows to their host's 10 top remotes",
           per_side([](const SideSummary& s) { return pct(s.top10_remote_share); }));
  o += row("flows of the 100 busiest host-remote pairs",
           per_side([](const SideSummary& s) { return pct(s.top_pairs_share); }));
  o += row("flows of a service with its busiest host",
           per_side([](const SideSummary& s) { return pct(s.service_top_host_share); }));
  o += row("flows of a service with its busiest pair",
           per_side([](const SideSummary& s) { return pct(s.service_top_pair_share); }));
  o += row("5 busiest hosts' share of flows",
           per_side([](const SideSummary& s) { return pct(s.top5_host_share); }));
  o += row("zero inter-arrival share",
           per_side([](const SideSummary& s) { return pct(s.zero_interarrival_share); }));
  o += row("zero duration share",
           per_side([](const SideSummary& s) { return pct(s.zero_duration_share); }));
  o += row("one-packet share",
           per_side([](const SideSummary& s) { return pct(s.one_packet_share); }));
  o += row("TCP share, host rows 0-4",
           per_side([](const SideSummary& s) { return pct(s.tcp_share_rows_0_4); }));
  o += row("TCP share, host rows 5-49",
           per_side([](const SideSummary& s) { return pct(s.tcp_share_rows_5_49); }));

  o += "\nRemote IPs: rank-frequency power law (least squares, log-spaced ranks).\n";
  o += row("", side_names);
  o += row("distinct remote IPs",
           per_side([](const SideSummary& s) { return grouped(s.distinct_remote_ips); }));
  o += row("log-log slope",
           per_side([](const SideSummary& s) { return num(s.power_law_slope, 3); }));

  if (r.has_train) {
    o += "\nCopies: share of records identical to a training record on (td,sa,da,sp,dp,pr,flg,\n"
         "stos,pkt,byt); the real row is real-vs-train (what unrelated real traffic shares).\n";
    o += row("", side_names);
    o +=
        row("share copying a training record",
            per_side([](const SideSummary& s) { return s.copy_share ? pct(*s.copy_share) : "-"; }));
  }

  o += "\nTrain on synthetic, test on real:";
  if (r.tstr.empty()) {
    o += " not computed (stan eval --no-tstr, or EvalOptions::tstr unset).\n";
  } else {
    o += '\n';
    o += row("task (metric)",
             {"train real", "train synth", "train base", "synth/real", "base/real"}, 38, 13);
    for (const auto& t : r.tstr) {
      o += row(t.task + " (" + t.metric + ")",
               {num(t.train_on_real, 3), num(t.train_on_synthetic, 3), num(t.train_on_baseline, 3),
                num(t.train_on_synthetic / t.train_on_real, 3),
                num(t.train_on_baseline / t.train_on_real, 3)},
               38, 13);
    }
    o += "  (ratio = score / train-on-real score; ";
    for (size_t i = 0; i < r.tstr.size(); ++i) {
      o +=
          (i ? ", " : "") + r.tstr[i].metric + (r.tstr[i].lower_is_better ? ": lower" : ": higher");
    }
    o += " is better)\n";
    for (const auto& t : r.tstr) {
      if (t.description.empty()) continue;
      // Word-wrapped at about 100 columns, continuation lines indented.
      std::string line = "  " + t.task + ":";
      size_t p = 0;
      while (p < t.description.size()) {
        size_t q = t.description.find(' ', p);
        if (q == std::string::npos) q = t.description.size();
        const std::string word = t.description.substr(p, q - p);
        if (line.size() + 1 + word.size() > 100) {
          o += line + "\n";
          line = "   ";
        }
        line += " " + word;
        p = q + 1;
      }
      o += line + "\n";
    }
  }
  return o;
}

nlohmann::json eval_to_json(const EvalResult& r) {
  using nlohmann::json;
  auto finite = [](double v) -> json { return std::isfinite(v) ? json(v) : json(nullptr); };
  auto vec = [&](const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(finite(x));
    return a;
  };
  json j;
  j["verdict"] = verdict_to_json(judge(r));
  j["definitions"] = {
      {"unit",
       "host flow: a record seen from its owner host (a record between two owners "
       "counts once per owner); rules and copies use records"},
      {"owners", r.owners},
      {"js", "Jensen-Shannon divergence, base 2, in [0,1], over the categories of both sides"},
      {"w1",
       "Wasserstein-1 of log1p(value) divided by the real data's range of log1p(value) "
       "(w1_scale); 0 = same"},
      {"interarrival",
       "seconds since the host's previous flow; marginal skips each host's "
       "first flow, dependence uses 0 for it"},
      {"port_class", "p if p < 1024 else 1024 + (p - 1024) / 100 (1670 classes)"},
      {"nmi",
       "I(X;Y)/sqrt(H(X)H(Y)); continuous fields binned at real-data quantiles "
       "(nmi_edges, log1p scale); mad over pairs i<j"},
      {"corr", "Pearson correlation of log1p continuous fields; mad over pairs i<j"},
      {"acf",
       "autocorrelation of log1p(bytes) per host stream, pooled over hosts, each host "
       "centred on its own mean; lag-k products averaged over all lag-k pairs"},
      {"power_law",
       "least-squares slope of log10(flows) vs log10(rank) of remote IPs, over "
       "ranks round(1.25^i) and the last rank"},
      {"returns",
       "host flows to a remote the host has had a flow with; return_same_service: the same "
       "protocol and lower port class as that remote's previous flow with the host; "
       "return_same_ports: the same protocol and both port classes; return_same_size: the same "
       "service, packets and bytes"},
      {"host_roles",
       "per host, its main service: the role (serves: the host's port has the lower port class, "
       "or with equal classes the flow comes in; else uses), protocol and lower port class of "
       "most of its flows (ties: the first by role, protocol, class); host_role_js: JS "
       "divergence of the hosts' main services to the real side's"},
      {"host_services",
       "per service (as in host_roles), its share of a host's flows averaged over hosts (each "
       "host counts once); host_service_js: JS divergence of this mix to the real side's"},
      {"top_pairs_share",
       "the flows of the 100 (host, remote) pairs with the most flows, over all hosts, as a share "
       "of all host flows"},
      {"service_top_host_share",
       "per service (as in host_roles), the flows of its busiest host with it; summed over "
       "services, as a share of all host flows"},
      {"service_top_pair_share",
       "per service (as in host_roles), the flows of its busiest (host, remote) pair with it; "
       "summed over services, as a share of all host flows"},
      {"copy_key", "identical (td,sa,da,sp,dp,pr,flg,stos,pkt,byt); te, fwd, label ignored"},
      {"rule_real_tolerance", r.rule_real_tolerance},
  };
  json fields = json::array();
  for (int f = 0; f < kEvalFields; ++f) {
    json e = {{"name", eval_field_name(f)},
              {"kind", f < kEvalCategorical ? "categorical" : "continuous"},
              {"metric", f < kEvalCategorical ? "js" : "w1"}};
    if (f >= kEvalCategorical) {
      const int c = f - kEvalCategorical;
      e["w1_scale"] = r.w1_scale[c];
      e["real_log1p_min"] = r.w1_lo[c];
      e["nmi_edges"] = r.nmi_edges[c];
    }
    for (size_t i = 1; i < r.sides.size(); ++i) e[r.sides[i].label] = finite(r.vs_real[i].field[f]);
    fields.push_back(e);
  }
  j["fields"] = fields;
  json sides = json::object();
  for (size_t i = 0; i < r.sides.size(); ++i) {
    const SideSummary& s = r.sides[i];
    const SideDistance& d = r.vs_real[i];
    json rules = json::array();
    for (size_t k = 0; k < eval_rules().size(); ++k) {
      rules.push_back({{"name", eval_rules()[k].name},
                       {"applies", s.rules.applies[k]},
                       {"broken", s.rules.broken[k]},
                       {"rate", finite(rate(s.rules.broken[k], s.rules.applies[k]))}});
    }
    auto cs = [](const CountSummary& c) {
      return json{{"min", c.min}, {"median", c.median}, {"max", c.max}, {"mean", c.mean}};
    };
    sides[s.label] = {
        {"path", s.path},
        {"owners", s.owners},
        {"records", s.records},
        {"first_te", format_time(s.first_te)},
        {"last_te", format_time(s.last_te)},
        {"host_flows", s.host_flows},
        {"hosts", s.hosts},
        {"records_outside_owners", s.records_outside_owners},
        {"distance_to_real",
         {{"js_mean", finite(d.js_mean)},
          {"w1_mean", finite(d.w1_mean)},
          {"nmi_mad", finite(d.nmi_mad)},
          {"corr_mad", finite(d.corr_mad)},
          {"acf_mad", finite(d.acf_mad)},
          {"flows_per_host_w1", finite(d.flows_per_host_w1)},
          {"remotes_per_host_w1", finite(d.remotes_per_host_w1)},
          {"host_role_js", finite(d.host_role_js)},
          {"host_service_js", finite(d.host_service_js)},
          {"fields", vec(d.field)}}},
        {"nmi", vec(s.nmi)},
        {"corr", vec(s.corr)},
        {"rules", rules},
        {"any_rule_rate", s.any_rule_rate},
        {"any_rule_broken", s.any_rule_broken},
        {"acf", vec(s.acf)},
        {"flows_per_host", cs(s.flows_per_host)},
        {"remotes_per_host", cs(s.remotes_per_host)},
        {"distinct_remotes_per_flow", s.distinct_remotes_per_flow},
        {"distinct_remotes_per_flow_host_mean", s.distinct_remotes_per_flow_host_mean},
        {"top5_host_share", s.top5_host_share},
        {"host_roles", s.host_roles},
        {"host_services", s.host_services},
        {"service_top_host_share", finite(s.service_top_host_share)},
        {"service_top_pair_share", finite(s.service_top_pair_share)},
        {"returns_share", s.returns_share},
        {"return_same_service", finite(s.return_same_service)},
        {"return_same_ports", finite(s.return_same_ports)},
        {"return_same_size", finite(s.return_same_size)},
        {"repeat_remote_share", finite(s.repeat_remote_share)},
        {"top_remote_share", finite(s.top_remote_share)},
        {"top_remote_share_median", finite(s.top_remote_share_median)},
        {"top10_remote_share", finite(s.top10_remote_share)},
        {"top_pairs_share", finite(s.top_pairs_share)},
        {"zero_interarrival_share", finite(s.zero_interarrival_share)},
        {"zero_duration_share", s.zero_duration_share},
        {"one_packet_share", s.one_packet_share},
        {"tcp_share_rows_0_4", finite(s.tcp_share_rows_0_4)},
        {"tcp_share_rows_5_49", finite(s.tcp_share_rows_5_49)},
        {"distinct_remote_ips", s.distinct_remote_ips},
        {"power_law_slope", finite(s.power_law_slope)},
        {"copy_share", s.copy_share ? json(*s.copy_share) : json(nullptr)},
    };
  }
  j["sides"] = sides;
  json fnames = json::array();
  for (int f = 0; f < kEvalFields; ++f) fnames.push_back(eval_field_name(f));
  j["nmi_fields"] = fnames;
  json cnames = json::array();
  for (int f = kEvalCategorical; f < kEvalFields; ++f) cnames.push_back(eval_field_name(f));
  j["corr_fields"] = cnames;
  json rules = json::array();
  for (size_t k = 0; k < eval_rules().size(); ++k) {
    rules.push_back({{"name", eval_rules()[k].name},
                     {"description", eval_rules()[k].description},
                     {"counted", static_cast<bool>(r.rule_counted[k])}});
  }
  j["rules"] = rules;
  json tstr = json::array();
  for (const auto& t : r.tstr) {
    tstr.push_back({{"task", t.task},
                    {"metric", t.metric},
                    {"train_on_real", finite(t.train_on_real)},
                    {"train_on_synthetic", finite(t.train_on_synthetic)},
                    {"train_on_baseline", finite(t.train_on_baseline)},
                    {"synthetic_to_real", finite(t.train_on_synthetic / t.train_on_real)},
                    {"baseline_to_real", finite(t.train_on_baseline / t.train_on_real)},
                    {"lower_is_better", t.lower_is_better},
                    {"description", t.description}});
  }
  j["tstr"] = r.tstr.empty() ? json(nullptr) : tstr;
  return j;
}

}  // namespace stan
