#include "stan/io/netflow_encode.h"

#include <cmath>
#include <cstring>

#include "tensor/error.h"

namespace stan {

namespace {

// IANA information element ids (IPFIX); NetFlow v9 uses the same numbers for these.
enum : uint16_t {
  kOctetDeltaCount = 1,
  kPacketDeltaCount = 2,
  kProtocolIdentifier = 4,
  kIpClassOfService = 5,
  kTcpControlBits = 6,
  kSourceTransportPort = 7,
  kSourceIPv4Address = 8,
  kIngressInterface = 10,
  kDestinationTransportPort = 11,
  kDestinationIPv4Address = 12,
  kSourceIPv6Address = 27,
  kDestinationIPv6Address = 28,
  kIcmpTypeCodeIPv4 = 32,
  kForwardingStatus = 89,
  kIcmpTypeCodeIPv6 = 139,
  kFlowStartMilliseconds = 152,
  kFlowEndMilliseconds = 153,
};

constexpr uint8_t kIcmpV6 = 58;

void put8(std::vector<uint8_t>& b, uint64_t v) {
  b.push_back(static_cast<uint8_t>(v));
}
void put16(std::vector<uint8_t>& b, uint64_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& b, uint64_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void set16(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

size_t header_bytes(ExportFormat f) {
  return f == ExportFormat::ipfix ? 16 : 20;
}

}  // namespace

const char* export_format_name(ExportFormat f) {
  return f == ExportFormat::ipfix ? "ipfix" : "v9";
}

ExportFormat parse_export_format(const std::string& text) {
  if (text == "ipfix" || text == "IPFIX" || text == "10") return ExportFormat::ipfix;
  if (text == "v9" || text == "V9" || text == "9") return ExportFormat::v9;
  throw Error("unknown export format '" + text + "' (expected ipfix or v9)");
}

NetflowEncoder::NetflowEncoder(const EncoderOptions& opt) : opt_(opt) {
  STAN_CHECK(opt.max_message >= 256 && opt.max_message <= 65000,
             "[NetflowEncoder] message size must be 256 to 65000 bytes, got ", opt.max_message);
  for (int k = 0; k < 4; ++k) {
    const bool v6 = k % 2 == 1, icmp = k >= 2;
    Template t{static_cast<uint16_t>(256 + k), {}, 0};
    t.fields = {{kFlowStartMilliseconds, 8}, {kFlowEndMilliseconds, 8}};
    if (v6) {
      t.fields.insert(t.fields.end(), {{kSourceIPv6Address, 16}, {kDestinationIPv6Address, 16}});
    } else {
      t.fields.insert(t.fields.end(), {{kSourceIPv4Address, 4}, {kDestinationIPv4Address, 4}});
    }
    if (icmp) {
      // NetFlow v9 has one ICMP_TYPE element (32) for both families.
      const bool ipfix6 = v6 && opt.format == ExportFormat::ipfix;
      t.fields.push_back({ipfix6 ? kIcmpTypeCodeIPv6 : kIcmpTypeCodeIPv4, 2});
    } else {
      t.fields.insert(t.fields.end(), {{kSourceTransportPort, 2}, {kDestinationTransportPort, 2}});
    }
    t.fields.insert(t.fields.end(), {{kProtocolIdentifier, 1},
                                     {kTcpControlBits, 1},
                                     {kIpClassOfService, 1},
                                     {kForwardingStatus, 1},
                                     {kPacketDeltaCount, 8},
                                     {kOctetDeltaCount, 8}});
    if (opt.labels_in_interface) t.fields.push_back({kIngressInterface, 4});
    for (const auto& f : t.fields) t.record_bytes += f.second;
    templates_.push_back(std::move(t));
  }
  buf_.reserve(opt.max_message);
}

int NetflowEncoder::template_of(const FlowRecord& r) const {
  const bool icmp = r.pr == proto::icmp || (r.is_ipv6() && r.pr == kIcmpV6);
  return (r.is_ipv6() ? 1 : 0) + (icmp ? 2 : 0);
}

void NetflowEncoder::begin(uint32_t export_time, uint32_t uptime_ms, bool with_templates) {
  STAN_ASSERT(!open_, "NetflowEncoder::begin with a message open");
  buf_.clear();
  records_ = v9_records_ = 0;
  set_template_ = -1;
  if (opt_.format == ExportFormat::ipfix) {
    put16(buf_, 10);
    put16(buf_, 0);  // length, set by take()
    put32(buf_, export_time);
    put32(buf_, static_cast<uint32_t>(data_records_));
  } else {
    put16(buf_, 9);
    put16(buf_, 0);  // record count, set by take()
    put32(buf_, uptime_ms);
    put32(buf_, export_time);
    put32(buf_, static_cast<uint32_t>(messages_));
  }
  put32(buf_, opt_.domain);
  open_ = true;
  if (!with_templates) return;
  const size_t start = buf_.size();
  put16(buf_, opt_.format == ExportFormat::ipfix ? 2 : 0);  // template set / flowset id
  put16(buf_, 0);
  for (const Template& t : templates_) {
    put16(buf_, t.id);
    put16(buf_, t.fields.size());
    for (const auto& [id, len] : t.fields) {
      put16(buf_, id);
      put16(buf_, len);
    }
    ++v9_records_;
  }
  set16(buf_, start + 2, buf_.size() - start);
  STAN_ASSERT(buf_.size() + templates_[1].record_bytes + 12 <= opt_.max_message,
              "templates leave no room for a record");
}

bool NetflowEncoder::fits(const FlowRecord& r) const {
  const int t = template_of(r);
  // A new set needs its 4-byte header; v9 pads each set to 4 bytes (up to 3 more, twice).
  const size_t need = templates_[t].record_bytes + (t == set_template_ ? 0 : 4) + 6;
  return buf_.size() + need <= opt_.max_message;
}

void NetflowEncoder::close_set() {
  if (set_template_ < 0) return;
  if (opt_.format == ExportFormat::v9) {
    while ((buf_.size() - set_start_) % 4 != 0) buf_.push_back(0);
  }
  set16(buf_, set_start_ + 2, buf_.size() - set_start_);
  set_template_ = -1;
}

void NetflowEncoder::add(const FlowRecord& r, const Ip6Pair* ip6) {
  STAN_ASSERT(open_, "NetflowEncoder::add without begin");
  STAN_CHECK(!r.is_ipv6() || ip6, "[NetflowEncoder] an IPv6 record without its addresses");
  const int t = template_of(r);
  if (t != set_template_) {
    close_set();
    set_start_ = buf_.size();
    put16(buf_, templates_[t].id);
    put16(buf_, 0);
    set_template_ = t;
  }
  const int64_t end_ms = r.te * 1000 + r.te_ms;
  const int64_t dur_ms = std::isfinite(r.td) && r.td > 0 ? std::llround(r.td * 1000.0) : 0;
  for (const auto& [id, len] : templates_[t].fields) {
    switch (id) {
      case kFlowStartMilliseconds:
        put64(buf_, static_cast<uint64_t>(std::max<int64_t>(end_ms - dur_ms, 0)));
        break;
      case kFlowEndMilliseconds:
        put64(buf_, static_cast<uint64_t>(std::max<int64_t>(end_ms, 0)));
        break;
      case kSourceIPv4Address:
        put32(buf_, r.sa);
        break;
      case kDestinationIPv4Address:
        put32(buf_, r.da);
        break;
      case kSourceIPv6Address:
        buf_.insert(buf_.end(), ip6->sa.begin(), ip6->sa.end());
        break;
      case kDestinationIPv6Address:
        buf_.insert(buf_.end(), ip6->da.begin(), ip6->da.end());
        break;
      case kSourceTransportPort:
        put16(buf_, r.sp);
        break;
      case kDestinationTransportPort:
      case kIcmpTypeCodeIPv4:
      case kIcmpTypeCodeIPv6:
        put16(buf_, r.dp);
        break;
      case kProtocolIdentifier:
        put8(buf_, r.pr);
        break;
      case kTcpControlBits:
        put8(buf_, r.flg);
        break;
      case kIpClassOfService:
        put8(buf_, r.stos);
        break;
      case kForwardingStatus:
        put8(buf_, r.fwd);
        break;
      case kPacketDeltaCount:
        put64(buf_, static_cast<uint64_t>(std::max<int64_t>(r.pkt, 0)));
        break;
      case kOctetDeltaCount:
        put64(buf_, static_cast<uint64_t>(std::max<int64_t>(r.byt, 0)));
        break;
      case kIngressInterface:
        put32(buf_, r.label);
        break;
      default:
        STAN_ASSERT(false, "unknown template element");
    }
  }
  ++records_;
  ++v9_records_;
}

std::span<const uint8_t> NetflowEncoder::take() {
  STAN_ASSERT(open_, "NetflowEncoder::take without a message");
  close_set();
  STAN_ASSERT(buf_.size() <= opt_.max_message && buf_.size() >= header_bytes(opt_.format),
              "message size");
  set16(buf_, 2, opt_.format == ExportFormat::ipfix ? buf_.size() : v9_records_);
  open_ = false;
  ++messages_;
  data_records_ += records_;
  return {buf_.data(), buf_.size()};
}

}  // namespace stan
