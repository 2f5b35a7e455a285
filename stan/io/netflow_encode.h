// NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages for flow records: the encoding only, no
// I/O (netflow_export.h sends them).
//
// Four templates, one per address family and ICMP or not (IANA element ids and lengths; the same
// numbers in v9 and IPFIX):
//   flowStartMilliseconds 152 (8), flowEndMilliseconds 153 (8): te*1000 - td*1000 and te*1000,
//     Unix milliseconds, so the records keep their original times;
//   sourceIPv4Address 8 / destinationIPv4Address 12 (4 each), or the IPv6 ones 27 / 28 (16 each);
//   sourceTransportPort 7, destinationTransportPort 11 (2 each); for ICMP (protocol 1) and
//     ICMPv6 (58) instead icmpTypeCodeIPv4 32 / icmpTypeCodeIPv6 139 (2; v9: ICMP_TYPE 32 for
//     both) = type*256+code (the record's dp), and no ports (collectors such as nfcapd set an
//     ICMP record's source port to 0);
//   protocolIdentifier 4, tcpControlBits 6, ipClassOfService 5, forwardingStatus 89 (1 each);
//   packetDeltaCount 2, octetDeltaCount 1 (8 each: 64-bit counters);
//   optionally ingressInterface 10 (4) holding the record's label index (labels_in_interface).
// Template ids: 256 IPv4, 257 IPv6, 258 IPv4 ICMP, 259 IPv6 ICMP.
//
// Headers: v9 counts the records in the packet and numbers packets (sequence = packets sent
// before); IPFIX numbers data records (sequence = data records sent before, modulo 2^32). The
// v9 sysUptime is the milliseconds since the encoder was made.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "stan/io/flow.h"

namespace stan {

enum class ExportFormat { ipfix, v9 };
const char* export_format_name(ExportFormat f);  // "ipfix", "v9"
// "ipfix" (or "10"), "v9" (or "9"); throws stan::Error naming the text otherwise.
ExportFormat parse_export_format(const std::string& text);

struct EncoderOptions {
  ExportFormat format = ExportFormat::ipfix;
  size_t max_message = 1400;         // bytes per message (UDP payload), 256 .. 65000
  uint32_t domain = 0;               // IPFIX observation domain id / v9 source id
  bool labels_in_interface = false;  // add ingressInterface (10) = the record's label index
};

class NetflowEncoder {
 public:
  explicit NetflowEncoder(const EncoderOptions& opt);

  // Starts a message stamped with `export_time` (Unix seconds) and `uptime_ms` (v9 sysUptime),
  // with the four templates first when `templates` is true. The previous message must have been
  // taken.
  void begin(uint32_t export_time, uint32_t uptime_ms, bool templates);
  // Whether a record of this kind still fits in the current message.
  bool fits(const FlowRecord& r) const;
  // Appends a record (addresses from ip6 for an IPv6 record). Call fits() first.
  void add(const FlowRecord& r, const Ip6Pair* ip6);
  bool empty() const { return records_ == 0; }  // no data record in the current message
  bool open() const { return open_; }
  int records() const { return records_; }
  // Closes the current message and returns its bytes (valid until the next begin()).
  std::span<const uint8_t> take();

  int64_t messages() const { return messages_; }
  int64_t data_records() const { return data_records_; }  // over all messages taken

 private:
  struct Template {
    uint16_t id;
    std::vector<std::pair<uint16_t, uint16_t>> fields;  // (element id, length)
    size_t record_bytes;
  };
  int template_of(const FlowRecord& r) const;
  void close_set();

  EncoderOptions opt_;
  std::vector<Template> templates_;
  std::vector<uint8_t> buf_;
  bool open_ = false;
  int set_template_ = -1;  // template of the open data set, -1 = none
  size_t set_start_ = 0;
  int records_ = 0;     // data records in the message
  int v9_records_ = 0;  // v9 header count: template records + data records
  int64_t messages_ = 0;
  int64_t data_records_ = 0;
};

}  // namespace stan
