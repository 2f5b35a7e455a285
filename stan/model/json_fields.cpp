#include "stan/model/json_fields.h"

#include <cmath>
#include <limits>

#include "tensor/error.h"

namespace stan::json_fields {

namespace {

// A short rendering of a bad value for messages (a huge array is not printed whole).
std::string shown(const nlohmann::json& v) {
  std::string s = v.is_structured() ? (v.is_array() ? "an array" : "an object") : v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// The array j[key] of at most max_size elements, each read by convert(element, its name).
template <typename T, typename Convert>
std::vector<T> get_array(const nlohmann::json& j, const std::string& part, const char* key,
                         size_t max_size, const char* elements, Convert convert) {
  const nlohmann::json& v = field(j, part, key);
  STAN_CHECK(v.is_array() && v.size() <= max_size, part, ": '", key, "' is ", shown(v),
             " (expected a list of at most ", max_size, " ", elements, ")");
  std::vector<T> out;
  for (size_t i = 0; i < v.size(); ++i)
    out.push_back(convert(v[i], detail::concat(part, ": '", key, "'[", i, "]")));
  return out;
}

}  // namespace

void require_object(const nlohmann::json& j, const std::string& part) {
  STAN_CHECK(j.is_object(), part, ": expected a JSON object, got ", shown(j));
}

const nlohmann::json& field(const nlohmann::json& j, const std::string& part, const char* key) {
  require_object(j, part);
  auto it = j.find(key);
  STAN_CHECK(it != j.end(), part, ": missing '", key, "'");
  return *it;
}

int64_t as_int(const nlohmann::json& v, const std::string& what, int64_t lo, int64_t hi) {
  STAN_CHECK(v.is_number_integer(), what, " is ", shown(v), " (expected an integer in ", lo, "..",
             hi, ")");
  const bool too_big =
      v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t x = too_big ? std::numeric_limits<int64_t>::max() : v.get<int64_t>();
  STAN_CHECK(!too_big && x >= lo && x <= hi, what, " is ", v.dump(), " (expected ", lo, "..", hi,
             ")");
  return x;
}

double as_double(const nlohmann::json& v, const std::string& what, double lo, double hi) {
  STAN_CHECK(v.is_number(), what, " is ", shown(v), " (expected a number)");
  const double x = v.get<double>();
  STAN_CHECK(std::isfinite(x) && x >= lo && x <= hi, what, " is ", v.dump(), " (expected ", lo,
             "..", hi, ")");
  return x;
}

int64_t get_int(const nlohmann::json& j, const std::string& part, const char* key, int64_t lo,
                int64_t hi) {
  return as_int(field(j, part, key), part + ": '" + key + "'", lo, hi);
}

double get_double(const nlohmann::json& j, const std::string& part, const char* key, double lo,
                  double hi) {
  return as_double(field(j, part, key), part + ": '" + key + "'", lo, hi);
}

bool get_bool(const nlohmann::json& j, const std::string& part, const char* key) {
  const nlohmann::json& v = field(j, part, key);
  STAN_CHECK(v.is_boolean(), part, ": '", key, "' is ", shown(v), " (expected true or false)");
  return v.get<bool>();
}

std::string get_string(const nlohmann::json& j, const std::string& part, const char* key) {
  const nlohmann::json& v = field(j, part, key);
  STAN_CHECK(v.is_string(), part, ": '", key, "' is ", shown(v), " (expected a string)");
  return v.get<std::string>();
}

std::vector<int64_t> get_int_array(const nlohmann::json& j, const std::string& part,
                                   const char* key, size_t max_size, int64_t lo, int64_t hi) {
  return get_array<int64_t>(
      j, part, key, max_size, "integers",
      [&](const nlohmann::json& e, const std::string& what) { return as_int(e, what, lo, hi); });
}

std::vector<double> get_double_array(const nlohmann::json& j, const std::string& part,
                                     const char* key, size_t max_size, double lo, double hi) {
  return get_array<double>(
      j, part, key, max_size, "numbers",
      [&](const nlohmann::json& e, const std::string& what) { return as_double(e, what, lo, hi); });
}

}  // namespace stan::json_fields
