// The `stan eval` HTML report: hand-written SVG charts in one self-contained page.
#include "stan/eval/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <numeric>

#include "stan/eval/report_charts.h"
#include "stan/eval/verdict.h"
#include "stan/io/flow_io.h"
#include "stan/io/text_format.h"
#include "tensor/atomic_file.h"

namespace stan {

namespace {

using namespace report;

// ---- Report sections --------------------------------------------------------------------

std::string category_label(int field, int c) {
  switch (static_cast<EvalField>(field)) {
    case EvalField::protocol:
      return protocol_name(static_cast<uint8_t>(c));
    case EvalField::flags:
      return format_flags(static_cast<uint8_t>(c));
    case EvalField::direction:
      return c == 1 ? "out" : "in";
    case EvalField::local_port:
    case EvalField::remote_port:
      return port_class_name(c);
    case EvalField::hour:
      return strprintf("%02d", c);
    default:
      return std::to_string(c);
  }
}

std::vector<double> shares(const std::vector<double>& counts) {
  const double s = std::accumulate(counts.begin(), counts.end(), 0.0);
  std::vector<double> out(counts.size(), 0.0);
  for (size_t i = 0; i < counts.size(); ++i) out[i] = s > 0 ? counts[i] / s : 0.0;
  return out;
}

// "protocol: JS synthetic 0.017, baseline 0.020"
// "local_port_class (JS to real)"; the legend carries each side's distance.
std::string field_title(int f) {
  return std::string(eval_field_name(f)) +
         (f < kEvalCategorical ? " (JS to real)" : " (W1 to real)");
}

// "synthetic 0.441" (the side's distance to real in field f), "real" for the real side.
std::string legend_name(const EvalResult& r, size_t k, int f) {
  if (k == 0) return r.sides[0].label;
  return r.sides[k].label + " " + num(r.vs_real[k].field[static_cast<size_t>(f)], 3);
}

std::string categorical_chart(const EvalResult& r, int f) {
  std::vector<std::vector<double>> p;
  for (const auto& s : r.sides) p.push_back(shares(s.hist[f]));
  const size_t n = p[0].size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto top = [&](size_t i) {
    double m = 0;
    for (const auto& q : p) m = std::max(m, q[i]);
    return m;
  };
  const bool natural =
      f == static_cast<int>(EvalField::hour) || f == static_cast<int>(EvalField::direction);
  size_t keep = natural ? n : std::min<size_t>(16, n);
  if (!natural) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return top(a) > top(b); });
    while (keep > 0 && top(order[keep - 1]) == 0) --keep;
  }
  std::vector<std::string> cats;
  std::vector<Bars> bars;
  for (size_t k = 0; k < r.sides.size(); ++k)
    bars.push_back({legend_name(r, k, f), side_color(r.sides[k].label), {}});
  for (size_t i = 0; i < keep; ++i) cats.push_back(category_label(f, static_cast<int>(order[i])));
  for (size_t k = 0; k < p.size(); ++k) {
    double shown = 0;
    for (size_t i = 0; i < keep; ++i) {
      bars[k].y.push_back(p[k][order[i]]);
      shown += p[k][order[i]];
    }
    if (keep < n) bars[k].y.push_back(std::max(0.0, 1 - shown));
  }
  if (keep < n) cats.push_back("other");
  return bar_chart(field_title(f), cats, bars, "share of host flows");
}

std::string continuous_chart(const EvalResult& r, int f) {
  const int c = f - kEvalCategorical;
  const auto& e = r.hist_edges[c];
  std::vector<Line> lines;
  double ymax = 0;
  for (size_t k = 0; k < r.sides.size(); ++k) {
    const auto p = shares(r.sides[k].hist[f]);
    Line l{legend_name(r, k, f), side_color(r.sides[k].label), {}};
    for (size_t i = 0; i < p.size(); ++i) {
      l.pts.emplace_back(e[i], p[i]);
      l.pts.emplace_back(e[i + 1], p[i]);
      ymax = std::max(ymax, p[i]);
    }
    lines.push_back(l);
  }
  const std::string unit =
      f == static_cast<int>(EvalField::duration) || f == static_cast<int>(EvalField::interarrival)
          ? " (s)"
          : "";
  Axis x{e.front(), e.back(), false, log1p_ticks(e.front(), e.back()),
         std::string(eval_field_name(f)) + unit + ", log1p scale"};
  Axis y{0, ymax > 0 ? ymax * 1.1 : 1, false, {}, "share"};
  return line_chart(field_title(f), x, y, lines);
}

std::string bytes_packets_maps(const EvalResult& r) {
  const int n = static_cast<int>(r.hist_edges[0].size()) - 1;
  const auto& eb = r.hist_edges[0];  // bytes
  const auto& ep = r.hist_edges[1];  // packets
  auto ticks = [&](const std::vector<double>& e) {
    std::vector<std::pair<double, std::string>> t;
    for (const auto& [x, label] : log1p_ticks(e.front(), e.back())) {
      t.emplace_back((x - e.front()) / (e.back() - e.front()) * n, label);
    }
    return t;
  };
  std::string s;
  for (const auto& side : r.sides) {
    Heat h;
    h.title = side.label + ": packets vs bytes (share, log colour)";
    h.scale_label = "per mille of host flows";
    h.rows = h.cols = n;
    h.v = shares(side.bytes_packets);
    h.vmax = *std::max_element(h.v.begin(), h.v.end());
    for (double& v : h.v) v *= 1000;  // log colour on per-mille shares
    h.vmax *= 1000;
    h.log_color = true;
    h.bottom_up = true;
    h.cell = 330.0 / n;
    h.x_ticks = ticks(eb);
    h.y_ticks = ticks(ep);
    h.x_label = "bytes (log1p scale)";
    h.y_label = "packets";
    s += heat_map(h);
  }
  return s;
}

std::string matrix_maps(const EvalResult& r, bool nmi) {
  const int dim = nmi ? kEvalFields : kEvalContinuous;
  const int first = nmi ? 0 : kEvalCategorical;
  std::vector<std::string> names;
  for (int f = 0; f < dim; ++f) names.push_back(eval_field_name(first + f));
  std::string s;
  auto base = [&](const std::string& title) {
    Heat h;
    h.title = title;
    h.rows = h.cols = dim;
    h.row_labels = h.col_labels = names;
    h.show_values = true;
    h.cell = nmi ? 27 : 44;
    return h;
  };
  for (const auto& side : r.sides) {
    Heat h = base(side.label + (nmi ? ": normalised mutual information" : ": Pearson r, log1p"));
    h.scale_label = nmi ? "NMI" : "Pearson r";
    h.v = nmi ? side.nmi : side.corr;
    h.diverging = !nmi;
    s += heat_map(h);
  }
  for (size_t k = 1; k < r.sides.size(); ++k) {
    Heat h = base("|" + r.sides[k].label + " - real|" + (nmi ? " NMI" : " correlation"));
    h.scale_label = "|difference|";
    const auto& a = nmi ? r.sides[k].nmi : r.sides[k].corr;
    const auto& b = nmi ? r.real().nmi : r.real().corr;
    for (size_t i = 0; i < a.size(); ++i) h.v.push_back(std::abs(a[i] - b[i]));
    s += heat_map(h);
  }
  return s;
}

std::string temporal_charts(const EvalResult& r) {
  std::string s;
  // Flows per hour of day.
  std::vector<Line> hours;
  double hmax = 0;
  for (size_t k = 0; k < r.sides.size(); ++k) {
    const auto p = shares(r.sides[k].hist[static_cast<int>(EvalField::hour)]);
    Line l{r.sides[k].label, side_color(r.sides[k].label), {}};
    for (size_t h = 0; h < p.size(); ++h) {
      l.pts.emplace_back(static_cast<double>(h), p[h]);
      hmax = std::max(hmax, p[h]);
    }
    hours.push_back(l);
  }
  s += line_chart("flows per hour of day (share)", Axis{0, 23, false, {}, "hour (UTC)"},
                  Axis{0, hmax * 1.15 + 1e-9, false, {}, "share of host flows"}, hours, true);
  // Autocorrelation.
  std::vector<Line> acf;
  double lo = 0, hi = 0.2;
  for (size_t k = 0; k < r.sides.size(); ++k) {
    Line l{r.sides[k].label, side_color(r.sides[k].label), {}};
    for (size_t i = 0; i < r.sides[k].acf.size(); ++i) {
      const double v = r.sides[k].acf[i];
      l.pts.emplace_back(static_cast<double>(i + 1), v);
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    acf.push_back(l);
  }
  s += line_chart("autocorrelation of log bytes in host streams",
                  Axis{1, static_cast<double>(r.max_lag), false, {}, "lag (flows)"},
                  Axis{std::max(-1.0, lo - 0.05), std::min(1.0, hi + 0.05), false, {}, "acf"}, acf,
                  true);
  // Remote-IP rank-frequency and flows per host, log-log.
  auto rank_chart = [&](const std::string& title, const std::string& ylabel, auto get) {
    std::vector<Line> lines;
    double xmax = 10, ymax = 10;
    for (size_t k = 0; k < r.sides.size(); ++k) {
      Line l{r.sides[k].label, side_color(r.sides[k].label), get(r.sides[k])};
      for (const auto& [a, b] : l.pts) xmax = std::max(xmax, a), ymax = std::max(ymax, b);
      lines.push_back(l);
    }
    return line_chart(title, Axis{1, xmax, true, {}, "rank"}, Axis{1, ymax, true, {}, ylabel},
                      lines);
  };
  s += rank_chart("remote IPs: rank vs flows (log-log)", "flows", [](const SideSummary& side) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [rank, f] : side.rank_freq) pts.emplace_back(rank, f);
    return pts;
  });
  s += rank_chart("hosts: rank vs flows per host (log-log)", "flows", [](const SideSummary& side) {
    std::vector<std::pair<double, double>> pts;
    for (const int64_t rank :
         log_rank_grid(static_cast<int64_t>(side.flows_per_host_sorted.size()))) {
      pts.emplace_back(rank, side.flows_per_host_sorted[static_cast<size_t>(rank - 1)]);
    }
    return pts;
  });
  return s;
}

std::string table_head(const std::vector<std::string>& cols) {
  std::string s = "<tr>";
  for (const auto& c : cols) s += "<th>" + esc(c) + "</th>";
  return s + "</tr>";
}

std::string table_row(const std::vector<std::string>& cells, const std::string& cls = "") {
  std::string s = cls.empty() ? "<tr>" : "<tr class='" + cls + "'>";
  for (size_t i = 0; i < cells.size(); ++i)
    s += (i == 0 ? "<td class='l'>" : "<td>") + cells[i] + "</td>";
  return s + "</tr>";
}

const char* grade_color(Grade g) {
  return g == Grade::pass ? "#cdebc5" : g == Grade::warn ? "#fbe3a4" : "#f4b8b8";
}

// A value on the background of its grade, the grade written out for readers without colour.
std::string graded_cell(const MetricVerdict& m) {
  return strprintf("<span class='d' style='background:%s' title='%s: pass %s %s, warn %s %s'>",
                   grade_color(m.grade), m.basis.c_str(), m.higher_is_better ? "&ge;" : "&le;",
                   num(m.pass_at).c_str(), m.higher_is_better ? "&ge;" : "&le;",
                   num(m.warn_at).c_str()) +
         num(m.value) + " " + grade_name(m.grade) + "</span>";
}

std::string verdict_section(const EvalResult& r, const Verdict& v) {
  std::string h =
      strprintf("<div class='verdict' style='background:%s'><b>", grade_color(v.overall));
  std::string grade = grade_name(v.overall);
  for (char& c : grade) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  h += grade + "</b> " + esc(v.summary.substr(v.summary.find(':') + 1)) + "</div>";
  if (!v.warnings.empty()) {
    h += "<div class='warnings'><b>Warnings</b><ul>";
    for (const auto& w : v.warnings) h += "<li>" + esc(w) + "</li>";
    h += "</ul></div>";
  }
  h += "<p class='note'>Judged against " + esc(v.basis) + ". Key: ";
  for (Grade g : {Grade::pass, Grade::warn, Grade::fail}) {
    h += strprintf("<span class='d' style='background:%s'>%s</span> ", grade_color(g),
                   grade_name(g));
  }
  h += "&mdash; against a floor: pass within max(1.5&times;, +half the band) of it, warn within "
       "max(3&times;, +the band); against the baseline: pass at or below half of it, warn at or "
       "below it; bands otherwise. Each threshold is in the table.</p>";
  if (r.has_baseline()) {
    h += "<p class='note'><b>The baseline</b> (stan baseline) draws every field of every flow "
         "independently from the real data's own distributions. It matches the marginals by "
         "construction, so beating it there means nothing and its marginal distances are no bar; "
         "it has no dependence between fields and no structure in time, so for those metrics it "
         "is the bar a model must clear.</p>";
  }
  return h;
}

std::string headline_table(const EvalResult& r, const Verdict& v) {
  const int fi = r.side_index("floor"), bi = r.side_index("baseline");
  std::vector<std::string> head = {"metric", "synthetic"};
  if (fi >= 0) head.push_back("floor (real vs real)");
  if (bi >= 0) head.push_back("baseline");
  head.insert(head.end(), {"judged against", "pass", "warn"});
  std::string h = "<table>" + table_head(head);
  auto other = [&](int side, const std::string& key) -> std::string {
    const SideDistance& d = r.vs_real[static_cast<size_t>(side)];
    const SideSummary& s = r.sides[static_cast<size_t>(side)];
    if (key == "js_mean") return num(d.js_mean);
    if (key == "w1_mean") return num(d.w1_mean);
    if (key == "nmi_mad") return num(d.nmi_mad);
    if (key == "corr_mad") return num(d.corr_mad);
    if (key == "acf_mad") return num(d.acf_mad);
    if (key == "flows_per_host_w1") return num(d.flows_per_host_w1);
    if (key == "remotes_per_host_w1") return num(d.remotes_per_host_w1);
    if (key == "any_rule_rate") return pct(s.any_rule_rate, 3);
    if (key == "copy_share") return s.copy_share ? pct(*s.copy_share, 3) : "-";
    if (key.rfind("tstr:", 0) == 0 && side == bi) {
      for (const auto& t : r.tstr)
        if ("tstr:" + t.task == key) return num(t.train_on_baseline / t.train_on_real, 3);
    }
    return "-";
  };
  for (const auto& m : v.headline) {
    const bool rate = m.key == "any_rule_rate" || m.key == "copy_share";
    auto shown = [&](double x) { return rate ? pct(x, 3) : num(x); };
    std::string ref = m.basis;
    if (std::isfinite(m.reference)) ref += " " + shown(m.reference);
    std::vector<std::string> cells = {
        esc(m.label), strprintf("<span class='d' style='background:%s'>", grade_color(m.grade)) +
                          shown(m.value) + " " + grade_name(m.grade) + "</span>"};
    if (fi >= 0) cells.push_back(other(fi, m.key));
    if (bi >= 0) cells.push_back(other(bi, m.key));
    const char* cmp = m.higher_is_better ? "&ge; " : "&le; ";
    cells.insert(cells.end(), {esc(ref), cmp + shown(m.pass_at), cmp + shown(m.warn_at)});
    h += table_row(cells);
  }
  return h + "</table>";
}

const char* kCss =
    R"(body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1360px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td.l,td:has(>span.l){text-align:left}tr.x td{color:#999}.d{padding:1px 4px;border-radius:2px}
.grid{display:flex;flex-wrap:wrap;gap:8px}.note{font-size:12px;color:#555;max-width:1100px}
svg{background:#fff;border:1px solid #eee}.t{font-size:13px;font-weight:bold;text-anchor:middle}
.xt{font-size:10px;text-anchor:middle;fill:#444}.yt{font-size:10px;text-anchor:end;fill:#444}
.xr{font-size:10px;text-anchor:end;fill:#444}.xl{font-size:11px;text-anchor:middle;fill:#333}
.lg{font-size:11px;fill:#333}.hv{font-size:9px;text-anchor:middle}.fr{fill:none;stroke:#999}
.g{stroke:#eee}.verdict{font-size:16px;padding:10px 14px;border-radius:4px;margin:8px 0;max-width:1100px}
.warnings{background:#fff6dd;border-left:4px solid #e0a800;padding:4px 12px;font-size:13px;max-width:1100px}
)";

}  // namespace

std::string render_html_report(const EvalResult& r) {
  std::string h =
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>stan eval report</title><style>";
  h += kCss;
  h += "</style></head><body><h1>stan eval: synthetic vs real NetFlow</h1>";
  const Verdict v = judge(r);
  h += verdict_section(r, v);
  h += "<table>" + table_head({"side", "records", "host flows", "hosts", "time span (UTC)",
                               "outside owners", "owners", "file"});
  for (const auto& s : r.sides) {
    h += table_row({esc(s.label), grouped(s.records), grouped(s.host_flows), grouped(s.hosts),
                    esc(format_time(s.first_te) + " to " + format_time(s.last_te)),
                    grouped(s.records_outside_owners),
                    "<span class='l'>" + esc(s.owners) + "</span>",
                    "<span class='l'>" + esc(s.path) + "</span>"});
  }
  h += "</table><p class='note'>Distances are to the real data (0 = same). Field metrics use host "
       "flows: a record seen from its owner host; rules and copies use records.</p>";

  std::vector<std::string> others;
  for (size_t k = 1; k < r.sides.size(); ++k) others.push_back(r.sides[k].label);
  auto head_with = [&](const std::string& first, const std::vector<std::string>& cols) {
    std::vector<std::string> all_cols = {first};
    all_cols.insert(all_cols.end(), cols.begin(), cols.end());
    return table_head(all_cols);
  };
  h += "<h2>Headline metrics</h2>" + headline_table(r, v);

  h += "<h2>Marginals</h2><table>" + head_with("field", others);
  for (int f = 0; f < kEvalFields; ++f) {
    std::vector<std::string> cells = {
        esc(std::string(eval_field_name(f)) + (f < kEvalCategorical ? " (JS)" : " (W1)"))};
    for (size_t k = 1; k < r.sides.size(); ++k) {
      const double d = r.vs_real[k].field[static_cast<size_t>(f)];
      const MetricVerdict* m = nullptr;
      for (const auto& x : v.fields)
        if (x.key == std::string("field:") + eval_field_name(f)) m = &x;
      cells.push_back(k == 1 && m ? graded_cell(*m) : num(d));
    }
    h += table_row(cells);
  }
  h += "</table><p class='note'>JS: Jensen-Shannon divergence, base 2, in [0,1]. W1: Wasserstein-1 "
       "of "
       "log1p(value) divided by the real data's range of log1p(value). Categorical charts show the "
       "16 most frequent categories (by the larger share on any side) plus the rest as "
       "'other'.</p><div class='grid'>";
  for (int f = 0; f < kEvalFields; ++f) {
    h += f < kEvalCategorical ? categorical_chart(r, f) : continuous_chart(r, f);
  }
  h += "</div><h2>Bytes vs packets</h2><div class='grid'>" + bytes_packets_maps(r) + "</div>";

  h += "<h2>Time and host streams</h2><div class='grid'>" + temporal_charts(r) + "</div><table>";
  std::vector<std::string> all;
  for (const auto& s : r.sides) all.push_back(s.label);
  h += head_with("host streams", all);
  auto side_row = [&](const std::string& label, auto get) {
    std::vector<std::string> cells = {esc(label)};
    for (const auto& s : r.sides) cells.push_back(get(s));
    return table_row(cells);
  };
  auto cs = [](const CountSummary& c) {
    return grouped(c.min) + " / " + grouped(c.median) + " / " + grouped(c.max);
  };
  h += side_row("flows per host min / median / max",
                [&](const SideSummary& s) { return cs(s.flows_per_host); });
  h += side_row("remote IPs per host min / median / max",
                [&](const SideSummary& s) { return cs(s.remotes_per_host); });
  h += side_row("distinct remote IPs per flow: pooled / host mean", [](const SideSummary& s) {
    return num(s.distinct_remotes_per_flow, 3) + " / " +
           num(s.distinct_remotes_per_flow_host_mean, 3);
  });
  h += side_row("5 busiest hosts' share of flows",
                [](const SideSummary& s) { return pct(s.top5_host_share); });
  h += side_row("zero inter-arrival share",
                [](const SideSummary& s) { return pct(s.zero_interarrival_share); });
  h += side_row("zero duration share",
                [](const SideSummary& s) { return pct(s.zero_duration_share); });
  h += side_row("one-packet share", [](const SideSummary& s) { return pct(s.one_packet_share); });
  h += side_row("TCP share, rows 0-4 / 5-49 of each host", [](const SideSummary& s) {
    return pct(s.tcp_share_rows_0_4, 1) + " / " + pct(s.tcp_share_rows_5_49, 1);
  });
  h += side_row("distinct remote IPs",
                [](const SideSummary& s) { return grouped(s.distinct_remote_ips); });
  h += side_row("remote-IP rank-frequency slope",
                [](const SideSummary& s) { return num(s.power_law_slope, 3); });
  if (r.has_train) {
    h += side_row("share copying a training record",
                  [](const SideSummary& s) { return s.copy_share ? pct(*s.copy_share, 3) : "-"; });
  }
  h += "</table><p class='note'>Autocorrelation of log1p(bytes) at lags 1.." +
       std::to_string(r.max_lag) +
       ", pooled over host streams, each centred on its own mean. Slope: least squares of "
       "log10(flows) on log10(rank) over log-spaced ranks. Copies: identical (td, sa, da, sp, dp, "
       "pr, flg, stos, pkt, byt); the real column is real vs the training file.</p>";

  h += "<h2>Domain rules</h2><p class='note'>Share of records breaking each rule over the records "
       "it "
       "applies to. Greyed rules are broken by over " +
       pct(r.rule_real_tolerance, 1) +
       " of the real records they apply to: shown, not counted in 'any rule'.</p><table>";
  std::vector<std::string> rcols = {"description", "applies (real)"};
  rcols.insert(rcols.end(), all.begin(), all.end());
  h += head_with("rule", rcols);
  for (size_t k = 0; k < eval_rules().size(); ++k) {
    std::vector<std::string> cells = {
        esc(eval_rules()[k].name),
        "<span class='l'>" + esc(eval_rules()[k].description) + "</span>",
        grouped(r.real().rules.applies[k])};
    for (const auto& s : r.sides) {
      const auto a = s.rules.applies[k], b = s.rules.broken[k];
      cells.push_back(a > 0 ? pct(static_cast<double>(b) / static_cast<double>(a), 3) : "-");
    }
    h += table_row(cells, r.rule_counted[k] ? "" : "x");
  }
  std::vector<std::string> anyrow = {"any counted rule", "share of all records", ""};
  for (const auto& s : r.sides) anyrow.push_back("<b>" + pct(s.any_rule_rate, 3) + "</b>");
  h += table_row(anyrow) + "</table>";

  h += "<h2>Dependence</h2><p class='note'>Normalised mutual information I(X;Y)/sqrt(H(X)H(Y)); "
       "continuous fields binned at real-data quantiles. Pearson correlation of log1p continuous "
       "fields.</p><div class='grid'>" +
       matrix_maps(r, true) + "</div><div class='grid'>" + matrix_maps(r, false) + "</div>";

  h += "<h2>Train on synthetic, test on real</h2>";
  if (r.tstr.empty()) {
    h += "<p class='note'>Not computed (stan eval --no-tstr, or EvalOptions::tstr unset).</p>";
  } else {
    h += "<table>" + table_head({"task", "metric", "train on real", "train on synthetic",
                                 "train on baseline", "synthetic / real", "baseline / real"});
    for (const auto& t : r.tstr) {
      h += table_row({esc(t.task), esc(t.metric) + (t.lower_is_better ? " (lower is better)" : ""),
                      num(t.train_on_real, 3), num(t.train_on_synthetic, 3),
                      num(t.train_on_baseline, 3), num(t.train_on_synthetic / t.train_on_real, 3),
                      num(t.train_on_baseline / t.train_on_real, 3)});
    }
    h += "</table>";
    for (const auto& t : r.tstr) {
      if (!t.description.empty())
        h += "<p class='note'>" + esc(t.task + ": " + t.description) + "</p>";
    }
  }
  return h + "</body></html>\n";
}

void write_html_report(const std::string& path, const EvalResult& r) {
  write_file_atomic(path, render_html_report(r));
}

}  // namespace stan
