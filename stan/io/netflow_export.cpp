// The UDP side of export: address resolution, the socket, pacing (fixed rate, or the local
// collector's receive queue read from /proc/net/udp*), template refresh.
#include "stan/io/netflow_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tensor/error.h"

namespace stan {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool is_loopback(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) {
    return (ntohl(reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr) >> 24) == 127;
  }
  const auto& a6 = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

// Whether the address belongs to one of this machine's interfaces.
bool is_local_address(const sockaddr_storage& a) {
  if (is_loopback(a)) return true;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != a.ss_family) continue;
    if (a.ss_family == AF_INET) {
      found = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr ==
              reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr;
    } else {
      found = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                          &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, 16) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

std::string address_text(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (a.ss_family == AF_INET) {
    const auto& s = reinterpret_cast<const sockaddr_in&>(a);
    inet_ntop(AF_INET, &s.sin_addr, host, sizeof host);
    port = ntohs(s.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& s = reinterpret_cast<const sockaddr_in6&>(a);
  inet_ntop(AF_INET6, &s.sin6_addr, host, sizeof host);
  port = ntohs(s.sin6_port);
  std::string out = "[";  // (not "[" + ...: GCC 12 warns falsely about that form)
  out += host;
  out += "]:";
  out += std::to_string(port);
  return out;
}

bool parse_hex(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

void parse_udp_url(const std::string& url, uint16_t default_port, std::string* host,
                   uint16_t* port) {
  const std::string scheme = "udp://";
  STAN_CHECK(url.rfind(scheme, 0) == 0, "bad collector address '", url,
             "': expected udp://HOST:PORT (e.g. udp://127.0.0.1:9995)");
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string port_text;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    STAN_CHECK(close != std::string::npos, "bad collector address '", url, "': unclosed '['");
    *host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    STAN_CHECK(after.empty() || after[0] == ':', "bad collector address '", url, "'");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = rest.rfind(':');
    STAN_CHECK(colon == std::string::npos || rest.find(':') == colon, "bad collector address '",
               url, "': write an IPv6 address in brackets, udp://[::1]:9995");
    *host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  STAN_CHECK(!host->empty(), "bad collector address '", url, "': no host");
  *port = default_port;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    STAN_CHECK(ec == std::errc() && p == port_text.data() + port_text.size() && v > 0 && v < 65536,
               "bad collector address '", url, "': port '", port_text, "' is not 1-65535");
    *port = static_cast<uint16_t>(v);
  }
}

bool local_udp_socket_state(uint16_t port, int64_t* rx_queue, int64_t* drops) {
  bool found = false;
  *rx_queue = 0;
  *drops = 0;
  for (const char* path : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      // ref pointer drops
      std::istringstream ss(line);
      std::string sl, local, remote, st, queues, f;
      if (!(ss >> sl >> local >> remote >> st >> queues)) continue;
      const size_t lc = local.rfind(':'), rc = remote.rfind(':'), qc = queues.find(':');
      int64_t lport = 0, rport = 0, rxq = 0, dr = 0;
      if (lc == std::string::npos || rc == std::string::npos || qc == std::string::npos) continue;
      if (!parse_hex(std::string_view(local).substr(lc + 1), &lport) || lport != port) continue;
      if (!parse_hex(std::string_view(remote).substr(rc + 1), &rport) || rport != 0) continue;
      if (!parse_hex(std::string_view(queues).substr(qc + 1), &rxq)) continue;
      std::string last;
      while (ss >> f) last = f;
      std::from_chars(last.data(), last.data() + last.size(), dr);
      *rx_queue += rxq;
      *drops += dr;
      found = true;
    }
  }
  return found;
}

struct FlowExporter::Impl {
  ExportOptions opt;
  NetflowEncoder enc;
  int fd = -1;
  uint16_t port = 0;
  bool watch_queue = false;  // pace by the local collector's receive queue
  double rate = 0;           // flows/s when pacing by rate
  ExportStats st;
  Clock::time_point created = Clock::now(), start, last_template, message_start;
  bool started = false, finished = false;
  int64_t messages_since_template = 0, flows_in_sent = 0, drops0 = 0;
  int64_t last_queue = 0;

  explicit Impl(const ExportOptions& o)
      : opt(o), enc(EncoderOptions{o.format, o.max_message, o.domain, o.labels_in_interface}) {}

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  void open_socket() {
    std::string host;
    parse_udp_url(opt.to, opt.format == ExportFormat::ipfix ? 4739 : 2055, &host, &port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    STAN_CHECK(rc == 0 && res, "cannot resolve collector '", opt.to, "': ", gai_strerror(rc));
    sockaddr_storage addr{};
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    const socklen_t len = res->ai_addrlen;
    freeaddrinfo(res);
    fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    STAN_CHECK(fd >= 0, "cannot open a UDP socket: ", std::strerror(errno));
    STAN_CHECK(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0,
               "cannot send to collector '", opt.to, "': ", std::strerror(errno));
    st.destination = address_text(addr);
    int64_t q = 0;
    const bool local = is_local_address(addr);
    const bool visible = local && local_udp_socket_state(port, &q, &drops0);
    STAN_CHECK(!(is_loopback(addr) && !visible && std::ifstream("/proc/net/udp")),
               "no collector listens on ", opt.to,
               " (nothing on this machine is bound to UDP port ", port,
               "): start the collector first, e.g. nfcapd -w DIR -b 127.0.0.1 -p ", port);
    st.local_collector = visible;
    if (opt.rate > 0) {
      rate = opt.rate;
      st.pacing = detail::concat("at most ", opt.rate, " flows/s (--rate)");
    } else if (visible) {
      watch_queue = true;
      st.pacing =
          "as fast as the collector keeps up (its receive queue on this machine is watched)";
    } else {
      rate = kRemoteDefaultRate;
      st.pacing = detail::concat(kRemoteDefaultRate,
                                 " flows/s (the collector's queue is not visible from here, and "
                                 "UDP reports no loss: --rate to change)");
    }
  }

  bool templates_due(Clock::time_point now) const {
    return st.messages == 0 || messages_since_template >= opt.template_every_messages ||
           seconds_between(last_template, now) >= opt.template_every_seconds;
  }

  void wait_queue_below(int64_t limit) {
    int64_t q = 0, d = 0;
    if (!local_udp_socket_state(port, &q, &d)) return;
    last_queue = q;
    if (q <= limit) return;
    const auto t0 = Clock::now();
    while (q > limit) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (!local_udp_socket_state(port, &q, &d)) break;
      STAN_CHECK(seconds_between(t0, Clock::now()) < 30, "the collector at ", opt.to,
                 " has not read its queue for 30 s: is it still running?");
    }
    last_queue = q;
    st.wait_seconds += seconds_between(t0, Clock::now());
  }

  void pace(int64_t records) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(flows_in_sent / rate));
      const auto now = Clock::now();
      if (due > now) {
        std::this_thread::sleep_until(due);
        st.wait_seconds += seconds_between(now, Clock::now());
      }
    } else if (watch_queue) {
      // Reading /proc costs microseconds: look every other message while the queue is short.
      if (st.messages % 2 == 0 || last_queue > static_cast<int64_t>(opt.queue_limit) / 2)
        wait_queue_below(static_cast<int64_t>(opt.queue_limit));
    }
    flows_in_sent += records;
  }

  void send_message() {
    if (!enc.open()) return;
    const int64_t records = enc.records();
    pace(records);
    const std::span<const uint8_t> msg = enc.take();
    while (true) {
      const ssize_t n = ::send(fd, msg.data(), msg.size(), 0);
      if (n == static_cast<ssize_t>(msg.size())) break;
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        continue;
      }
      STAN_CHECK(!(n < 0 && errno == ECONNREFUSED), "the collector at ", opt.to,
                 " refused the flows (ICMP port unreachable): is it still listening?");
      throw Error(detail::concat("sending to collector ", opt.to,
                                 " failed: ", n < 0 ? std::strerror(errno) : "short write"));
    }
    ++st.messages;
    ++messages_since_template;
    st.bytes += static_cast<int64_t>(msg.size());
  }

  void add(const FlowRecord& r, const Ip6Pair* ip6) {
    STAN_CHECK(!finished, "[FlowExporter] send after finish");
    Clock::time_point now = Clock::now();
    if (!started) {
      started = true;
      start = now;
    }
    if (enc.open() && (!enc.fits(r) || seconds_between(message_start, now) >= opt.flush_seconds)) {
      send_message();
      now = Clock::now();
    }
    if (!enc.open()) {
      const bool templates = templates_due(now);
      const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now - created);
      enc.begin(static_cast<uint32_t>(std::time(nullptr)), static_cast<uint32_t>(uptime.count()),
                templates);
      if (templates) {
        last_template = now;
        messages_since_template = 0;
      }
      message_start = now;
    }
    enc.add(r, ip6);
    ++st.flows;
    st.ipv6_flows += r.is_ipv6();
  }

  void finish() {
    if (finished) return;
    send_message();
    finished = true;
    if (watch_queue) {
      wait_queue_below(0);
      int64_t q = 0, drops = 0;
      if (local_udp_socket_state(port, &q, &drops)) st.collector_drops = drops - drops0;
    }
    st.seconds = started ? seconds_between(start, Clock::now()) : 0;
  }
};

FlowExporter::FlowExporter(const ExportOptions& opt) : impl_(std::make_unique<Impl>(opt)) {
  STAN_CHECK(opt.rate >= 0, "export rate must be >= 0 flows/s, got ", opt.rate);
  STAN_CHECK(opt.template_every_messages >= 1 && opt.template_every_seconds > 0,
             "template refresh must be at least every message / a positive number of seconds");
  impl_->open_socket();
}

FlowExporter::~FlowExporter() = default;

void FlowExporter::send(const FlowRecord& r, const Ip6Pair* ip6) {
  impl_->add(r, ip6);
}

void FlowExporter::finish() {
  impl_->finish();
}

const ExportStats& FlowExporter::stats() const {
  return impl_->st;
}

}  // namespace stan
