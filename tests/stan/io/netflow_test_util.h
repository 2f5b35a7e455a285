// Helpers shared by the NetFlow export tests: an independent decoder of v9 / IPFIX messages,
// random IPv4 and IPv6 records, a UDP socket standing in for a collector, and nfcapd/nfdump
// through the shell.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/nfcapd.h"

namespace stan::netflow_test {

using stan::FlowRecord;
using stan::FlowTable;

// ---- An independent decoder of the messages ----------------------------------------------

inline uint64_t be(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

struct Decoded {
  int version = 0;
  uint64_t count_or_length = 0, sequence = 0, domain = 0;
  int template_sets = 0;
  std::vector<std::map<uint16_t, std::vector<uint8_t>>> records;  // element id -> bytes
};

// Decodes one message; templates persist in `templates` across messages (as in a collector).
inline Decoded decode(const std::vector<uint8_t>& m,
                      std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>>& templates) {
  Decoded d;
  REQUIRE(m.size() >= 16);
  d.version = static_cast<int>(be(&m[0], 2));
  d.count_or_length = be(&m[2], 2);
  const bool v9 = d.version == 9;
  const size_t header = v9 ? 20 : 16;
  d.sequence = be(&m[v9 ? 12 : 8], 4);
  d.domain = be(&m[v9 ? 16 : 12], 4);
  if (!v9) REQUIRE(d.count_or_length == m.size());
  size_t p = header;
  int v9_records = 0;
  while (p + 4 <= m.size()) {
    const auto id = static_cast<uint16_t>(be(&m[p], 2));
    const size_t len = be(&m[p + 2], 2);
    REQUIRE(len >= 4);
    REQUIRE(p + len <= m.size());
    if (v9) REQUIRE(len % 4 == 0);
    if (id == (v9 ? 0 : 2)) {
      ++d.template_sets;
      size_t q = p + 4;
      while (q + 4 <= p + len) {
        const auto tid = static_cast<uint16_t>(be(&m[q], 2));
        const size_t n = be(&m[q + 2], 2);
        auto& fields = templates[tid];
        fields.clear();
        for (size_t k = 0; k < n; ++k) {
          fields.emplace_back(static_cast<uint16_t>(be(&m[q + 4 + 4 * k], 2)),
                              static_cast<uint16_t>(be(&m[q + 6 + 4 * k], 2)));
        }
        q += 4 + 4 * n;
        ++v9_records;
      }
    } else {
      REQUIRE(id >= 256);
      REQUIRE(templates.count(id));
      const auto& fields = templates[id];
      size_t rec = 0;
      for (const auto& f : fields) rec += f.second;
      size_t q = p + 4;
      while (q + rec <= p + len) {
        std::map<uint16_t, std::vector<uint8_t>> r;
        for (const auto& [e, l] : fields) {
          r[e] = std::vector<uint8_t>(m.begin() + static_cast<long>(q),
                                      m.begin() + static_cast<long>(q + l));
          q += l;
        }
        d.records.push_back(r);
        ++v9_records;
      }
      REQUIRE(p + len - q < 4);  // only padding left
    }
    p += len;
  }
  REQUIRE(p == m.size());
  if (v9) REQUIRE(d.count_or_length == static_cast<uint64_t>(v9_records));
  return d;
}

inline uint64_t num(const std::map<uint16_t, std::vector<uint8_t>>& r, uint16_t id) {
  REQUIRE(r.count(id));
  return be(r.at(id).data(), r.at(id).size());
}

// Random records: IPv4 and IPv6, TCP/UDP/ICMP/ICMPv6/GRE, ms durations, 64-bit counters.
inline FlowTable random_flows(int n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  FlowTable t;
  t.label_index("blacklist");
  auto u = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 47, 50};
  for (int i = 0; i < n; ++i) {
    FlowRecord r;
    r.te = static_cast<int64_t>(u(1460332800, 1460419199));
    r.td = static_cast<double>(u(0, i % 4 ? 5000 : 4000000)) / 1000.0;
    const bool v6 = i % 7 == 3;
    r.pr = protos[u(0, 7)];
    if (v6) {
      stan::Ip6Pair p;
      for (auto& b : p.sa) b = static_cast<uint8_t>(u(0, 255));
      for (auto& b : p.da) b = static_cast<uint8_t>(u(0, 255));
      p.sa[0] = 0x20, p.da[0] = 0x2a;
      r.ip6 = t.add_ip6(p);
      if (r.pr == stan::proto::icmp) r.pr = 58;
    } else {
      r.sa = static_cast<uint32_t>(u(0x01000000, 0xDFFFFFFF));
      r.da = static_cast<uint32_t>(u(0x01000000, 0xDFFFFFFF));
    }
    const bool icmp = r.pr == 1 || r.pr == 58;
    const bool ports = r.pr == 6 || r.pr == 17;
    r.sp = ports ? static_cast<uint16_t>(u(0, 65535)) : 0;
    r.dp = icmp    ? static_cast<uint16_t>(u(0, 40) * 256 + u(0, 15))
           : ports ? static_cast<uint16_t>(u(0, 65535))
                   : 0;
    r.flg = r.pr == 6 ? static_cast<uint8_t>(u(0, 255)) : 0;
    r.fwd = static_cast<uint8_t>(u(0, 3));
    r.stos = static_cast<uint8_t>(u(0, 255));
    r.pkt = static_cast<int64_t>(i % 11 == 0 ? u(1ull << 32, 1ull << 40) : u(1, 5000));
    r.byt = static_cast<int64_t>(i % 13 == 0 ? u(1ull << 33, 1ull << 45) : u(40, 5000000));
    r.label = static_cast<uint8_t>(u(0, 1));
    t.rows.push_back(r);
  }
  return t;
}

// A UDP socket on 127.0.0.1 standing in for a collector.
struct TestCollector {
  int fd = -1;
  uint16_t port = 0;
  explicit TestCollector(int rcvbuf = 0) {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~TestCollector() { ::close(fd); }
  std::string url() const { return "udp://127.0.0.1:" + std::to_string(port); }
  // Reads messages until none comes for 200 ms.
  std::vector<std::vector<uint8_t>> drain() {
    std::vector<std::vector<uint8_t>> out;
    std::vector<uint8_t> buf(65536);
    while (true) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      out.emplace_back(buf.begin(), buf.begin() + n);
    }
    return out;
  }
};

inline bool nfcapd_required() {
  if (!stan::find_program("nfcapd").empty() && !stan::find_program("nfdump").empty()) return true;
  if (std::getenv("STAN_SKIP_NFDUMP_TESTS")) {
    WARN("SKIPPED: nfdump not installed (STAN_SKIP_NFDUMP_TESTS is set)");
    return false;
  }
  FAIL(
      "nfcapd/nfdump are not installed: apt-get install nfdump (tools/setup.sh installs it); "
      "set STAN_SKIP_NFDUMP_TESTS=1 to skip these tests knowingly");
  return false;
}

inline std::string temp_dir(const std::string& name) {
  const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                  ("stan_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::string shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

inline std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  size_t p = 0;
  while (true) {
    const size_t q = s.find(c, p);
    out.push_back(s.substr(p, q - p));
    if (q == std::string::npos) return out;
    p = q + 1;
  }
}

}  // namespace stan::netflow_test
