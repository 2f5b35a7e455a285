#include "stan/eval/verdict.h"

#include <algorithm>
#include <cmath>

#include "stan/io/text_format.h"

namespace stan {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Spec {
  const char* key;
  const char* label;
  double pass, warn;
  bool structure;  // dependence / host streams: the baseline is a bar for these
  double (*get)(const SideDistance&);
};

const Spec kHeadline[] = {
    {"js_mean", "mean JS, 8 categorical fields", 0.05, 0.15, false,
     [](const SideDistance& d) { return d.js_mean; }},
    {"w1_mean", "mean normalised W1, 5 continuous fields", 0.03, 0.08, false,
     [](const SideDistance& d) { return d.w1_mean; }},
    {"nmi_mad", "NMI matrix, mean |diff|", 0.05, 0.10, true,
     [](const SideDistance& d) { return d.nmi_mad; }},
    {"corr_mad", "Pearson (log1p), mean |diff|", 0.10, 0.20, true,
     [](const SideDistance& d) { return d.corr_mad; }},
    {"acf_mad", "autocorrelation of bytes, mean |diff|", 0.05, 0.15, true,
     [](const SideDistance& d) { return d.acf_mad; }},
    {"flows_per_host_w1", "flows per host, normalised W1", 0.10, 0.20, true,
     [](const SideDistance& d) { return d.flows_per_host_w1; }},
    {"remotes_per_host_w1", "remote IPs per host, normalised W1", 0.10, 0.20, true,
     [](const SideDistance& d) { return d.remotes_per_host_w1; }},
};
constexpr Band kFieldJs{"field_js", 0.05, 0.15};
constexpr Band kFieldW1{"field_w1", 0.03, 0.08};
constexpr Band kRules{"rules_excess", 0.002, 0.01};  // over the real rate
constexpr Band kCopies{"copy_excess", 0.001, 0.01};  // over the real-vs-train share
constexpr Band kTstrHigher{"tstr_ratio_higher", 0.9, 0.75};
constexpr Band kTstrLower{"tstr_ratio_lower", 1.15, 1.5};

Grade grade_of(const MetricVerdict& m) {
  if (m.higher_is_better) {
    return m.value >= m.pass_at ? Grade::pass : m.value >= m.warn_at ? Grade::warn : Grade::fail;
  }
  return m.value <= m.pass_at ? Grade::pass : m.value <= m.warn_at ? Grade::warn : Grade::fail;
}

// A distance graded against the floor, the baseline (structure only) or a band.
MetricVerdict distance_verdict(const std::string& key, const std::string& label, double pass,
                               double warn, bool structure, double value, double floor,
                               double baseline) {
  MetricVerdict m;
  m.key = key;
  m.label = label;
  m.value = value;
  if (std::isfinite(floor)) {
    const double slack = pass / 2;
    m.basis = "floor";
    m.reference = floor;
    m.pass_at = std::max(1.5 * floor, floor + slack);
    m.warn_at = std::max(3 * floor, floor + 2 * slack);
  } else if (structure && std::isfinite(baseline)) {
    m.basis = "baseline";
    m.reference = baseline;
    m.pass_at = std::max(0.5 * baseline, pass);
    m.warn_at = std::max(baseline, warn);
  } else {
    m.basis = "band";
    m.pass_at = pass;
    m.warn_at = warn;
  }
  m.grade = grade_of(m);
  return m;
}

std::string hours(int64_t seconds) {
  return strprintf("%.1f h", static_cast<double>(seconds) / 3600.0);
}

void add_warnings(const EvalResult& r, Verdict& v) {
  const SideSummary& real = r.real();
  // what: the command that made side s, to name its fix ("" for real flows, which cannot be
  // made again); hosts_flag: how that command takes the real hosts.
  auto compare = [&](const SideSummary& s, const std::string& what, const std::string& hosts_flag) {
    const int64_t rs = real.last_te - real.first_te, ss = s.last_te - s.first_te;
    const double span_ratio =
        static_cast<double>(std::max(rs, ss) + 1) / static_cast<double>(std::min(rs, ss) + 1);
    if (span_ratio > 1.5) {
      v.warnings.push_back(
          "time spans differ: real " + hours(rs) + ", " + s.label + " " + hours(ss) +
          " (hour-of-day, flows-per-host and inter-arrival comparisons are biased" +
          (what.empty() ? ""
                        : "; " + what + " --duration " + std::to_string((rs + 1800) / 3600) + "h") +
          ")");
    }
    const int64_t rh = real.hosts, sh = s.hosts;
    if (std::abs(rh - sh) > std::max<int64_t>(2, std::max(rh, sh) / 4)) {
      v.warnings.push_back("host counts differ: real " + std::to_string(rh) + ", " + s.label + " " +
                           std::to_string(sh) + " (per-host metrics compare different populations" +
                           (what.empty() ? "" : "; " + what + " " + hosts_flag) + ")");
    }
  };
  compare(r.synthetic(), "generate with", "--host-ips of the real hosts");
  if (const int f = r.side_index("floor"); f >= 0) compare(r.sides[f], "", "");
  // The baseline is a bar the model is graded against: a bar over another span or population
  // is no bar.
  if (const int b = r.side_index("baseline"); b >= 0)
    compare(r.sides[b], "make the baseline with", "--hosts " + std::to_string(real.hosts));
  const SideSummary& syn = r.synthetic();
  if (syn.records > 0 && syn.records_outside_owners * 2 > syn.records) {
    v.warnings.push_back(strprintf(
        "%.0f%% of the synthetic records touch no owner host: the owners (%s) may not be the "
        "generated hosts",
        100.0 * static_cast<double>(syn.records_outside_owners) / static_cast<double>(syn.records),
        r.owners.c_str()));
  }
}

}  // namespace

const char* grade_name(Grade g) {
  return g == Grade::pass ? "pass" : g == Grade::warn ? "warn" : "fail";
}

int Verdict::count(Grade g) const {
  return static_cast<int>(
      std::count_if(headline.begin(), headline.end(), [g](const auto& m) { return m.grade == g; }));
}

const std::vector<Band>& verdict_bands() {
  static const std::vector<Band> bands = [] {
    std::vector<Band> b;
    for (const Spec& s : kHeadline) b.push_back({s.key, s.pass, s.warn});
    for (const Band& x : {kFieldJs, kFieldW1, kRules, kCopies, kTstrHigher, kTstrLower})
      b.push_back(x);
    return b;
  }();
  return bands;
}

Verdict judge(const EvalResult& r) {
  Verdict v;
  const int fi = r.side_index("floor"), bi = r.side_index("baseline");
  const SideDistance& syn = r.vs_real[1];
  const SideDistance* floor = fi >= 0 ? &r.vs_real[static_cast<size_t>(fi)] : nullptr;
  const SideDistance* base = bi >= 0 ? &r.vs_real[static_cast<size_t>(bi)] : nullptr;
  for (const Spec& s : kHeadline) {
    const double value = s.get(syn);
    if (!std::isfinite(value)) continue;
    v.headline.push_back(distance_verdict(s.key, s.label, s.pass, s.warn, s.structure, value,
                                          floor ? s.get(*floor) : kNaN,
                                          base ? s.get(*base) : kNaN));
  }
  // Rules: the excess over the real data's own rate.
  {
    MetricVerdict m;
    m.key = "any_rule_rate";
    m.label = "records breaking a counted domain rule";
    m.value = r.synthetic().any_rule_rate;
    m.reference = r.real().any_rule_rate;
    m.basis = "real rate";
    m.pass_at = m.reference + kRules.pass;
    m.warn_at = m.reference + kRules.warn;
    m.grade = grade_of(m);
    v.headline.push_back(m);
  }
  if (r.has_train && r.synthetic().copy_share && r.real().copy_share) {
    MetricVerdict m;
    m.key = "copy_share";
    m.label = "records copying a training record";
    m.value = *r.synthetic().copy_share;
    m.reference = *r.real().copy_share;
    m.basis = "real vs train";
    m.pass_at = std::max(1.5 * m.reference, m.reference + kCopies.pass);
    m.warn_at = std::max(3 * m.reference, m.reference + kCopies.warn);
    m.grade = grade_of(m);
    v.headline.push_back(m);
  }
  for (const TaskScore& t : r.tstr) {
    const double ratio = t.train_on_synthetic / t.train_on_real;
    if (!std::isfinite(ratio)) continue;
    MetricVerdict m;
    m.key = "tstr:" + t.task;
    m.label = "train on synthetic / train on real: " + t.task + " " + t.metric;
    m.value = ratio;
    m.reference = 1;
    m.basis = "train on real";
    m.higher_is_better = !t.lower_is_better;
    const Band& b = t.lower_is_better ? kTstrLower : kTstrHigher;
    m.pass_at = b.pass;
    m.warn_at = b.warn;
    m.grade = grade_of(m);
    v.headline.push_back(m);
  }
  for (int f = 0; f < kEvalFields; ++f) {
    const double value = syn.field[static_cast<size_t>(f)];
    if (!std::isfinite(value)) continue;
    const Band& b = f < kEvalCategorical ? kFieldJs : kFieldW1;
    v.fields.push_back(distance_verdict(
        std::string("field:") + eval_field_name(f),
        std::string(eval_field_name(f)) + (f < kEvalCategorical ? " (JS)" : " (W1)"), b.pass,
        b.warn, false, value, floor ? floor->field[static_cast<size_t>(f)] : kNaN, kNaN));
  }
  for (const auto& m : v.headline) v.overall = std::max(v.overall, m.grade);

  if (floor) {
    const SideSummary& fs = r.sides[static_cast<size_t>(fi)];
    v.basis = "the real-vs-real floor: the distance from the real data to a second real sample (" +
              (fs.path.empty() ? std::string("floor") : fs.path) + ", owners " + fs.owners + ")";
  } else if (base) {
    v.basis =
        "the independent-marginals baseline for dependence and host streams, fixed bands for "
        "the marginals (no floor given: stan eval --floor)";
  } else {
    v.basis = "fixed bands (no floor or baseline given: stan eval --floor or --baseline)";
  }
  add_warnings(r, v);

  // The worst metric: the largest value relative to its warn threshold.
  const MetricVerdict* worst = nullptr;
  double worst_score = -1;
  for (const auto& m : v.headline) {
    const double score = m.higher_is_better ? (m.value > 0 ? m.warn_at / m.value : 1e9)
                                            : (m.warn_at > 0 ? m.value / m.warn_at : m.value);
    if (score > worst_score) worst_score = score, worst = &m;
  }
  std::string s = std::string(grade_name(v.overall));
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  s +=
      strprintf(": %d pass, %d warn, %d fail of %zu headline metrics, judged against %s",
                v.count(Grade::pass), v.count(Grade::warn), v.count(Grade::fail), v.headline.size(),
                floor  ? "the real-vs-real floor"
                : base ? "the baseline and fixed bands"
                       : "fixed bands");
  if (worst && worst->grade != Grade::pass) {
    s += strprintf(
        "; worst: %s %s (%s %s %s)", worst->label.c_str(), format_number(worst->value, 4).c_str(),
        grade_name(worst->grade), worst->higher_is_better ? "below" : "above",
        format_number(worst->grade == Grade::fail ? worst->warn_at : worst->pass_at, 4).c_str());
  }
  if (!v.warnings.empty()) {
    s += strprintf("; %zu warning%s: %s", v.warnings.size(), v.warnings.size() > 1 ? "s" : "",
                   v.warnings.front().substr(0, v.warnings.front().find(" (")).c_str());
  }
  v.summary = s;
  return v;
}

nlohmann::json verdict_to_json(const Verdict& v) {
  using nlohmann::json;
  auto finite = [](double x) -> json { return std::isfinite(x) ? json(x) : json(nullptr); };
  auto metric = [&](const MetricVerdict& m) {
    return json{{"key", m.key},
                {"label", m.label},
                {"value", finite(m.value)},
                {"reference", finite(m.reference)},
                {"basis", m.basis},
                {"pass_at", finite(m.pass_at)},
                {"warn_at", finite(m.warn_at)},
                {"higher_is_better", m.higher_is_better},
                {"grade", grade_name(m.grade)}};
  };
  json head = json::array(), fields = json::array();
  for (const auto& m : v.headline) head.push_back(metric(m));
  for (const auto& m : v.fields) fields.push_back(metric(m));
  return json{{"overall", grade_name(v.overall)}, {"summary", v.summary}, {"basis", v.basis},
              {"warnings", v.warnings},           {"headline", head},     {"fields", fields}};
}

}  // namespace stan
