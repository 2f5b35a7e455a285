// Internal to the HTML report: SVG chart primitives and colour scales (report_charts.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stan::report {

std::string esc(const std::string& s);  // HTML-escapes &, <, >, "
std::string num(double v, int prec = 4);
std::string pct(double v, int prec = 2);
std::string grouped(int64_t v);  // 1,234,567

const char* side_color(const std::string& label);  // real, synthetic, baseline, floor
std::string seq_color(double t);                   // t in [0,1]: white -> blue -> navy
std::string div_color(double t);                   // t in [-1,1]: red - white - blue

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

struct Bars {
  std::string name, color;
  std::vector<double> y;
};

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
  std::string scale_label;                   // what the colour bar measures
};

double to_px(const Axis& a, double v, double p0, double p1);
std::string short_num(double v);
std::vector<std::pair<double, std::string>> auto_ticks(const Axis& a);
// Ticks for a log1p-scaled axis, labelled in original units (0, 1, 10, 100, ...).
std::vector<std::pair<double, std::string>> log1p_ticks(double lo, double hi);
std::string svg_open(const std::string& title, double w, double h);
// Title, legend (one entry per series, under the title), plot frame, grid, ticks, axis labels.
std::string chart_open(const std::string& title, const Box& b, const Axis& x, const Axis& y,
                       const std::vector<std::pair<std::string, std::string>>& legend);
// Series k > 1 are dashed so a series under them stays visible.
std::string line_chart(const std::string& title, const Axis& x, const Axis& y,
                       const std::vector<Line>& lines, bool dots = false);
std::string bar_chart(const std::string& title, const std::vector<std::string>& cats,
                      const std::vector<Bars>& series, const std::string& ylabel);
// A heat map with its colour bar (the scale, labelled, to the right of the cells).
std::string heat_map(Heat h);

}  // namespace stan::report
