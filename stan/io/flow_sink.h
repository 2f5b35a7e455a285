// Where a command's flows go, chosen by the name the user gives: a CSV file, an nfcapd file, or
// a NetFlow collector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/netflow_export.h"

namespace stan {

class FlowSink {
 public:
  virtual ~FlowSink() = default;
  // ip6: the addresses of an IPv6 record (FlowTable::ip6_of), nullptr for IPv4.
  virtual void write(const FlowRecord& r, const Ip6Pair* ip6 = nullptr) = 0;
  // Publishes the file (atomically) or sends what is buffered. Without commit(), a file sink
  // leaves nothing behind.
  virtual void commit() = 0;
  virtual int64_t rows() const = 0;
  // One line on what was written, e.g. "sent 1,000 flows to udp://... in 0.1 s (...)".
  virtual std::string summary() const = 0;
};

struct SinkOptions {
  std::vector<std::string> labels{"background"};  // CSV: the names the label indexes refer to
  ExportOptions exporter;  // udp://: format, rate, templates, ... (`to` is set from the name)
  std::string nfcapd_compression;    // .nfcapd: "", "lz4", "lzo" or "bz2"
  bool labels_in_interface = false;  // .nfcapd and udp://: label index -> ingressInterface
};

// The accepted output names, for help texts and errors.
inline constexpr const char* kOutputForms =
    ".csv, .csv.gz, .csv.xz (UGR'16 CSV), .nfcapd (nfdump's file format, written by a private "
    "nfcapd) or udp://HOST:PORT (a collector)";

// Opens the sink a name asks for:
//   *.csv, *.csv.gz, *.csv.xz  UGR'16 CSV (compressed by extension), written atomically;
//   *.nfcapd                   nfdump's own file format (NfcapdFileWriter, needs nfcapd);
//   udp://HOST:PORT            a NetFlow v9 / IPFIX collector (FlowExporter).
// Any other name is a stan::Error that lists these forms.
std::unique_ptr<FlowSink> open_flow_sink(const std::string& out, const SinkOptions& opt = {});

// Whether a name is one of the forms above (without opening anything).
bool is_flow_sink_name(const std::string& out);
// Throws stan::Error naming `out` and the accepted forms unless it is one (for a command to
// check before its long work; open_flow_sink checks the same).
void check_flow_sink_name(const std::string& out);

// Writes every record of `table` (IPv6 ones with their addresses) to `sink`; no commit.
void write_table(FlowSink& sink, const FlowTable& table);

}  // namespace stan
