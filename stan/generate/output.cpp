#include "stan/generate/output.h"

namespace stan {

void OrderedOutput::release(int64_t watermark) {
  while (!pending_.empty() && (watermark == INT64_MAX || pending_.top().te < watermark)) {
    emit_(pending_.top().rec);
    pending_.pop();
    ++emitted_;
  }
}

}  // namespace stan
