// nfdump's own tools as child processes: a private nfcapd collector on loopback, and writing
// flows into an nfcapd file through it.
//
// Why through the collector: nfdump's file format (nffile V2: LZO/LZ4/BZ2 blocks of V3 records
// with extension elements) has no specification and changed between 1.6 and 1.7, and Debian's
// nfdump packages ship the programs only: no library, no headers, no -dev package. The one
// writer that is kept in step with nfdump is nfcapd itself, so stan exports to a private nfcapd
// and lets it write the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/netflow_export.h"

namespace stan {

// Full path of a program found on PATH (or in /usr/sbin, /usr/bin), or "" if none.
std::string find_program(const std::string& name);

// A UDP port on 127.0.0.1 that was free a moment ago.
uint16_t free_udp_port();

// Debian's nfcapd (package nfdump) listening on 127.0.0.1, a free port, writing its flow files
// into DIR/flows and its log into DIR/nfcapd.log.
class NfcapdProcess {
 public:
  // Starts nfcapd (-w DIR/flows -b 127.0.0.1 -p PORT -t 3600, plus extra_args) and waits until its
  // socket is bound. Throws stan::Error if nfcapd is not installed or does not start (its log
  // is quoted).
  explicit NfcapdProcess(const std::string& dir, const std::vector<std::string>& extra_args = {});
  ~NfcapdProcess();  // stops it (SIGTERM) if still running
  NfcapdProcess(const NfcapdProcess&) = delete;
  NfcapdProcess& operator=(const NfcapdProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }  // -1 once stopped
  std::string url() const;            // "udp://127.0.0.1:PORT"
  // Stops nfcapd (SIGTERM, which makes it close its current file) and returns the flow files
  // it wrote, sorted by name. Returns the same list if called again.
  std::vector<std::string> stop();
  // nfcapd's own words (stderr and stdout), e.g. its closing "Flows: N, ... Sequence Errors: 0".
  std::string log() const;

 private:
  std::string dir_, log_path_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::string> files_;
};

// Flows in a file by nfdump's own count (`nfdump -r FILE -I`); throws if nfdump fails.
int64_t nfdump_flow_count(const std::string& path);

// Writes flow records into one nfcapd file at `path`: a private nfcapd on loopback receives
// them as NetFlow v9 (which nfcapd 1.7.1 stores completely; from IPFIX it drops the forwarding
// status) and writes the file (see above). commit() checks that nfdump counts every flow
// sent, then moves the file into place; without commit() nothing appears at `path`.
// compression: "" (none), "lz4", "lzo" or "bz2" (nfcapd's -y, -z, -j).
class NfcapdFileWriter {
 public:
  NfcapdFileWriter(const std::string& path, const std::string& compression = "",
                   bool labels_in_interface = false);
  ~NfcapdFileWriter();
  NfcapdFileWriter(const NfcapdFileWriter&) = delete;
  NfcapdFileWriter& operator=(const NfcapdFileWriter&) = delete;
  void write(const FlowRecord& r, const Ip6Pair* ip6 = nullptr);
  void commit();
  int64_t rows() const;

 private:
  void remove_tmp_dir() noexcept;

  std::string path_, tmp_dir_;
  int signal_slot_ = -1;  // tmp_dir_ registered for removal on a fatal signal
  std::unique_ptr<NfcapdProcess> nfcapd_;
  std::unique_ptr<FlowExporter> exporter_;
  bool committed_ = false;
};

}  // namespace stan
