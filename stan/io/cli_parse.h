// Parsing of command-line values shared by the tools (kept in the library so it is tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "tensor/dtype.h"

namespace stan {

// "90s", "30m", "24h", "2d", or plain seconds ("3600"). Throws naming the text.
int64_t parse_duration(const std::string& text);
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

// A --start value: UTC "YYYY-MM-DD HH:MM:SS" or ISO 8601 with a zone; throws naming the text.
int64_t parse_start_time(const std::string& text);

}  // namespace stan
