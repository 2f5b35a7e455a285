// The SVG chart primitives of the HTML report (stan/eval/report_charts.cpp): escaping and number
// formats, colour scales, axis mapping and ticks, and the line, bar and heat-map charts with
// their geometry.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "stan/eval/report_charts.h"

using Catch::Contains;
using namespace stan::report;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<std::string> labels(const std::vector<std::pair<double, std::string>>& ticks) {
  std::vector<std::string> out;
  for (const auto& t : ticks) out.push_back(t.second);
  return out;
}

}  // namespace

TEST_CASE("report_charts: escaping and number formats", "[report]") {
  CHECK(esc("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c'");
  CHECK(esc("plain text") == "plain text");
  CHECK(esc("") == "");
  CHECK(num(3.14159, 2) == "3.14");
  CHECK(num(1.0) == "1.0000");
  CHECK(num(kNaN) == "-");
  CHECK(pct(0.1234) == "12.34%");
  CHECK(pct(0.5, 0) == "50%");
  CHECK(pct(kInf) == "-");
  CHECK(grouped(0) == "0");
  CHECK(grouped(999) == "999");
  CHECK(grouped(1000) == "1,000");
  CHECK(grouped(1234567) == "1,234,567");
  CHECK(grouped(-1234) == "-1,234");
  CHECK(grouped(-123456) == "-123,456");
  CHECK(short_num(0) == "0");
  CHECK(short_num(500) == "500");
  CHECK(short_num(0.25) == "0.25");
  CHECK(short_num(1500) == "1.5k");
  CHECK(short_num(-2000) == "-2k");
  CHECK(short_num(2e6) == "2M");
  CHECK(short_num(3e9) == "3G");
}

TEST_CASE("report_charts: side colours and colour scales", "[report]") {
  CHECK(std::string(side_color("real")) == "#3b6fb6");
  CHECK(std::string(side_color("synthetic")) == "#e07b39");
  CHECK(std::string(side_color("baseline")) == "#4a9a5b");
  CHECK(std::string(side_color("floor")) == "#8e5ea2");
  // Sequential: white -> blue -> navy, clamped, NaN as 0.
  CHECK(seq_color(0) == "#f7fbff");
  CHECK(seq_color(0.25) == "#9cc6e2");
  CHECK(seq_color(0.5) == "#4292c6");
  CHECK(seq_color(1) == "#08306b");
  CHECK(seq_color(-3) == "#f7fbff");
  CHECK(seq_color(7) == "#08306b");
  CHECK(seq_color(kNaN) == "#f7fbff");
  // Diverging: red - white - blue.
  CHECK(div_color(0) == "#ffffff");
  CHECK(div_color(-1) == "#b2182b");
  CHECK(div_color(1) == "#08306b");
  CHECK(div_color(-5) == "#b2182b");
  CHECK(div_color(kNaN) == "#ffffff");
}

TEST_CASE("report_charts: axes map values to pixels and choose ticks", "[report]") {
  const Axis lin{0, 10, false, {}, ""};
  CHECK(to_px(lin, 5, 100, 200) == 150);
  CHECK(to_px(lin, 0, 300, 100) == 300);  // y axes run upwards
  CHECK(to_px(lin, 10, 300, 100) == 100);
  const Axis lg{1, 100, true, {}, ""};
  CHECK(to_px(lg, 10, 100, 200) == Approx(150));
  CHECK(to_px(lg, 0.001, 100, 200) == 100);  // below the axis: at its start
  CHECK(labels(auto_ticks(lin)) == std::vector<std::string>{"0", "5", "10"});
  CHECK(labels(auto_ticks(Axis{0, 1, false, {}, ""})) == std::vector<std::string>{"0", "0.5", "1"});
  CHECK(labels(auto_ticks(Axis{-1, 1, false, {}, ""})) ==
        std::vector<std::string>{"-1", "-0.5", "0", "0.5", "1"});
  CHECK(labels(auto_ticks(Axis{1, 1000, true, {}, ""})) ==
        std::vector<std::string>{"1", "10", "100", "1k"});
  const auto decades = auto_ticks(Axis{5, 500, true, {}, ""});
  REQUIRE(labels(decades) == std::vector<std::string>{"10", "100"});
  CHECK(decades[0].first == 10);
  const auto l1p = log1p_ticks(0, std::log1p(100.0));
  REQUIRE(labels(l1p) == std::vector<std::string>{"0", "1", "10", "100"});
  CHECK(l1p[2].first == Approx(std::log1p(10.0)));
  CHECK(labels(log1p_ticks(std::log1p(5.0), std::log1p(5000.0))) ==
        std::vector<std::string>{"10", "100", "1k"});
}

TEST_CASE("report_charts: the SVG frame and a chart's legend", "[report]") {
  CHECK(svg_open("a<b", 100, 50) ==
        "<svg xmlns='http://www.w3.org/2000/svg' width='100' height='50' viewBox='0 0 100 50'>"
        "<text x='50' y='16' class='t'>a&lt;b</text>");
  const Box b;
  const std::string s = chart_open("T", b, Axis{0, 10, false, {}, "x <units>"},
                                   Axis{0, 1, false, {{0.5, "half"}}, "share"},
                                   {{"real", "#111111"}, {"synthetic", "#222222"}});
  // Legend entries side by side from the plot's left edge: 22 px plus 6 per character.
  CHECK_THAT(s, Contains("<rect x='58.0' y='25' width='10' height='10' fill='#111111'/>"));
  CHECK_THAT(s, Contains("<text x='71.0' y='34' class='lg'>real</text>"));
  CHECK_THAT(s, Contains("<rect x='104.0' y='25' width='10' height='10' fill='#222222'/>"));
  CHECK_THAT(s, Contains("<rect x='58.0' y='44.0' width='360.0' height='170.0' class='fr'/>"));
  CHECK_THAT(s, Contains("class='xl'>x &lt;units&gt;</text>"));
  // Given ticks replace the automatic ones.
  CHECK(count(s, "class='yt'>") == 1);
  CHECK_THAT(s, Contains("class='yt'>half</text>"));
  CHECK(count(s, "class='xt'>") == 3);  // 0, 5, 10
}

TEST_CASE("report_charts: line charts skip points they cannot draw", "[report]") {
  const Axis x{0, 10, false, {}, ""}, y{0, 10, false, {}, ""};
  const std::string s = line_chart("L", x, y,
                                   {{"real", "#111111", {{0, 0}, {5, kNaN}, {10, 20}}},
                                    {"synthetic", "#222222", {{0, 10}}},
                                    {"baseline", "#333333", {{kInf, 1}, {10, 0}}}},
                                   true);
  CHECK(s.substr(s.size() - 6) == "</svg>");
  CHECK(count(s, "<polyline") == 3);
  // (0, 0) at the plot's bottom left; (10, 20) clamped to the top right; (5, NaN) left out.
  CHECK_THAT(s, Contains("stroke-width='2.2'  stroke='#111111' points='58.0,214.0 418.0,44.0 '"));
  CHECK_THAT(s, Contains("stroke-width='1.6'  stroke='#222222' points='58.0,44.0 '"));
  // The third series is dashed.
  CHECK_THAT(s, Contains("stroke-width='1.6' stroke-dasharray='5,3' stroke='#333333' "
                         "points='418.0,214.0 '"));
  CHECK(count(s, "<circle") == 4);  // one dot per drawn point
  // On a log axis, values <= 0 are left out.
  const std::string lg = line_chart("G", Axis{1, 100, true, {}, ""}, y,
                                    {{"real", "#111111", {{0, 1}, {-1, 2}, {10, 3}}}});
  CHECK_THAT(lg, Contains("points='238.0,163.0 '"));
  CHECK(count(lg, "<circle") == 0);
}

TEST_CASE("report_charts: bar charts scale to the tallest bar", "[report]") {
  const std::string s = bar_chart("B", {"a", "b"}, {{"real", "#111111", {1, 2}}}, "n");
  // Two slots of 180 px, bars 80% of a slot; the y axis reaches 1.1 x the tallest bar.
  CHECK_THAT(s,
             Contains("<rect x='76.00' y='136.73' width='144.00' height='77.27' fill='#111111'/>"));
  CHECK_THAT(
      s, Contains("<rect x='256.00' y='59.45' width='144.00' height='154.55' fill='#111111'/>"));
  CHECK_THAT(s, Contains("<text x='148.0' y='228.0' class='xt'>a</text>"));
  CHECK(s.find("rotate(-45)") == std::string::npos);
  CHECK_THAT(s, Contains("height='260'"));
  // Many categories: labels turned, the chart taller to hold them.
  std::vector<std::string> cats;
  for (int i = 0; i < 9; ++i) cats.push_back("category" + std::to_string(i) + "x");  // 10 chars
  const std::string many = bar_chart("M", cats, {{"a", "#1", {}}, {"b", "#2", {}}}, "");
  CHECK(count(many, "rotate(-45)") == 9);
  CHECK_THAT(many, Contains("height='272'"));  // 260 + (16 + 4.2 * 10) - 46
  CHECK(count(many, "<rect x='") == 3);        // legend (2) and frame: no data, no bars
}

TEST_CASE("report_charts: heat maps colour cells and label their scale", "[report]") {
  Heat h;
  h.title = "H";
  h.rows = 1;
  h.cols = 2;
  h.v = {0, 1};
  const std::string s = heat_map(h);
  // 60 + 2 x 16 + 20 + 78 wide, 30 + 16 + 50 high.
  CHECK(s.rfind("<svg xmlns='http://www.w3.org/2000/svg' width='190' height='96'", 0) == 0);
  CHECK_THAT(s, Contains("<rect x='60.0' y='30.0' width='16.30' height='16.30' fill='#f7fbff'/>"));
  CHECK_THAT(s, Contains("<rect x='76.0' y='30.0' width='16.30' height='16.30' fill='#08306b'/>"));
  for (const char* v : {">1</text>", ">0.5</text>", ">0</text>"}) CHECK_THAT(s, Contains(v));
  CHECK(s.find("class='hv'") == std::string::npos);  // values only when asked

  Heat up = h;
  up.rows = 2;
  up.cols = 1;
  up.v = {0, 1};  // row 0, row 1
  up.bottom_up = true;
  CHECK_THAT(heat_map(up),
             Contains("<rect x='60.0' y='30.0' width='16.30' height='16.30' fill='#08306b'/>"));

  Heat d;
  d.rows = 1;
  d.cols = 4;
  d.v = {-1, -0.42, 0.42, 1};
  d.diverging = true;
  d.show_values = true;
  d.row_labels = {"a_long_label"};  // 12 characters: the left margin grows to 84
  const std::string ds = heat_map(d);
  CHECK_THAT(ds, Contains("<rect x='84.0' y='30.0' width='16.30' height='16.30' fill='#b2182b'/>"));
  CHECK_THAT(ds, Contains("fill='#fff'>-1</text>"));
  CHECK_THAT(ds, Contains("fill='#222'>-.42</text>"));
  CHECK_THAT(ds, Contains("fill='#222'>.42</text>"));
  CHECK_THAT(ds, Contains("fill='#fff'>1</text>"));
  CHECK_THAT(ds, Contains(">-1</text>"));  // the scale runs from -vmax
  CHECK_THAT(ds, Contains("class='yt'>a_long_label</text>"));

  Heat lg = h;
  lg.v = {0, 99};
  lg.vmax = 99;
  lg.log_color = true;
  lg.scale_label = "flows";
  const std::string ls = heat_map(lg);
  CHECK_THAT(ls, Contains("fill='#ffffff'/>"));  // 0 on a log scale: white
  for (const char* v : {"class='lg'>99</text>", "class='lg'>9</text>", "class='lg'>0</text>"})
    CHECK_THAT(ls, Contains(v));
  CHECK_THAT(ls, Contains("class='xl'>flows</text>"));
}
