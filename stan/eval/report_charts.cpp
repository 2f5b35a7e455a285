// SVG chart primitives of the HTML report (line, bar and heat-map charts, colour scales), shared
// by its sections.
#include "stan/eval/report_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "stan/io/text_format.h"

namespace stan::report {

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

std::string num(double v, int prec) {
  return format_number(v, prec);
}
std::string pct(double v, int prec) {
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

const char* side_color(const std::string& label) {
  if (label == "real") return "#3b6fb6";
  if (label == "synthetic") return "#e07b39";
  if (label == "baseline") return "#4a9a5b";
  return "#8e5ea2";  // floor
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
  // Entries side by side from the plot's left edge (or from the SVG's, when they need the room).
  double width = 0;
  for (const auto& entry : legend) width += 22 + 6.0 * static_cast<double>(entry.first.size());
  double lx = b.l + width > b.w - 4 ? 6 : b.l;
  for (const auto& [name, color] : legend) {
    s += strprintf("<rect x='%.1f' y='25' width='10' height='10' fill='%s'/>", lx, color.c_str());
    s += strprintf("<text x='%.1f' y='34' class='lg'>", lx + 13) + esc(name) + "</text>";
    lx += 22 + 6.0 * static_cast<double>(name.size());
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
                       const std::vector<Line>& lines, bool dots) {
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

// Red - white - blue for t in [-1, 1].
std::string div_color(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, -1.0, 1.0);
  const double a = std::abs(t);
  const double far[3] = {t < 0 ? 178.0 : 8.0, t < 0 ? 24.0 : 48.0, t < 0 ? 43.0 : 107.0};
  int c[3];
  for (int i = 0; i < 3; ++i) c[i] = static_cast<int>(255 + (far[i] - 255) * a);
  return strprintf("#%02x%02x%02x", c[0], c[1], c[2]);
}

namespace {

// The heat map's scale: a vertical gradient with the values at its ends and middle.
std::string colour_bar(const Heat& h, double x, double y, double height, double scale) {
  constexpr int kSteps = 40;
  const double lo = h.diverging ? -1.0 : 0.0;
  std::string s;
  for (int i = 0; i < kSteps; ++i) {
    const double t = 1.0 - (i + 0.5) / kSteps;  // top = highest
    const double tv = lo + (1.0 - lo) * t;
    s += strprintf("<rect x='%.1f' y='%.2f' width='12' height='%.2f' fill='%s'/>", x,
                   y + height * i / kSteps, height / kSteps + 0.3,
                   (h.diverging ? div_color(tv) : seq_color(tv)).c_str());
  }
  s += strprintf("<rect x='%.1f' y='%.1f' width='12' height='%.1f' class='fr'/>", x, y, height);
  auto value_at = [&](double t) {  // t in [lo, 1] of the colour scale -> the value shown
    if (h.log_color) return std::expm1(t * std::log1p(scale));
    return t * scale;
  };
  for (double t : {1.0, (1.0 + lo) / 2, lo}) {
    const double py = y + height * (1.0 - (t - lo) / (1.0 - lo));
    s += strprintf("<text x='%.1f' y='%.1f' class='lg'>%s</text>", x + 16, py + 4,
                   esc(strprintf("%.3g", value_at(t))).c_str());
  }
  if (!h.scale_label.empty()) {
    s += strprintf("<text transform='translate(%.1f,%.1f) rotate(90)' class='xl'>", x + 60,
                   y + height / 2) +
         esc(h.scale_label) + "</text>";
  }
  return s;
}

}  // namespace

std::string heat_map(Heat h) {
  constexpr double top = 30;
  size_t longest = 0;
  for (const auto& l : h.row_labels) longest = std::max(longest, l.size());
  if (!h.row_labels.empty()) h.left = std::max(h.left, 12 + 6.0 * static_cast<double>(longest));
  longest = 0;
  for (const auto& l : h.col_labels) longest = std::max(longest, l.size());
  if (!h.col_labels.empty()) h.bottom = std::max(h.bottom, 16 + 5.0 * static_cast<double>(longest));
  constexpr double kBar = 78;  // room for the colour bar and its labels
  const double w = h.left + h.cell * h.cols + 20 + kBar, ht = top + h.cell * h.rows + h.bottom;
  std::string s = svg_open(h.title, w, ht);
  const double scale = std::max(h.vmax, 1e-12);
  s += colour_bar(h, h.left + h.cell * h.cols + 16, top, h.cell * h.rows, scale);
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
        if (std::abs(v) < 0.995) {  // ".42", "-.42"
          std::string shortened = v <= -0.005 ? "-" : "";
          shortened += text.substr(1);
          text = shortened;
        }
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

}  // namespace stan::report
