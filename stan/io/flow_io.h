// Reading and writing flow records.
//
// Input formats (detected from the header line, or its absence):
//  - UGR'16 CSV: te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt[,label], with or without header.
//  - nfdump CSV (`nfdump -o csv`): columns found by header name (ts/te/td/sa/da/sp/dp/pr/flg/
//    fwd/stos/ipkt/ibyt, ...).
// Compression is detected from the file's magic bytes: plain, xz, gzip. Reading streams: the
// whole file is never held in memory at once by the reader itself.
// Durations are rounded to the millisecond on reading (UGR'16's resolution; its files also hold
// float artifacts such as "1.3719999999999999"), and written with at most 3 decimals ("0",
// "7", "22.052"), so write-then-read gives equal records. Timestamps may carry a fraction
// (".123", nfdump 1.7); it is dropped. Blank lines are skipped; in nfdump output a blank line or
// a line starting with "Summary" ends the records. Columns fwd, stos and label are optional
// in a header (default 0 / "background"); the STAN repository's spelling "lable" is accepted.
//
// Errors name the place: "flows.csv:1041: column 'byt': 'abc' is not an integer".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "stan/io/flow.h"

namespace stan {

struct ReadOptions {
  bool skip_bad_rows = false;  // skip malformed rows (counted in ReadStats) instead of throwing
  int64_t max_rows = -1;       // stop after this many good rows (-1: all)
};

struct ReadStats {
  int64_t rows = 0;         // good rows delivered
  int64_t bad_rows = 0;     // rows skipped with skip_bad_rows
  std::string first_error;  // message of the first skipped row, if any
  std::string format;       // "ugr16" or "nfdump"
};

// Streams every record of `path` to `on_row`. `table` receives interned label names (the
// record's `label` field indexes table.labels); rows are NOT appended to table.rows.
ReadStats for_each_flow(const std::string& path, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt = {});

// Reads the whole file into a table (rows in file order).
FlowTable read_flows(const std::string& path, const ReadOptions& opt = {},
                     ReadStats* stats = nullptr);

// Writes UGR'16 CSV with a header line, atomically (temporary file in the same folder, renamed
// when complete). A path ending in .xz or .gz is compressed accordingly.
void write_flows(const std::string& path, const FlowTable& table);

// Streaming writer, for generation: rows are appended as they come; commit() makes the file
// appear under its final name; destroying an uncommitted writer removes the temporary file.
class FlowWriter {
 public:
  FlowWriter(const std::string& path, std::vector<std::string> labels = {"background"});
  ~FlowWriter();
  FlowWriter(const FlowWriter&) = delete;
  FlowWriter& operator=(const FlowWriter&) = delete;
  void write(const FlowRecord& r);
  void commit();
  int64_t rows() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Field formatting and parsing shared by readers, writers and tools.
std::string format_ipv4(uint32_t ip);                   // 42.219.0.1
bool parse_ipv4(std::string_view s, uint32_t* out);     // false if malformed
std::string format_time(int64_t unix_seconds);          // "2016-04-11 00:01:38" (UTC)
bool parse_time(std::string_view s, int64_t* out);      // "YYYY-MM-DD HH:MM:SS" -> Unix seconds
std::string format_flags(uint8_t flags);                // ".AP.SF"
bool parse_flags(std::string_view s, uint8_t* out);     // "UAPRSF" with '.' for unset
std::string protocol_name(uint8_t pr);                  // "TCP", "UDP", ... or the number
bool parse_protocol(std::string_view s, uint8_t* out);  // name (any case) or number

}  // namespace stan
