#include "stan/io/flow_sink.h"

#include <cstdio>

#include "stan/io/flow_io.h"
#include "stan/io/nfcapd.h"
#include "tensor/error.h"

namespace stan {

namespace {

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

class CsvSink : public FlowSink {
 public:
  CsvSink(const std::string& path, const std::vector<std::string>& labels)
      : path_(path), w_(path, labels) {}
  void write(const FlowRecord& r, const Ip6Pair* ip6) override { w_.write(r, ip6); }
  void commit() override { w_.commit(); }
  int64_t rows() const override { return w_.rows(); }
  std::string summary() const override {
    return detail::concat("wrote ", w_.rows(), " flows to ", path_);
  }

 private:
  std::string path_;
  FlowWriter w_;
};

class NfcapdSink : public FlowSink {
 public:
  NfcapdSink(const std::string& path, const SinkOptions& o)
      : path_(path), w_(path, o.nfcapd_compression, o.labels_in_interface) {}
  void write(const FlowRecord& r, const Ip6Pair* ip6) override { w_.write(r, ip6); }
  void commit() override { w_.commit(); }
  int64_t rows() const override { return w_.rows(); }
  std::string summary() const override {
    return detail::concat("wrote ", w_.rows(), " flows to ", path_,
                          " (nfcapd file; nfdump counted every flow)");
  }

 private:
  std::string path_;
  NfcapdFileWriter w_;
};

class CollectorSink : public FlowSink {
 public:
  explicit CollectorSink(const ExportOptions& o) : e_(o), format_(o.format) {}
  void write(const FlowRecord& r, const Ip6Pair* ip6) override { e_.send(r, ip6); }
  void commit() override { e_.finish(); }
  int64_t rows() const override { return e_.stats().flows; }
  std::string summary() const override {
    const ExportStats& s = e_.stats();
    std::string out = detail::concat(
        "sent ", s.flows, " flows (", s.ipv6_flows, " IPv6) in ", s.messages, " ",
        export_format_name(format_), " messages to ", s.destination, " in ", strfmt(s.seconds, 2),
        " s (", strfmt(s.flows_per_second(), 0), " flows/s; pacing: ", s.pacing, ")");
    if (s.collector_drops >= 0)
      out += detail::concat("; the collector's socket dropped ", s.collector_drops, " packets");
    return out;
  }

 private:
  static std::string strfmt(double v, int prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
  }
  FlowExporter e_;
  ExportFormat format_;
};

}  // namespace

bool is_flow_sink_name(const std::string& out) {
  return out.rfind("udp://", 0) == 0 || ends_with(out, ".nfcapd") || ends_with(out, ".csv") ||
         ends_with(out, ".csv.gz") || ends_with(out, ".csv.xz");
}

void check_flow_sink_name(const std::string& out) {
  STAN_CHECK(is_flow_sink_name(out), "cannot write '", out, "': expected ", kOutputForms);
}

void write_table(FlowSink& sink, const FlowTable& table) {
  for (const FlowRecord& r : table.rows) sink.write(r, table.ip6_of(r));
}

std::unique_ptr<FlowSink> open_flow_sink(const std::string& out, const SinkOptions& opt) {
  if (out.rfind("udp://", 0) == 0) {
    ExportOptions e = opt.exporter;
    e.to = out;
    e.labels_in_interface = e.labels_in_interface || opt.labels_in_interface;
    return std::make_unique<CollectorSink>(e);
  }
  if (ends_with(out, ".nfcapd")) return std::make_unique<NfcapdSink>(out, opt);
  check_flow_sink_name(out);
  return std::make_unique<CsvSink>(out, opt.labels);
}

}  // namespace stan
