// Checked reading of a model's metadata fields (stan/model/json_fields.cpp): the values it
// returns, and every way a field can be wrong, named with its part and key.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stan/model/json_fields.h"
#include "tensor/error.h"

using nlohmann::json;
namespace jf = stan::json_fields;

TEST_CASE("json_fields: objects and missing fields", "[json_fields]") {
  const json cfg = {{"window", 5}};
  CHECK_NOTHROW(jf::require_object(cfg, "model config"));
  CHECK(jf::field(cfg, "model config", "window") == 5);
  REQUIRE_THROWS_WITH(jf::require_object(json::array({1, 2}), "model config"),
                      "model config: expected a JSON object, got an array");
  REQUIRE_THROWS_WITH(jf::require_object(json(7), "encoding"),
                      "encoding: expected a JSON object, got 7");
  REQUIRE_THROWS_WITH(jf::require_object(json("x"), "encoding"),
                      "encoding: expected a JSON object, got \"x\"");
  REQUIRE_THROWS_WITH(jf::field(cfg, "model config", "k"), "model config: missing 'k'");
  REQUIRE_THROWS_WITH(jf::get_int(json::array(), "model config", "k", 1, 64),
                      "model config: expected a JSON object, got an array");
}

TEST_CASE("json_fields: integers are JSON integers within their bounds", "[json_fields]") {
  const json j = {
      {"window", 5},       {"lo", 1},      {"hi", 64},
      {"real", 5.0},       {"text", "5"},  {"neg", -3},
      {"big", 2147483647}, {"flag", true}, {"huge", std::numeric_limits<uint64_t>::max()}};
  CHECK(jf::get_int(j, "model config", "window", 1, 64) == 5);
  CHECK(jf::get_int(j, "model config", "lo", 1, 64) == 1);  // bounds are inclusive
  CHECK(jf::get_int(j, "model config", "hi", 1, 64) == 64);
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "real", 1, 64),
                      "model config: 'real' is 5.0 (expected an integer in 1..64)");
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "text", 1, 64),
                      "model config: 'text' is \"5\" (expected an integer in 1..64)");
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "flag", 1, 64),
                      "model config: 'flag' is true (expected an integer in 1..64)");
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "neg", 0, 10),
                      "model config: 'neg' is -3 (expected 0..10)");
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "big", 1, 64),
                      "model config: 'big' is 2147483647 (expected 1..64)");
  // Above INT64_MAX: refused, never wrapped to a negative number.
  REQUIRE_THROWS_WITH(jf::get_int(j, "model config", "huge", std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()),
                      Catch::Contains("model config: 'huge' is 18446744073709551615 (expected "));
  // A bare value (an array element) is named by `what`.
  CHECK(jf::as_int(json(17), "'protocols'[3]", 0, 255) == 17);
  REQUIRE_THROWS_WITH(jf::as_int(json(256), "'protocols'[3]", 0, 255),
                      "'protocols'[3] is 256 (expected 0..255)");
}

TEST_CASE("json_fields: numbers are finite and within their bounds", "[json_fields]") {
  const json j = {{"lr", 0.001}, {"one", 1}, {"big", 2.5}, {"text", "0.1"}, {"list", {1, 2}}};
  CHECK(jf::get_double(j, "model config", "lr", 0, 1) == 0.001);
  CHECK(jf::get_double(j, "model config", "one", 0, 1) == 1.0);  // an integer is a number
  REQUIRE_THROWS_WITH(jf::get_double(j, "model config", "big", 0, 1),
                      "model config: 'big' is 2.5 (expected 0..1)");
  REQUIRE_THROWS_WITH(jf::get_double(j, "model config", "text", 0, 1),
                      "model config: 'text' is \"0.1\" (expected a number)");
  REQUIRE_THROWS_WITH(jf::get_double(j, "model config", "list", 0, 1),
                      "model config: 'list' is an array (expected a number)");
  // NaN and infinity (which JSON text cannot hold, but a json value can) are refused.
  REQUIRE_THROWS_WITH(jf::as_double(json(std::nan("")), "'x'", -1e9, 1e9),
                      Catch::Contains("'x' is null (expected "));
  REQUIRE_THROWS_WITH(
      jf::as_double(json(std::numeric_limits<double>::infinity()), "'x'", -1e9, 1e9),
      Catch::Contains("'x' is null (expected "));
  CHECK(jf::as_double(json(-0.5), "'x'", -1, 0) == -0.5);
}

TEST_CASE("json_fields: booleans and strings", "[json_fields]") {
  const json j = {{"on", true}, {"off", false}, {"one", 1}, {"name", "mlp"}, {"obj", {{"a", 1}}}};
  CHECK(jf::get_bool(j, "encoding", "on"));
  CHECK_FALSE(jf::get_bool(j, "encoding", "off"));
  REQUIRE_THROWS_WITH(jf::get_bool(j, "encoding", "one"),
                      "encoding: 'one' is 1 (expected true or false)");
  CHECK(jf::get_string(j, "model config", "name") == "mlp");
  REQUIRE_THROWS_WITH(jf::get_string(j, "model config", "one"),
                      "model config: 'one' is 1 (expected a string)");
  REQUIRE_THROWS_WITH(jf::get_string(j, "model config", "obj"),
                      "model config: 'obj' is an object (expected a string)");
  REQUIRE_THROWS_WITH(jf::get_string(j, "model config", "none"), "model config: missing 'none'");
}

TEST_CASE("json_fields: a long bad value is shortened in the message", "[json_fields]") {
  const json j = {{"arch", std::string(100, 'a')}};
  // The dump "aaa...a" (102 characters with its quotes) is cut to 37 and "...".
  REQUIRE_THROWS_WITH(
      jf::get_int(j, "model config", "arch", 1, 2),
      "model config: 'arch' is \"" + std::string(36, 'a') + "... (expected an integer in 1..2)");
}

TEST_CASE("json_fields: arrays of bounded size and elements", "[json_fields]") {
  const json j = {{"ports", {80, 443, 53}}, {"bad", {1, 300}},        {"mixed", {0.5, "x"}},
                  {"weights", {0.25, 1}},   {"empty", json::array()}, {"scalar", 5}};
  CHECK(jf::get_int_array(j, "encoding", "ports", 3, 0, 65535) ==
        std::vector<int64_t>{80, 443, 53});
  CHECK(jf::get_int_array(j, "encoding", "empty", 3, 0, 1).empty());
  REQUIRE_THROWS_WITH(jf::get_int_array(j, "encoding", "ports", 2, 0, 65535),
                      "encoding: 'ports' is an array (expected a list of at most 2 integers)");
  REQUIRE_THROWS_WITH(jf::get_int_array(j, "encoding", "scalar", 2, 0, 65535),
                      "encoding: 'scalar' is 5 (expected a list of at most 2 integers)");
  REQUIRE_THROWS_WITH(jf::get_int_array(j, "encoding", "bad", 4, 0, 255),
                      "encoding: 'bad'[1] is 300 (expected 0..255)");
  CHECK(jf::get_double_array(j, "profiles", "weights", 2, 0, 1) == std::vector<double>{0.25, 1.0});
  REQUIRE_THROWS_WITH(jf::get_double_array(j, "profiles", "mixed", 2, 0, 1),
                      "profiles: 'mixed'[1] is \"x\" (expected a number)");
  REQUIRE_THROWS_WITH(jf::get_double_array(j, "profiles", "weights", 1, 0, 1),
                      "profiles: 'weights' is an array (expected a list of at most 1 numbers)");
  REQUIRE_THROWS_WITH(jf::get_double_array(j, "profiles", "missing", 1, 0, 1),
                      "profiles: missing 'missing'");
}
