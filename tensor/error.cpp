#include "tensor/error.h"

namespace stan::detail {

void assert_fail(const char* cond, const char* file, int line, const std::string& msg) {
  throw std::logic_error(concat("internal error (a bug in stan, please report it): ", file, ":",
                                line, ": ", cond, msg.empty() ? "" : ": ", msg));
}

}  // namespace stan::detail
