// Errors: stan::Error for user errors (bad shapes, files, flags); STAN_ASSERT for internal
// invariants (a failure is a bug in this project). Library code throws, never exits.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace stan {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
[[noreturn]] void assert_fail(const char* cond, const char* file, int line, const std::string& msg);
}  // namespace detail

}  // namespace stan

// STAN_CHECK(cond, "[op] message ", value, ...): throws stan::Error with the concatenated message.
#define STAN_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) throw ::stan::Error(::stan::detail::concat(__VA_ARGS__)); \
  } while (0)

// STAN_ASSERT(cond, ...): an internal invariant; failing it is a bug, reported as such.
#define STAN_ASSERT(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::stan::detail::assert_fail(#cond, __FILE__, __LINE__, ::stan::detail::concat(__VA_ARGS__)); \
  } while (0)
