// Checked reading of a model's metadata (JSON inside the model file). A missing field, a wrong
// type or a value outside its bounds is a stan::Error naming the part and the field, e.g.
// "model config: 'window' is 2147483647 (expected 1..64)", never a wrapped integer, an
// undefined float-to-int conversion or an index past the end later on.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stan::json_fields {

// j must be an object; `part` names it in messages ("model config").
void require_object(const nlohmann::json& j, const std::string& part);
const nlohmann::json& field(const nlohmann::json& j, const std::string& part, const char* key);

// An integer in [lo, hi] (a JSON integer: 5, not 5.0 or "5").
int64_t get_int(const nlohmann::json& j, const std::string& part, const char* key, int64_t lo,
                int64_t hi);
// A finite number in [lo, hi].
double get_double(const nlohmann::json& j, const std::string& part, const char* key, double lo,
                  double hi);
bool get_bool(const nlohmann::json& j, const std::string& part, const char* key);
std::string get_string(const nlohmann::json& j, const std::string& part, const char* key);

// The same for a bare value (an array element); `what` names it ("'protocols'[3]").
int64_t as_int(const nlohmann::json& v, const std::string& what, int64_t lo, int64_t hi);
double as_double(const nlohmann::json& v, const std::string& what, double lo, double hi);

// An array of at most max_size integers in [lo, hi] / finite numbers in [lo, hi].
std::vector<int64_t> get_int_array(const nlohmann::json& j, const std::string& part,
                                   const char* key, size_t max_size, int64_t lo, int64_t hi);
std::vector<double> get_double_array(const nlohmann::json& j, const std::string& part,
                                     const char* key, size_t max_size, double lo, double hi);

}  // namespace stan::json_fields
