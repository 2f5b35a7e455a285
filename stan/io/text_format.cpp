#include "stan/io/text_format.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace stan {

std::string strprintf(const char* f, ...) {
  va_list ap, ap2;
  va_start(ap, f);
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, f, ap);
  va_end(ap);
  std::string out(static_cast<size_t>(std::max(n, 0)), '\0');
  std::vsnprintf(out.data(), out.size() + 1, f, ap2);
  va_end(ap2);
  return out;
}

std::string format_number(double v, int prec) {
  return std::isfinite(v) ? strprintf("%.*f", prec, v) : "-";
}

}  // namespace stan
