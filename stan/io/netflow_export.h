// Sending flow records to a NetFlow v9 or IPFIX collector over UDP (nfcapd, or any collector).
//
// Pacing. UDP tells the sender nothing about loss, so:
//  - `rate` > 0: at most that many flows per second (messages spaced evenly);
//  - `rate` = 0 (the default) and the collector is on this machine: as fast as the collector
//    keeps up. Its socket's receive queue (Linux /proc/net/udp and udp6) is watched and the
//    sender waits while the queue holds more than `queue_limit` bytes, so the socket never
//    overflows. The socket's drop counter before and after is reported (ExportStats).
//  - `rate` = 0 and the collector is elsewhere (or its socket is not visible, e.g. inside a
//    container): kRemoteDefaultRate flows/s, said in ExportStats::pacing.
// Templates are sent in the first message, then again every `template_every_messages` messages
// and at least every `template_every_seconds` seconds. A message is sent when full, when
// `flush_seconds` have passed since its first record (checked as records arrive), and at
// finish().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "stan/io/flow.h"
#include "stan/io/netflow_encode.h"

namespace stan {

inline constexpr double kRemoteDefaultRate = 20000;  // flows/s to a collector on another host

struct ExportOptions {
  std::string to;  // udp://HOST:PORT (IPv4, [IPv6] or a name); PORT defaults to 4739 / 2055
  ExportFormat format = ExportFormat::ipfix;
  double rate = 0;            // flows per second; 0 = see above
  size_t max_message = 1400;  // UDP payload bytes per message
  int template_every_messages = 64;
  double template_every_seconds = 10;
  double flush_seconds = 1;
  uint32_t domain = 0;               // IPFIX observation domain / v9 source id
  bool labels_in_interface = false;  // ingressInterface = label index (see netflow_encode.h)
  size_t queue_limit = 64 * 1024;    // bytes in a local collector's receive queue before waiting
};

struct ExportStats {
  int64_t flows = 0, ipv6_flows = 0, messages = 0, bytes = 0;
  double seconds = 0;       // from the first send to finish()
  double wait_seconds = 0;  // spent waiting (rate or collector queue)
  std::string destination;  // resolved address:port
  std::string pacing;       // how the rate was chosen, in words
  bool local_collector = false;
  int64_t collector_drops = -1;  // drops on the local collector's socket meanwhile (-1: unknown)
  double flows_per_second() const { return seconds > 0 ? static_cast<double>(flows) / seconds : 0; }
};

class FlowExporter {
 public:
  // Resolves the destination and opens the socket; throws stan::Error naming `to` if it is
  // malformed or cannot be resolved.
  explicit FlowExporter(const ExportOptions& opt);
  ~FlowExporter();
  FlowExporter(const FlowExporter&) = delete;
  FlowExporter& operator=(const FlowExporter&) = delete;

  // Queues a record (ip6: its addresses, for an IPv6 record); sends a message when one is full.
  // Throws stan::Error if the collector refuses (e.g. nothing listens on a local port).
  void send(const FlowRecord& r, const Ip6Pair* ip6 = nullptr);
  // Sends the last partial message, then (local collector) waits until it has read its queue.
  void finish();
  const ExportStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "udp://host:port" -> host and port (default_port when absent). Throws naming the text.
void parse_udp_url(const std::string& url, uint16_t default_port, std::string* host,
                   uint16_t* port);

// The receive queue (bytes) and drop count of the UDP sockets bound to `port` on this machine,
// summed, from /proc/net/udp and /proc/net/udp6. False if no such socket is visible.
bool local_udp_socket_state(uint16_t port, int64_t* rx_queue, int64_t* drops);

}  // namespace stan
