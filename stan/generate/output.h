// Ordered output: flows arrive host by host, step by step; they leave in (time, host, sequence)
// order, each as soon as no host can still produce an earlier one (the watermark: the earliest
// clock of the hosts still running).
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "stan/io/flow.h"

namespace stan {

class OrderedOutput {
 public:
  explicit OrderedOutput(std::function<void(const FlowRecord&)> emit) : emit_(std::move(emit)) {}
  void add(int64_t host, int64_t seq, const FlowRecord& r) { pending_.push({r.te, host, seq, r}); }
  // Emits every pending flow earlier than `watermark`.
  void release(int64_t watermark);
  void flush() { release(INT64_MAX); }
  int64_t emitted() const { return emitted_; }
  int64_t pending() const { return static_cast<int64_t>(pending_.size()); }

 private:
  struct Item {
    int64_t te, host, seq;
    FlowRecord rec;
    bool operator>(const Item& o) const {
      return te != o.te ? te > o.te : host != o.host ? host > o.host : seq > o.seq;
    }
  };
  std::function<void(const FlowRecord&)> emit_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pending_;
  int64_t emitted_ = 0;
};

}  // namespace stan
