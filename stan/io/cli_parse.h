// Parsing of command-line values shared by the tools (kept in the library so it is tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "tensor/dtype.h"

namespace stan {

// Rows a command reads from its input files unless told otherwise (--max-rows): more is a
// clear error, not an exhausted memory (training holds about 0.5 KB per row: 5 GB).
inline constexpr int64_t kDefaultMaxRows = 10000000;

// "90s", "30m", "24h", "2d", or plain seconds ("3600"). Throws naming the text, also for a span
// longer than the supported years (1970-2099).
int64_t parse_duration(const std::string& text);
// A --start value: UTC "YYYY-MM-DD HH:MM:SS" or ISO 8601 with a zone, in the years 1970-2099;
// throws naming the text (`flag` names the option).
int64_t parse_start_time(const std::string& text, const std::string& flag = "--start");
// Throws (prefixed with `what`) unless [start, start + duration] lies in the years 1970-2099.
void check_time_span(int64_t start, int64_t duration, const std::string& what);
// Throws if `out` names the same file as one of the inputs ({flag, path}; "@file" allowed):
// by path, or for existing files by identity (links included).
void check_output_not_input(const std::string& out, const std::string& out_flag,
                            const std::vector<std::pair<std::string, std::string>>& inputs);
// "cpu", "cuda", "cuda:N"; for CUDA, throws "no CUDA device ..." when none is usable.
Device parse_device_checked(const std::string& text);
// Comma-separated IPv4 addresses, or "@file" (or the name of an existing file) with one address per
// line (or a CSV whose first column holds them, with or without a header line, e.g. UGR'16's
// hosts.csv).
std::vector<uint32_t> parse_host_list(const std::string& text);
// Hash of a file's bytes (CRC-64/XZ as hex), for recording which data a model was trained on.
std::string file_crc64(const std::string& path);

// The owner hosts of a command: --owners prefixes (IPv4 or IPv6) or --owner-hosts (a,b,c or a
// file) if given; otherwise the host list next to `data_path` (sibling_host_list), otherwise the
// default prefix. *note says which, for the user ("owners: the 41 hosts listed in ...").
OwnerSelector owners_from_flags(const std::vector<std::string>& prefixes,
                                const std::string& owner_hosts, const std::string& data_path,
                                std::string* note);

}  // namespace stan
