// The `stan eval` HTML report: hand-written SVG charts in one self-contained page.
#include "stan/eval/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <numeric>

#include "stan/io/flow_io.h"
#include "stan/io/text_format.h"
#include "tensor/atomic_file.h"

namespace stan {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string num(double v, int prec = 4) {
  return format_number(v, prec);
}
std::string pct(double v, int prec = 2) {
  return std::isfinite(v) ? strprintf("%.*f%%", prec, 100 * v) : "-";
}
std::string grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && s[i - 1] != '-' && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

const char* side_color(size_t i) {
  static const char* const kColors[] = {"#3b6fb6", "#e07b39", "#4a9a5b"};
  return kColors[std::min<size_t>(i, 2)];
}

// Sequential colour for t in [0,1]: white -> blue -> navy.
std::string seq_color(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  const double stops[3][3] = {{247, 251, 255}, {66, 146, 198}, {8, 48, 107}};
  const int k = t < 0.5 ? 0 : 1;
  const double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  int c[3];
  for (int i = 0; i < 3; ++i)
    c[i] = static_cast<int>(stops[k][i] + (stops[k + 1][i] - stops[k][i]) * u);
  return strprintf("#%02x%02x%02x", c[0], c[1], c[2]);
}

// ---- Charts -----------------------------------------------------------------------------

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;                                   // log10 scale (values must be > 0)
  std::vector<std::pair<double, std::string>> ticks;  // empty: automatic
  std::string label;
};

struct Line {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
};

// Chart geometry: the SVG is w x h; the plot area leaves margins l, r, t (title and legend
// above it) and b (tick labels and axis label below it).
struct Box {
  double w = 430, h = 260, l = 58, r = 12, t = 44, b = 46;
  double x0() const { return l; }
  double x1() const { return w - r; }
  double y0() const { return h - b; }  // bottom of the plot area
  double y1() const { return t; }      // top of the plot area
};

double to_px(const Axis& a, double v, double p0, double p1) {
  const double lo = a.log ? std::log10(a.lo) : a.lo, hi = a.log ? std::log10(a.hi) : a.hi;
  const double x = a.log ? std::log10(std::max(v, a.lo)) : v;
  return p0 + (p1 - p0) * (x - lo) / (hi - lo);
}

std::string short_num(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e9) return strprintf("%gG", v / 1e9);
  if (a >= 1e6) return strprintf("%gM", v / 1e6);
  if (a >= 1e3) return strprintf("%gk", v / 1e3);
  return strprintf("%g", v);
}

std::vector<std::pair<double, std::string>> auto_ticks(const Axis& a) {
  std::vector<std::pair<double, std::string>> t;
  if (a.log) {
    for (double p = std::pow(10, std::floor(std::log10(a.lo))); p <= a.hi * 1.0001; p *= 10) {
      if (p >= a.lo * 0.9999) t.emplace_back(p, short_num(p));
    }
    return t;
  }
  const double span = a.hi - a.lo;
  const double raw = span / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + step * 1e-6; v += step) {
    t.emplace_back(v, std::abs(v) < step * 1e-6 ? "0" : strprintf("%g", v));
  }
  return t;
}

// Ticks for a log1p-scaled axis, labelled in original units (0, 1, 10, 100, ...).
std::vector<std::pair<double, std::string>> log1p_ticks(double lo, double hi) {
  std::vector<std::pair<double, std::string>> t;
  for (double v : {0.0, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}) {
    const double x = std::log1p(v);
    if (x >= lo - 1e-9 && x <= hi + 1e-9) t.emplace_back(x, short_num(v));
  }
  return t;
}

std::string svg_open(const std::string& title, double w, double h) {
  return strprintf(
             "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
             "viewBox='0 0 %.0f %.0f'><text x='%.0f' y='16' class='t'>",
             w, h, w, h, w / 2) +
         esc(title) + "</text>";
}

// Title, legend (one entry per series, under the title), plot frame, grid, ticks, axis labels.
std::string chart_open(const std::string& title, const Box& b, const Axis& x, const Axis& y,
                       const std::vector<std::pair<std::string, std::string>>& legend) {
  std::string s = svg_open(title, b.w, b.h);
  double lx = b.l;
  for (const auto& [name, color] : legend) {
    s += strprintf("<rect x='%.1f' y='25' width='10' height='10' fill='%s'/>", lx, color.c_str());
    s += strprintf("<text x='%.1f' y='34' class='lg'>", lx + 14) + esc(name) + "</text>";
    lx += 24 + 6.5 * static_cast<double>(name.size());
  }
  s += strprintf("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' class='fr'/>", b.x0(), b.y1(),
                 b.x1() - b.x0(), b.y0() - b.y1());
  for (const auto& [v, label] : x.ticks.empty() ? auto_ticks(x) : x.ticks) {
    const double px = to_px(x, v, b.x0(), b.x1());
    s += strprintf("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='g'/>", px, b.y1(), px,
                   b.y0());
    s += strprintf("<text x='%.1f' y='%.1f' class='xt'>", px, b.y0() + 14) + esc(label) + "</text>";
  }
  for (const auto& [v, label] : y.ticks.empty() ? auto_ticks(y) : y.ticks) {
    const double py = to_px(y, v, b.y0(), b.y1());
    s += strprintf("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='g'/>", b.x0(), py, b.x1(),
                   py);
    s += strprintf("<text x='%.1f' y='%.1f' class='yt'>", b.x0() - 4, py + 4) + esc(label) +
         "</text>";
  }
  s += strprintf("<text x='%.1f' y='%.1f' class='xl'>", (b.x0() + b.x1()) / 2, b.h - 8) +
       esc(x.label) + "</text>";
  s += strprintf("<text transform='translate(13,%.1f) rotate(-90)' class='xl'>",
                 (b.y0() + b.y1()) / 2) +
       esc(y.label) + "</text>";
  return s;
}

// Series k > 1 (the baseline) is dashed so a series under it stays visible.
std::string line_chart(const std::string& title, const Axis& x, const Axis& y,
                       const std::vector<Line>& lines, bool dots = false) {
  const Box b;
  std::vector<std::pair<std::string, std::string>> items;
  for (const Line& l : lines) items.emplace_back(l.name, l.color);
  std::string s = chart_open(title, b, x, y, items);
  for (size_t k = 0; k < lines.size(); ++k) {
    const Line& l = lines[k];
    std::string pts;
    for (const auto& [u, v] : l.pts) {
      if (!std::isfinite(u) || !std::isfinite(v) || (x.log && u <= 0) || (y.log && v <= 0)) {
        continue;
      }
      const double px = to_px(x, u, b.x0(), b.x1()),
                   py = to_px(y, std::clamp(v, y.lo, y.hi), b.y0(), b.y1());
      pts += strprintf("%.1f,%.1f ", px, py);
      if (dots) {
        s += strprintf("<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s'/>", px, py, l.color.c_str());
      }
    }
    s += strprintf("<polyline fill='none' stroke-width='%s' %s stroke='%s' points='%s'/>",
                   k == 0 ? "2.2" : "1.6", k > 1 ? "stroke-dasharray='5,3'" : "", l.color.c_str(),
                   pts.c_str());
  }
  return s + "</svg>";
}

struct Bars {
  std::string name, color;
  std::vector<double> y;
};

std::string bar_chart(const std::string& title, const std::vector<std::string>& cats,
                      const std::vector<Bars>& series, const std::string& ylabel) {
  double ymax = 0;
  size_t longest = 0;
  for (const auto& s : series) {
    for (double v : s.y) ymax = std::max(ymax, v);
  }
  for (const auto& c : cats) longest = std::max(longest, c.size());
  const bool rotate = cats.size() > 8;
  Box b;
  if (rotate) {  // room for labels at -45 degrees (about 4 px down per character)
    b.b = 16 + 4.2 * static_cast<double>(longest);
    b.h += b.b - 46;
  }
  Axis y{0, ymax > 0 ? ymax * 1.1 : 1, false, {}, ylabel};
  Axis x{0, 1, false, {{-1, ""}}, ""};
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& s : series) items.emplace_back(s.name, s.color);
  std::string s = chart_open(title, b, x, y, items);
  const double slot = (b.x1() - b.x0()) / static_cast<double>(std::max<size_t>(cats.size(), 1));
  const double bw = slot * 0.8 / static_cast<double>(series.size());
  for (size_t k = 0; k < series.size(); ++k) {
    for (size_t c = 0; c < cats.size() && c < series[k].y.size(); ++c) {
      const double top = to_px(y, series[k].y[c], b.y0(), b.y1());
      s += strprintf("<rect x='%.2f' y='%.2f' width='%.2f' height='%.2f' fill='%s'/>",
                     b.x0() + slot * (static_cast<double>(c) + 0.1) + bw * static_cast<double>(k),
                     top, bw, b.y0() - top, series[k].color.c_str());
    }
  }
  for (size_t c = 0; c < cats.size(); ++c) {
    const double cx = b.x0() + slot * (static_cast<double>(c) + 0.5);
    if (rotate) {
      s += strprintf("<text transform='translate(%.1f,%.1f) rotate(-45)' class='xr'>", cx + 3,
                     b.y0() + 8) +
           esc(cats[c]) + "</text>";
    } else {
      s += strprintf("<text x='%.1f' y='%.1f' class='xt'>", cx, b.y0() + 14) + esc(cats[c]) +
           "</text>";
    }
  }
  return s + "</svg>";
}

// Heat map of a rows x cols matrix; row 0 at the top unless bottom_up.
struct Heat {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<double> v;                            // rows*cols values
  std::vector<std::string> row_labels, col_labels;  // one per row/col (matrices), or ticks:
  std::vector<std::pair<double, std::string>> x_ticks, y_ticks;  // positions in [0,cols]/[0,rows]
  std::string x_label, y_label;
  double vmax = 1;         // colour scale [0, vmax] (diverging: [-vmax, vmax])
  bool log_color = false;  // colour by log1p(v) / log1p(vmax)
  bool diverging = false;  // signed values: red (negative) - white - blue (positive)
  bool show_values = false;
  bool bottom_up = false;
  double cell = 16, left = 60, bottom = 50;  // left/bottom grow to fit row/col labels
};

// Red - white - blue for t in [-1, 1].
std::string div_color(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, -1.0, 1.0);
  const double a = std::abs(t);
  const double far[3] = {t < 0 ? 178.0 : 8.0, t < 0 ? 24.0 : 48.0, t < 0 ? 43.0 : 107.0};
  int c[3];
  for (int i = 0; i < 3; ++i) c[i] = static_cast<int>(255 + (far[i] - 255) * a);
  return strprintf("#%02x%02x%02x", c[0], c[1], c[2]);
}

std::string heat_map(Heat h) {
  constexpr double top = 30;
  size_t longest = 0;
  for (const auto& l : h.row_labels) longest = std::max(longest, l.size());
  if (!h.row_labels.empty()) h.left = std::max(h.left, 12 + 6.0 * static_cast<double>(longest));
  longest = 0;
  for (const auto& l : h.col_labels) longest = std::max(longest, l.size());
  if (!h.col_labels.empty()) h.bottom = std::max(h.bottom, 16 + 5.0 * static_cast<double>(longest));
  const double w = h.left + h.cell * h.cols + 20, ht = top + h.cell * h.rows + h.bottom;
  std::string s = svg_open(h.title, w, ht);
  const double scale = std::max(h.vmax, 1e-12);
  for (int r = 0; r < h.rows; ++r) {
    const int vr = h.bottom_up ? h.rows - 1 - r : r;
    for (int c = 0; c < h.cols; ++c) {
      const double v = h.v[static_cast<size_t>(vr * h.cols + c)];
      const double t = h.log_color ? std::log1p(v) / std::log1p(scale) : v / scale;
      const double x = h.left + c * h.cell, y = top + r * h.cell;
      const std::string color = h.diverging             ? div_color(t)
                                : v > 0 || !h.log_color ? seq_color(t)
                                                        : std::string("#ffffff");
      s += strprintf("<rect x='%.1f' y='%.1f' width='%.2f' height='%.2f' fill='%s'/>", x, y,
                     h.cell + 0.3, h.cell + 0.3, color.c_str());
      if (h.show_values) {
        std::string text =
            std::abs(v) >= 0.995 ? (v < 0 ? "-1" : "1") : strprintf("%.2f", std::abs(v));
        if (std::abs(v) < 0.995) text = (v <= -0.005 ? "-" : "") + text.substr(1);
        s += strprintf("<text x='%.1f' y='%.1f' class='hv' fill='%s'>%s</text>", x + h.cell / 2,
                       y + h.cell / 2 + 3, std::abs(t) > 0.55 ? "#fff" : "#222", text.c_str());
      }
    }
  }
  const double y_end = top + h.cell * h.rows;
  s += strprintf("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' class='fr'/>", h.left, top,
                 h.cell * h.cols, h.cell * h.rows);
  for (size_t r = 0; r < h.row_labels.size(); ++r) {
    s += strprintf("<text x='%.1f' y='%.1f' class='yt'>", h.left - 4,
                   top + (static_cast<double>(r) + 0.5) * h.cell + 4) +
         esc(h.row_labels[r]) + "</text>";
  }
  for (size_t c = 0; c < h.col_labels.size(); ++c) {
    s += strprintf("<text transform='translate(%.1f,%.1f) rotate(-55)' class='xr'>",
                   h.left + (static_cast<double>(c) + 0.5) * h.cell + 3, y_end + 6) +
         esc(h.col_labels[c]) + "</text>";
  }
  for (const auto& [pos, label] : h.x_ticks) {
    s += strprintf("<text x='%.1f' y='%.1f' class='xt'>", h.left + pos * h.cell, y_end + 14) +
         esc(label) + "</text>";
  }
  for (const auto& [pos, label] : h.y_ticks) {
    s += strprintf("<text x='%.1f' y='%.1f' class='yt'>", h.left - 4, y_end - pos * h.cell + 4) +
         esc(label) + "</text>";
  }
  if (!h.x_label.empty()) {
    s +=
        strprintf("<text x='%.1f' y='%.1f' class='xl'>", h.left + h.cell * h.cols / 2, y_end + 34) +
        esc(h.x_label) + "</text>";
  }
  if (!h.y_label.empty()) {
    s += strprintf("<text transform='translate(%.1f,%.1f) rotate(-90)' class='xl'>", h.left - 40,
                   top + h.cell * h.rows / 2) +
         esc(h.y_label) + "</text>";
  }
  return s + "</svg>";
}

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
      if (c < 1024) return std::to_string(c);
      return std::to_string(1024 + (c - 1024) * 100) + "-" +
             std::to_string(std::min(65535, 1024 + (c - 1024) * 100 + 99));
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
std::string field_title(const EvalResult& r, int f) {
  std::string t = eval_field_name(f);
  t += f < kEvalCategorical ? ": JS" : ": W1";
  for (size_t k = 1; k < r.sides.size(); ++k) {
    t += (k > 1 ? ", " : " ") + r.sides[k].label + " " + num(r.vs_real[k].field[f], 3);
  }
  return t;
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
  for (size_t k = 0; k < r.sides.size(); ++k) bars.push_back({r.sides[k].label, side_color(k), {}});
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
  const std::string title = field_title(r, f);
  return bar_chart(title, cats, bars, "share of host flows");
}

std::string continuous_chart(const EvalResult& r, int f) {
  const int c = f - kEvalCategorical;
  const auto& e = r.hist_edges[c];
  std::vector<Line> lines;
  double ymax = 0;
  for (size_t k = 0; k < r.sides.size(); ++k) {
    const auto p = shares(r.sides[k].hist[f]);
    Line l{r.sides[k].label, side_color(k), {}};
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
  const std::string title = field_title(r, f);
  return line_chart(title, x, y, lines);
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
    h.v = nmi ? side.nmi : side.corr;
    h.diverging = !nmi;
    s += heat_map(h);
  }
  for (size_t k = 1; k < r.sides.size(); ++k) {
    Heat h = base("|" + r.sides[k].label + " - real|" + (nmi ? " NMI" : " correlation"));
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
    Line l{r.sides[k].label, side_color(k), {}};
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
    Line l{r.sides[k].label, side_color(k), {}};
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
      Line l{r.sides[k].label, side_color(k), get(r.sides[k])};
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

// Cell shaded by a distance (0 white .. 0.3 and above dark).
std::string dist_cell(double v) {
  if (!std::isfinite(v)) return "-";
  return "<span class='d' style='background:" + seq_color(std::min(v / 0.3, 1.0) * 0.6) + "'>" +
         num(v) + "</span>";
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
.g{stroke:#eee}
)";

}  // namespace

std::string render_html_report(const EvalResult& r) {
  std::string h =
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>stan eval report</title><style>";
  h += kCss;
  h += "</style></head><body><h1>stan eval: synthetic vs real NetFlow</h1>";
  h += "<p class='note'>Owner hosts " + esc(r.owners) +
       ". Distances are to the real data (0 = same). Field metrics use host flows: a record seen "
       "from its owner host; rules and copies use records.</p>";
  h += "<table>" + table_head({"side", "records", "host flows", "hosts", "outside owners", "file"});
  for (const auto& s : r.sides) {
    h += table_row({esc(s.label), grouped(s.records), grouped(s.host_flows), grouped(s.hosts),
                    grouped(s.records_outside_owners),
                    "<span class='l'>" + esc(s.path) + "</span>"});
  }
  h += "</table>";

  std::vector<std::string> others;
  for (size_t k = 1; k < r.sides.size(); ++k) others.push_back(r.sides[k].label);
  auto head_with = [&](const std::string& first, const std::vector<std::string>& cols) {
    std::vector<std::string> v = {first};
    v.insert(v.end(), cols.begin(), cols.end());
    return table_head(v);
  };
  auto dist_row = [&](const std::string& label, auto get) {
    std::vector<std::string> cells = {esc(label)};
    for (size_t k = 1; k < r.sides.size(); ++k) cells.push_back(dist_cell(get(r.vs_real[k])));
    return table_row(cells);
  };
  h += "<h2>Headline distances to real</h2><table>" + head_with("metric", others);
  h += dist_row("mean JS, 8 categorical fields", [](const SideDistance& d) { return d.js_mean; });
  h += dist_row("mean normalised W1, 5 continuous fields",
                [](const SideDistance& d) { return d.w1_mean; });
  h += dist_row("NMI matrix, mean |diff|", [](const SideDistance& d) { return d.nmi_mad; });
  h += dist_row("Pearson (log1p), mean |diff|", [](const SideDistance& d) { return d.corr_mad; });
  h += dist_row("autocorrelation, mean |diff|", [](const SideDistance& d) { return d.acf_mad; });
  h += dist_row("flows per host, normalised W1",
                [](const SideDistance& d) { return d.flows_per_host_w1; });
  h += dist_row("remote IPs per host, normalised W1",
                [](const SideDistance& d) { return d.remotes_per_host_w1; });
  std::vector<std::string> any = {"records breaking any counted rule"};
  for (size_t k = 1; k < r.sides.size(); ++k)
    any.push_back(pct(r.sides[k].any_rule_rate, 3) + " (real " + pct(r.real().any_rule_rate, 3) +
                  ")");
  h += table_row(any) + "</table>";

  h += "<h2>Marginals</h2><table>" + head_with("field", others);
  for (int f = 0; f < kEvalFields; ++f) {
    h += dist_row(std::string(eval_field_name(f)) + (f < kEvalCategorical ? " (JS)" : " (W1)"),
                  [f](const SideDistance& d) { return d.field[f]; });
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
