#include "stan/io/cli_parse.h"

#include <lzma.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "tensor/backend.h"
#include "tensor/error.h"

namespace stan {

int64_t parse_duration(const std::string& text) {
  int64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, v);
  int64_t unit = 1;
  bool ok = ec == std::errc() && v > 0;
  if (ok && p != e) {
    const std::string suffix(p, e);
    if (suffix == "s")
      unit = 1;
    else if (suffix == "m")
      unit = 60;
    else if (suffix == "h")
      unit = 3600;
    else if (suffix == "d")
      unit = 86400;
    else
      ok = false;
  }
  STAN_CHECK(ok, "invalid duration '", text,
             "' (expected a positive number with s, m, h or d, "
             "e.g. 90s, 30m, 24h)");
  // No span is longer than the supported years; this also keeps v * unit from overflowing.
  constexpr int64_t kMaxSpan = kMaxFlowTime - kMinFlowTime;
  STAN_CHECK(v <= kMaxSpan / unit, "invalid duration '", text, "' (at most ", kMaxSpan / 86400,
             " days: flow times end with the year 2099)");
  return v * unit;
}

int64_t parse_start_time(const std::string& text, const std::string& flag) {
  int64_t t = 0;
  STAN_CHECK(parse_time(text, &t), "invalid ", flag, " '", text,
             "' (expected UTC \"YYYY-MM-DD HH:MM:SS\" or ISO 8601 such as "
             "2016-04-11T00:00:00Z or 2016-04-11T02:00:00+02:00)");
  STAN_CHECK(t >= kMinFlowTime && t < kMaxFlowTime, "invalid ", flag, " '", text,
             "' (flow times must lie in the years 1970-2099)");
  return t;
}

void check_time_span(int64_t start, int64_t duration, const std::string& what) {
  STAN_CHECK(start >= kMinFlowTime && duration >= 0 && start < kMaxFlowTime &&
                 duration <= kMaxFlowTime - start,
             what, ": ", format_time(start), " plus ", duration,
             " s ends after 2099 (flow times must lie in the years 1970-2099)");
}

namespace {

// The file a command-line path names ("@file" for lists), for comparisons.
std::string file_of(const std::string& arg) {
  return !arg.empty() && arg[0] == '@' ? arg.substr(1) : arg;
}

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  const fs::path ca = fs::weakly_canonical(a, ec), cb = fs::weakly_canonical(b, ec);
  return !ca.empty() && ca == cb;
}

}  // namespace

void check_output_not_input(const std::string& out, const std::string& out_flag,
                            const std::vector<std::pair<std::string, std::string>>& inputs) {
  if (out.empty()) return;
  for (const auto& [flag, arg] : inputs) {
    const std::string in = file_of(arg);
    if (in.empty()) continue;
    STAN_CHECK(!same_file(out, in), out_flag, " '", out, "' is the input given with ", flag,
               ": it would be overwritten; write somewhere else");
  }
}

Device parse_device_checked(const std::string& text) {
  Device d = parse_device(text);
  if (d.is_cuda()) {
#ifdef STAN_WITH_CUDA
    const char* why = "no usable GPU was found";
#else
    const char* why = "this build has no CUDA backend (reconfigure with -DSTAN_CUDA=ON)";
#endif
    STAN_CHECK(cuda_available(), "no CUDA device: '", text, "' was requested but ", why);
  }
  return d;
}

std::vector<uint32_t> parse_host_list(const std::string& text) {
  if (!text.empty() && text[0] == '@') return read_host_list(text.substr(1));
  if (std::filesystem::is_regular_file(text)) return read_host_list(text);
  std::vector<uint32_t> ips;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    uint32_t ip = 0;
    STAN_CHECK(item.find(':') == std::string::npos, "host address '", item,
               "' is IPv6: hosts here are IPv4 (the model covers IPv4 only)");
    STAN_CHECK(parse_ipv4(item, &ip), "invalid host address '", item, "' (expected a.b.c.d)");
    ips.push_back(ip);
  }
  STAN_CHECK(!ips.empty(), "empty host list '", text, "'");
  return ips;
}

OwnerSelector owners_from_flags(const std::vector<std::string>& prefixes,
                                const std::string& owner_hosts, const std::string& data_path,
                                std::string* note) {
  OwnerSelector o;
  for (const std::string& p : prefixes) add_owner_prefix(o, p);
  if (!owner_hosts.empty()) o.hosts = parse_host_list(owner_hosts);
  std::string why;
  if (!owner_hosts.empty()) {
    why = "the " + std::to_string(o.hosts.size()) + " hosts of --owner-hosts";
  } else if (!prefixes.empty()) {
    why = describe_owners(o) + " (--owners)";
  } else if (const std::string list = sibling_host_list(data_path); !list.empty()) {
    o.hosts = read_host_list(list);
    why = "the " + std::to_string(o.hosts.size()) + " hosts listed in " + list +
          " (next to the data; --owners or --owner-hosts to change)";
  } else {
    why = describe_owners(o) + " (the default; --owners or --owner-hosts to change)";
  }
  if (o.ipv6_only())
    why += "; IPv6 prefixes select IPv6 flows, which are skipped: the model covers IPv4";
  if (note) *note = "owners: " + why;
  return o;
}

std::string file_crc64(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  STAN_CHECK(in, path, ": cannot open");
  std::vector<char> buf(1 << 20);
  uint64_t crc = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got > 0)
      crc = lzma_crc64(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(got), crc);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(crc));
  return hex;
}

}  // namespace stan
