// A verdict on an evaluation: each headline metric of the synthetic side graded pass / warn /
// fail, an overall grade, a one-line summary and warnings about comparisons that cannot be fair.
//
// What a metric is judged against, in order of preference:
//  1. the real-vs-real floor, when a second real sample was given (EvalInputs::floor): the
//     distance between two real samples is what no generator can beat. pass: synthetic <=
//     max(1.5 x floor, floor + slack); warn: <= max(3 x floor, floor + 2 x slack);
//  2. the independent-marginals baseline, for the dependence and host-stream metrics (the
//     baseline has no structure, so a model must beat it): pass: <= max(0.5 x baseline, pass
//     band); warn: <= max(baseline, warn band). The baseline copies every marginal by
//     construction, so it is no bar for the marginal metrics;
//  3. otherwise fixed bands (below, per metric), stated next to each value.
// Rule violations are judged by the excess over the real data's own rate, copies of training
// records by their share, train-on-synthetic scores by their ratio to train-on-real.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stan/eval/eval.h"

namespace stan {

enum class Grade { pass, warn, fail };
const char* grade_name(Grade g);  // "pass", "warn", "fail"

struct MetricVerdict {
  std::string key;    // "js_mean", "field:protocol", "tstr:protocol classifier", ...
  std::string label;  // "mean JS, 8 categorical fields"
  double value = 0;   // the synthetic side's value
  double reference = std::numeric_limits<double>::quiet_NaN();  // floor / baseline / real value
  std::string basis;                // "floor", "baseline", "band", "real rate", "train on real"
  double pass_at = 0, warn_at = 0;  // thresholds applied
  bool higher_is_better = false;
  Grade grade = Grade::pass;
};

struct Verdict {
  Grade overall = Grade::pass;
  std::vector<MetricVerdict> headline;  // graded into `overall`
  std::vector<MetricVerdict> fields;    // per-field marginals (shown; not in `overall`)
  std::vector<std::string> warnings;    // comparisons that cannot be fair, in words
  std::string basis;                    // what the metrics were judged against, in words
  std::string summary;                  // one line: grade, counts, worst metric, warnings
  int count(Grade g) const;
};

// Grades an evaluation (see above). Needs the real and synthetic sides; uses floor and baseline
// when present.
Verdict judge(const EvalResult& r);

// The bands used without floor or baseline, for documentation: (key, pass, warn).
struct Band {
  const char* key;
  double pass, warn;
};
const std::vector<Band>& verdict_bands();

nlohmann::json verdict_to_json(const Verdict& v);

}  // namespace stan
