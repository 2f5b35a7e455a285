// The self-contained HTML report (stan/eval/report_html.cpp): its sections, the inputs escaped,
// train-on-synthetic scores when measured, nothing fetched from elsewhere, and an atomic write.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "stan/eval/eval.h"
#include "stan/eval/eval_test_util.h"
#include "stan/eval/report_html.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowTable;
using stan::eval_test::make_dependent_flows;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

stan::EvalResult result_with_paths(const std::string& real_path, const std::string& syn_path) {
  static const FlowTable real = make_dependent_flows(4, 200, 31);
  static const FlowTable syn = make_dependent_flows(4, 200, 32);
  return stan::evaluate({&real, &syn, nullptr, nullptr, real_path, syn_path, "", ""});
}

}  // namespace

TEST_CASE("report_html: a whole document with every section", "[eval]") {
  const stan::EvalResult r = result_with_paths("real.csv", "syn.csv");
  const std::string html = stan::render_html_report(r);
  CHECK(html.rfind("<!DOCTYPE html><html><head><meta charset='utf-8'><title>stan eval report", 0) ==
        0);
  CHECK(html.size() > 10000);
  CHECK(html.substr(html.size() - 15) == "</body></html>\n");
  for (const char* h2 :
       {"<h2>Headline metrics</h2>", "<h2>Marginals</h2>", "<h2>Bytes vs packets</h2>",
        "<h2>Time and host streams</h2>", "<h2>Domain rules</h2>", "<h2>Dependence</h2>",
        "<h2>Train on synthetic, test on real</h2>"})
    CHECK(count(html, h2) == 1);
  CHECK_THAT(html, Contains("<h1>stan eval: synthetic vs real NetFlow</h1>"));
  CHECK_THAT(html, Contains("Not computed (stan eval --no-tstr, or EvalOptions::tstr unset)."));
  for (const auto& rule : stan::eval_rules()) CHECK_THAT(html, Contains(rule.name));
  for (int f = 0; f < stan::kEvalFields; ++f) CHECK_THAT(html, Contains(stan::eval_field_name(f)));
  CHECK(count(html, "<table") == count(html, "</table>"));
  CHECK(count(html, "<svg ") == count(html, "</svg>"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
}

TEST_CASE("report_html: file names and scores are escaped", "[eval]") {
  stan::EvalResult r = result_with_paths("<real>&.csv", "syn\".csv");
  r.tstr = {{"<task>", "F1 & co", 0.8, 0.4, 0.2, true, "needs <escaping> & more"}};
  const std::string html = stan::render_html_report(r);
  CHECK_THAT(html, Contains("&lt;real&gt;&amp;.csv"));
  CHECK_THAT(html, Contains("syn&quot;.csv"));
  CHECK(html.find("<real>") == std::string::npos);
  CHECK(html.find("<task>") == std::string::npos);
  CHECK_THAT(html, Contains("&lt;task&gt;"));
  CHECK_THAT(html, Contains("F1 &amp; co (lower is better)"));
  CHECK_THAT(html, Contains("&lt;task&gt;: needs &lt;escaping&gt; &amp; more"));
  CHECK_THAT(html, Contains("0.500"));  // synthetic / real
  CHECK(html.find("Not computed (stan eval --no-tstr") == std::string::npos);
}

TEST_CASE("report_html: written atomically, or an error naming the path", "[eval]") {
  const stan::EvalResult r = result_with_paths("real.csv", "syn.csv");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("stan_test_report_html_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "report.html").string();
  stan::write_html_report(path, r);
  CHECK(std::filesystem::file_size(path) == stan::render_html_report(r).size());
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);
  const std::string missing = (dir / "no" / "report.html").string();
  REQUIRE_THROWS_WITH(stan::write_html_report(missing, r), Contains(missing));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);
  std::filesystem::remove_all(dir);
}
