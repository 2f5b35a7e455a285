// printf-style formatting into std::string, shared by the text, JSON and HTML reports.
#pragma once

#include <string>

namespace stan {

// printf into a std::string of any length.
std::string strprintf(const char* f, ...) __attribute__((format(printf, 1, 2)));
// A fixed-point number, or "-" when not finite.
std::string format_number(double v, int prec = 4);

}  // namespace stan
