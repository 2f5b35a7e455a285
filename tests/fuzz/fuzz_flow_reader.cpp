// Fuzzes the flow reader over memory (plain, gzip and xz input; every UGR'16 and nfdump form,
// IPv4 and IPv6), strict and skipping bad rows.
// Whatever it accepts must survive a write-read round trip unchanged. A stan::Error is a
// correct answer to bad input; anything else (a crash, a sanitizer report, another exception,
// a round trip that changes a record) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace {

std::string scratch_path() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  return (dir / ("stan_fuzz_roundtrip_" + std::to_string(::getpid()) + ".csv")).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_flow_reader: %s\n", what);
  std::abort();
}

void round_trip(const stan::FlowTable& table) {
  if (table.rows.empty()) return;
  static const std::string path = scratch_path();
  try {
    stan::write_flows(path, table);
  } catch (const stan::Error& e) {
    // Labels with a carriage return inside are read but cannot be written as CSV.
    for (const std::string& l : table.labels)
      if (l.find('\r') != std::string::npos) return;
    std::fprintf(stderr, "%s\n", e.what());
    finding("the writer refused records the reader accepted");
  }
  const std::string bytes = slurp(path);
  std::remove(path.c_str());
  stan::FlowTable back;
  try {
    stan::ByteSource src("roundtrip.csv", bytes);
    stan::ReadOptions opt;
    opt.ipv6 = true;
    back = stan::read_flows(src, opt);
  } catch (const stan::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("the reader refused what the writer wrote");
  }
  if (back.rows.size() != table.rows.size()) finding("round trip changed the row count");
  for (size_t i = 0; i < table.rows.size(); ++i) {
    stan::FlowRecord a = table.rows[i], b = back.rows[i];
    if (table.labels[a.label] != back.labels[b.label]) finding("round trip changed a label");
    a.label = b.label = 0;
    const stan::Ip6Pair *pa = table.ip6_of(a), *pb = back.ip6_of(b);
    if ((pa == nullptr) != (pb == nullptr) || (pa && !(*pa == *pb)))
      finding("round trip changed an IPv6 address");
    a.ip6 = b.ip6 = 0;
    if (!(a == b)) finding("round trip changed a record");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool skip : {false, true}) {
    stan::ReadOptions opt;
    opt.skip_bad_rows = skip;
    opt.row_limit = 100000;
    opt.ipv6 = true;  // IPv6 rows read too (IPv4 files read the same either way)
    stan::FlowTable t;
    try {
      stan::ByteSource src("fuzz.csv", bytes);
      t = stan::read_flows(src, opt);
    } catch (const stan::Error&) {
      continue;  // bad input, reported as such
    }
    round_trip(t);
    return 0;  // strict reading succeeded: skipping would read the same
  }
  return 0;
}
