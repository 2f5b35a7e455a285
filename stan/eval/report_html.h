// A self-contained HTML report of a `stan eval` result: inline CSS and SVG, no scripts, no
// external fonts or images. Sections: inputs and headline numbers, marginal distances with
// per-field histograms (shared bins), bytes-vs-packets heat maps, flows per hour of day,
// remote-IP rank-frequency (log-log), flows per host, autocorrelation curves, domain rules,
// NMI and correlation matrices as heat maps, copies, train-on-synthetic scores (when filled),
// and the definitions used.
#pragma once

#include <string>

#include "stan/eval/eval.h"

namespace stan {

// The whole HTML document.
std::string render_html_report(const EvalResult& r);

// Renders and writes the report atomically (temporary file in the same folder, then rename).
void write_html_report(const std::string& path, const EvalResult& r);

}  // namespace stan
