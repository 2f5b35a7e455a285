// stan export: flows from any file stan reads to a NetFlow v9 / IPFIX collector, an nfcapd file
// or CSV.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/io/flow_sink.h"
#include "tensor/error.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct ExportArgs {
  std::vector<std::string> in, to;
  std::string format = "ipfix", compression, biflows = "split";
  double rate = 0;
  int template_messages = 64;
  double template_seconds = 10;
  size_t max_message = 1400;
  uint32_t domain = 0;
  int64_t max_rows = kDefaultMaxRows;
  bool labels_in_interface = false, skip_bad = false;
};

void run_export(const ExportArgs& a) {
  SinkOptions so;
  so.exporter.format = parse_export_format(a.format);
  so.exporter.rate = a.rate;
  so.exporter.template_every_messages = a.template_messages;
  so.exporter.template_every_seconds = a.template_seconds;
  so.exporter.max_message = a.max_message;
  so.exporter.domain = a.domain;
  so.nfcapd_compression = a.compression;
  so.labels_in_interface = a.labels_in_interface;
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const std::string& path : a.in) inputs.emplace_back("--in", path);
  for (const std::string& out : a.to) {
    check_flow_sink_name(out);
    if (out.rfind("udp://", 0) != 0) check_output_not_input(out, "--out", inputs);
  }
  ReadOptions ro;
  ro.ipv6 = true;
  ro.skip_bad_rows = a.skip_bad;
  ro.biflows = parse_biflows(a.biflows);
  // Straight into one table (labels and IPv6 addresses interned there); the row limit counts
  // all files together.
  FlowTable table;
  for (const std::string& path : a.in) {
    const ReadStats st = for_each_flow(
        path, table,
        [&](const FlowRecord& r) {
          STAN_CHECK(static_cast<int64_t>(table.rows.size()) < a.max_rows, path, ": more than ",
                     a.max_rows, " flow records", a.in.size() > 1 ? " in all files together" : "",
                     ", the row limit (--max-rows raises it)");
          table.rows.push_back(r);
        },
        ro);
    std::fprintf(stderr, "read %lld flows from %s (%s)\n", static_cast<long long>(st.rows),
                 path.c_str(), st.format.c_str());
    const std::string note = read_summary(path, st);
    if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  }
  so.labels = table.labels;
  if (a.labels_in_interface) {
    std::fprintf(stderr, "labels as ingressInterface:");
    for (size_t i = 0; i < table.labels.size(); ++i)
      std::fprintf(stderr, " %zu=%s", i, table.labels[i].c_str());
    std::fprintf(stderr, "\n");
  }
  for (const std::string& out : a.to) {
    std::unique_ptr<FlowSink> sink = open_flow_sink(out, so);
    write_table(*sink, table);
    sink->commit();
    std::printf("%s\n", sink->summary().c_str());
  }
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* c = app.add_subcommand(
      "export",
      "Send flows to a NetFlow v9 / IPFIX collector (e.g. nfcapd), or write them as an nfcapd "
      "file or CSV");
  c->add_option("--in", a->in,
                "Flow file(s) in any form stan reads (UGR'16 CSV, nfdump CSV or fmt: output; "
                "plain, .xz, .gz); IPv4 and IPv6")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--to,--out", a->to,
                "Where to: udp://HOST:PORT (a collector), FILE.nfcapd (nfdump's format, "
                "written by a private nfcapd), FILE.csv[.gz|.xz]; repeat for several")
      ->required();
  c->add_option("--format", a->format, "Collector protocol: ipfix or v9")
      ->capture_default_str()
      ->check(CLI::IsMember({"ipfix", "v9"}));
  c->add_option("--rate", a->rate,
                "Flows per second (default 0: as fast as a collector on this machine keeps up, "
                "watching its receive queue; 20000 for one elsewhere)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--template-refresh", a->template_messages,
                "Send the templates again every N messages (and at least every "
                "--template-refresh-seconds)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  c->add_option("--template-refresh-seconds", a->template_seconds, "Seconds between templates")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--max-message", a->max_message, "UDP payload bytes per message (256-65000)")
      ->capture_default_str()
      ->check(CLI::Range(256, 65000));
  c->add_option("--domain", a->domain, "IPFIX observation domain id / v9 source id")
      ->capture_default_str();
  c->add_flag("--labels-as-interface", a->labels_in_interface,
              "Carry each flow's label as its ingress interface number (the label's index, "
              "printed at the start); nfdump shows it in the 'in' column");
  c->add_option("--compress", a->compression,
                "Compression of .nfcapd output: lz4, lzo, bz2 (default: none)")
      ->check(CLI::IsMember({"", "none", "lz4", "lzo", "bz2"}));
  add_read_options(c, a->skip_bad, a->biflows, a->max_rows, RowLimit::all_files);
  c->footer(
      "Times are sent as they are in the file (flowStart/EndMilliseconds, UTC), counters as 64-bit "
      "values.\n"
      "Examples (from the source tree, on the bundled sample; nfdump's programs for .nfcapd):\n"
      "  stan export --in stan/assets/sample/flows.csv.xz --out sample.nfcapd && TZ=UTC nfdump "
      "-r sample.nfcapd -o csv -q -c 3\n"
      "  stan export --in stan/assets/sample/flows.csv.xz --out sample.csv.gz\n"
      "To a collector, started first (e.g. mkdir -p /tmp/nfcapd && nfcapd -w /tmp/nfcapd -b "
      "127.0.0.1 -p 9995 &):\n"
      "  stan export --in stan/assets/sample/flows.csv.xz --to udp://127.0.0.1:9995 --format "
      "ipfix");
  c->callback([a] { run_export(*a); });
}

}  // namespace stan::cli
