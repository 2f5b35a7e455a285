// Reading and writing flow records.
//
// Input formats (detected from the first line):
//  - UGR'16 CSV: te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt[,label], with or without header.
//  - nfdump `-o csv` (1.6 and 1.7): with its header (columns found by name: ts,te,td,sa,da,sp,dp,
//    pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,...), or without it (`-q`: recognised by its first two
//    columns being times and at least 15 columns, in nfdump's order).
//  - nfdump `-o fmt:` with commas between the fields and its header, e.g. the documented form
//      nfdump -r FILE -N -o
//      "fmt:%ts,%te,%td,%sa,%da,%sp,%dp,%pr,%flg,%fwd,%stos,%ipkt,%ibyt,%opkt,%obyt"
//    (columns found by nfdump's header words: "Date first seen", "Duration", "Src IP Addr",
//    "In Pkt", ...; durations as seconds or as nfdump's "00:00:22.052"). Leave out `-q` with
//    fmt: unless the fields are in the order above. Use -N: scaled numbers ("1.2 M") are errors.
//  - Bidirectional nfdump output (`-b`, `-B`: opkt/obyt are not 0): ReadOptions::biflows.
// Times are read as UTC ("YYYY-MM-DD HH:MM:SS", a 'T' may separate date and time, a fraction is
// dropped); a zone suffix ("Z", "+02:00", "-0500") is applied. nfdump prints local time: run it
// with TZ=UTC. Compression is detected from the file's magic bytes: plain, xz, gzip. Reading
// streams: the whole file is never held in memory at once by the reader itself.
// Durations are rounded to the millisecond on reading (UGR'16's resolution; its files also hold
// float artifacts such as "1.3719999999999999"), and written with at most 3 decimals ("0",
// "7", "22.052"), so write-then-read gives equal records. Blank lines are skipped; in nfdump
// output a blank line or a line starting with "Summary" or "No matching flows" ends the records.
// Columns fwd, stos and label are optional in a header (default 0 / "background"); the STAN
// repository's spelling "lable" is accepted.
// IPv6 addresses are read and written; the model covers IPv4, so IPv6 rows are delivered only
// with ReadOptions::ipv6 and otherwise skipped and counted (read_summary says so).
//
// Errors name the place: "flows.csv:1041: column 'byt': 'abc' is not an integer".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "stan/io/flow.h"

namespace stan {

class ByteSource;

// What to make of a bidirectional record (nfdump -b/-B: out packets or bytes are not 0):
//  split: two records, the forward one (sa -> da, ipkt, ibyt) and the reverse one (da -> sa,
//         ports swapped, opkt, obyt; ICMP keeps its type/code), both with the record's te, td,
//         flags, ToS, fwd and label (nfdump keeps one set of these for both directions);
//  forward: the forward direction only (out counters dropped, counted in ReadStats).
enum class Biflows { split, forward };

struct ReadOptions {
  bool skip_bad_rows = false;  // skip malformed rows (counted in ReadStats) instead of throwing
  int64_t max_rows = -1;       // stop after this many records delivered (-1: all)
  int64_t row_limit = -1;      // more records delivered than this is an error naming it (-1: none)
  bool ipv6 = false;           // deliver IPv6 records (else skip and count them)
  Biflows biflows = Biflows::split;
};

struct ReadStats {
  int64_t rows = 0;             // records delivered
  int64_t lines = 0;            // data rows in the file (not header, blank or summary lines)
  int64_t bad_rows = 0;         // rows skipped with skip_bad_rows
  int64_t ipv6_rows = 0;        // IPv6 rows skipped (ReadOptions::ipv6 false)
  int64_t biflow_rows = 0;      // bidirectional rows (out counters not 0)
  int64_t reverse_records = 0;  // records made from their reverse direction (Biflows::split)
  std::string first_error;      // message of the first skipped row, if any
  std::string format;           // "ugr16", "nfdump" (-o csv) or "nfdump-fmt"
};

// One line for the user about what reading left out or added, or "" when every row became one
// record: "flows.csv: skipped 144 of 216 rows: IPv6 (the model covers IPv4)",
// "...: 3 malformed (first: flows.csv:17: column 'byt': ...)", "...: 12 bidirectional rows
// split into 24 records".
std::string read_summary(const std::string& path, const ReadStats& s);

// Parses --biflows: "split" or "forward"; throws naming the text.
Biflows parse_biflows(const std::string& text);

// Streams every record of `path` to `on_row`. `table` receives interned label names (the
// record's `label` field indexes table.labels); rows are NOT appended to table.rows.
ReadStats for_each_flow(const std::string& path, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt = {});

// Reads the whole file into a table (rows in file order).
FlowTable read_flows(const std::string& path, const ReadOptions& opt = {},
                     ReadStats* stats = nullptr);

// The same over any byte stream (e.g. ByteSource(name, bytes) over memory, for tests and
// fuzzing); messages name src.name().
ReadStats for_each_flow(ByteSource& src, FlowTable& table,
                        const std::function<void(const FlowRecord&)>& on_row,
                        const ReadOptions& opt = {});
FlowTable read_flows(ByteSource& src, const ReadOptions& opt = {}, ReadStats* stats = nullptr);

// Writes UGR'16 CSV with a header line, atomically (temporary file in the same folder, renamed
// when complete). The name must end in .csv, .csv.gz or .csv.xz (compressed accordingly).
void write_flows(const std::string& path, const FlowTable& table);
// Throws stan::Error naming the path unless it ends in .csv, .csv.gz or .csv.xz.
void check_csv_output_name(const std::string& path);

// Streaming writer, for generation: rows are appended as they come; commit() makes the file
// appear under its final name; destroying an uncommitted writer removes the temporary file.
class FlowWriter {
 public:
  FlowWriter(const std::string& path, std::vector<std::string> labels = {"background"});
  ~FlowWriter();
  FlowWriter(const FlowWriter&) = delete;
  FlowWriter& operator=(const FlowWriter&) = delete;
  // ip6: the addresses of an IPv6 record (FlowTable::ip6_of), nullptr for IPv4.
  void write(const FlowRecord& r, const Ip6Pair* ip6 = nullptr);
  void commit();
  int64_t rows() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Field formatting and parsing shared by readers, writers and tools.
std::string format_ipv4(uint32_t ip);                               // 42.219.0.1
bool parse_ipv4(std::string_view s, uint32_t* out);                 // false if malformed
std::string format_ipv6(const std::array<uint8_t, 16>& a);          // "2001:db8::1"
bool parse_ipv6(std::string_view s, std::array<uint8_t, 16>* out);  // false if malformed
std::string format_time(int64_t unix_seconds);                      // "2016-04-11 00:01:38" (UTC)
// "YYYY-MM-DD HH:MM:SS" or ISO 8601 "YYYY-MM-DDTHH:MM:SS", an optional fraction (dropped) and an
// optional zone ("Z", "+02:00", "+0200", "-05"); without a zone the time is UTC. -> Unix seconds.
bool parse_time(std::string_view s, int64_t* out);
std::string format_flags(uint8_t flags);             // ".AP.SF"
bool parse_flags(std::string_view s, uint8_t* out);  // "UAPRSF" with '.' for unset
std::string protocol_name(uint8_t pr);               // "TCP", "UDP", ... or the number
std::string port_class_name(int64_t c);  // port_class c: "80", or its ports: "5024-5123"
bool parse_protocol(std::string_view s, uint8_t* out);  // name (any case) or number

}  // namespace stan
