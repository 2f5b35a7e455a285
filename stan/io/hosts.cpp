#include "stan/io/hosts.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace stan {

std::string HostService::name() const {
  std::string proto = protocol_name(protocol);
  std::transform(proto.begin(), proto.end(), proto.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::string(serves ? "serves_" : "uses_") + proto + "_" + port_class_name(port_class);
}

bool host_serves(int64_t local_class, int64_t remote_class, bool outgoing) {
  return local_class < remote_class || (local_class == remote_class && !outgoing);
}

HostService host_service(const HostFlow& f, const FlowRecord& r) {
  const int64_t local = port_class(f.local_port), remote = port_class(f.remote_port);
  return HostService{host_serves(local, remote, f.outgoing), r.pr, std::min(local, remote)};
}

std::vector<std::pair<size_t, size_t>> day_ranges(const HostStream& s) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < s.flows.size(); ++i)
    if (i == 0 || day_of(s.flows[i].te) != day_of(s.flows[i - 1].te))
      out.emplace_back(i, i + 1);
    else
      out.back().second = i + 1;
  return out;
}

std::map<HostService, int64_t> host_service_counts(const HostStream& s, const FlowTable& table) {
  std::map<HostService, int64_t> count;
  for (const HostFlow& f : s.flows) ++count[host_service(f, table.rows[f.row])];
  return count;
}

namespace {

uint32_t prefix_mask(int len) {
  return len == 0 ? 0 : ~uint32_t{0} << (32 - len);
}

}  // namespace

Ipv4Prefix parse_prefix(const std::string& text) {
  std::string_view s = text;
  size_t slash = s.find('/');
  Ipv4Prefix p;
  STAN_CHECK(s.find(':') == std::string_view::npos, "address prefix '", text,
             "' is IPv6: hosts here are IPv4 (the model covers IPv4 only)");
  STAN_CHECK(parse_ipv4(s.substr(0, slash), &p.addr), "bad address prefix '", text,
             "': expected a.b.c.d/len");
  p.len = 32;
  if (slash != std::string_view::npos) {
    std::string_view l = s.substr(slash + 1);
    auto [q, ec] = std::from_chars(l.data(), l.data() + l.size(), p.len);
    STAN_CHECK(
        !l.empty() && ec == std::errc() && q == l.data() + l.size() && p.len >= 0 && p.len <= 32,
        "bad address prefix '", text, "': length must be 0-32");
  }
  p.addr &= prefix_mask(p.len);  // 42.219.7.1/16 means 42.219.0.0/16
  return p;
}

std::string format_prefix(const Ipv4Prefix& p) {
  return format_ipv4(p.addr) + "/" + std::to_string(p.len);
}

bool Ipv6Prefix::contains(const std::array<uint8_t, 16>& ip) const {
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(len - 8 * i, 0, 8);
    if (bits == 0) return true;
    const auto mask = static_cast<uint8_t>(0xFF << (8 - bits));
    if ((ip[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

std::string format_prefix(const Ipv6Prefix& p) {
  return format_ipv6(p.addr) + "/" + std::to_string(p.len);
}

void add_owner_prefix(OwnerSelector& owners, const std::string& text) {
  if (text.find(':') == std::string::npos) {
    owners.prefixes.push_back(parse_prefix(text));
    return;
  }
  const size_t slash = text.find('/');
  Ipv6Prefix p;
  STAN_CHECK(parse_ipv6(std::string_view(text).substr(0, slash), &p.addr), "bad address prefix '",
             text, "': expected a.b.c.d/len or an IPv6 prefix such as 2001:db8::/32");
  p.len = 128;
  if (slash != std::string::npos) {
    std::string_view l = std::string_view(text).substr(slash + 1);
    auto [q, ec] = std::from_chars(l.data(), l.data() + l.size(), p.len);
    STAN_CHECK(
        !l.empty() && ec == std::errc() && q == l.data() + l.size() && p.len >= 0 && p.len <= 128,
        "bad address prefix '", text, "': length must be 0-128");
  }
  for (int i = 0; i < 16; ++i) {  // 2001:db8::1/32 means 2001:db8::/32
    const int bits = std::clamp(p.len - 8 * i, 0, 8);
    p.addr[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
  }
  owners.prefixes6.push_back(p);
}

std::string describe_owners(const OwnerSelector& o) {
  if (!o.hosts.empty()) {
    std::string out = std::to_string(o.hosts.size());
    out += " listed hosts (";
    out += format_ipv4(o.hosts.front());
    out += o.hosts.size() > 1 ? ", ...)" : ")";
    return out;
  }
  std::string out;
  auto add = [&](const std::string& p) {
    if (!out.empty()) out += ',';
    out += p;
  };
  for (const auto& p : o.prefixes) add(format_prefix(p));
  for (const auto& p : o.prefixes6) add(format_prefix(p));
  return out.empty() ? format_prefix(kDefaultOwnerPrefix) : out;
}

std::string sibling_host_list(const std::string& data_path) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(data_path).parent_path() / "hosts.csv";
  std::error_code ec;
  return fs::is_regular_file(p, ec) && p != fs::path(data_path) ? p.string() : "";
}

bool OwnerSelector::is_owner6(const std::array<uint8_t, 16>& ip) const {
  for (const Ipv6Prefix& p : prefixes6)
    if (p.contains(ip)) return true;
  return false;
}

bool OwnerSelector::is_owner(uint32_t ip) const {
  if (!hosts.empty()) return std::find(hosts.begin(), hosts.end(), ip) != hosts.end();
  if (prefixes.empty()) return prefixes6.empty() && kDefaultOwnerPrefix.contains(ip);
  for (const Ipv4Prefix& p : prefixes)
    if (p.contains(ip)) return true;
  return false;
}

std::vector<HostStream> build_host_streams(const FlowTable& table, const OwnerSelector& owners) {
  // is_owner scans `hosts` linearly; a set makes the per-row test constant time.
  std::unordered_set<uint32_t> host_set(owners.hosts.begin(), owners.hosts.end());
  auto owner = [&](uint32_t ip) {
    return owners.hosts.empty() ? owners.is_owner(ip) : host_set.count(ip) > 0;
  };

  std::unordered_map<uint32_t, size_t> index;  // host -> position in streams
  std::vector<HostStream> streams;
  auto stream_of = [&](uint32_t host) -> HostStream& {
    auto [it, fresh] = index.emplace(host, streams.size());
    if (fresh) streams.push_back(HostStream{host, {}});
    return streams[it->second];
  };

  const auto& rows = table.rows;
  for (size_t i = 0; i < rows.size(); ++i) {
    const FlowRecord& r = rows[i];
    HostFlow f;
    f.row = static_cast<int64_t>(i);
    f.te = r.te;
    if (owner(r.sa)) {
      f.outgoing = true;
      f.local_port = r.sp;
      f.remote_port = r.dp;
      f.remote_ip = r.da;
      stream_of(r.sa).flows.push_back(f);
    }
    // A flow from a host to itself belongs to its stream once (as outgoing).
    if (r.da != r.sa && owner(r.da)) {
      f.outgoing = false;
      f.local_port = r.dp;
      f.remote_port = r.sp;
      f.remote_ip = r.sa;
      stream_of(r.da).flows.push_back(f);
    }
  }

  std::sort(streams.begin(), streams.end(),
            [](const HostStream& a, const HostStream& b) { return a.host < b.host; });
  for (HostStream& s : streams) {
    // Rows were appended in file order, so a stable sort keeps file order among equal times.
    std::stable_sort(s.flows.begin(), s.flows.end(),
                     [](const HostFlow& a, const HostFlow& b) { return a.te < b.te; });
    for (size_t i = 0; i < s.flows.size(); ++i)
      s.flows[i].dt = i == 0 ? 0 : s.flows[i].te - s.flows[i - 1].te;
  }
  return streams;
}

std::vector<uint32_t> read_host_list(const std::string& path) {
  std::ifstream in(path);
  STAN_CHECK(in, "cannot open host list '", path, "'");
  std::vector<uint32_t> hosts;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string first = line.substr(0, line.find(','));
    uint32_t ip = 0;
    if (parse_ipv4(first, &ip)) {
      hosts.push_back(ip);
    } else {
      STAN_CHECK(n == 1, path, ":", n, ": '", first, "' is not an IPv4 address");
    }
  }
  STAN_CHECK(!hosts.empty(), "host list '", path, "' has no addresses");
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  return hosts;
}

int64_t first_day_start(const std::vector<HostStream>& streams) {
  int64_t min_te = INT64_MAX;
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) min_te = std::min(min_te, f.te);
  return static_cast<int64_t>(std::floor(static_cast<double>(min_te) / 86400.0)) * 86400;
}

}  // namespace stan
