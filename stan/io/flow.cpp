#include "stan/io/flow.h"

#include "tensor/error.h"

namespace stan {

uint8_t FlowTable::label_index(std::string_view name) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == name) return static_cast<uint8_t>(i);
  }
  // `label` is a uint8_t: at most 256 distinct names.
  STAN_CHECK(labels.size() < 256, "too many distinct labels (at most 256): cannot add '", name,
             "'");
  labels.emplace_back(name);
  return static_cast<uint8_t>(labels.size() - 1);
}

uint32_t FlowTable::add_ip6(const Ip6Pair& p) {
  STAN_CHECK(ip6.size() < UINT32_MAX, "too many IPv6 records in one table");
  ip6.push_back(p);
  return static_cast<uint32_t>(ip6.size());
}

}  // namespace stan
