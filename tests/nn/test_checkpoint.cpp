// Checkpoints: round trip, and every kind of broken file or mismatched model fails with a
// message that names the file and the problem; a failed save writes nothing.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "nn/mixture.h"
#include "nn_test_util.h"
#include "temp_dir.h"

using namespace stan;
using namespace stan::nn;
using nn_test::require_error;
using stan::testing::read_bytes;
using stan::testing::TempDir;
using stan::testing::write_bytes;
namespace fs = std::filesystem;

namespace {

// Writes `content` to `path` and requires loading it to fail with an error naming the file and
// holding every one of `parts`.
void expect_bad_checkpoint(const std::string& path, const std::string& content,
                           const std::vector<std::string>& parts) {
  write_bytes(path, content);
  std::vector<std::string> all{path};
  all.insert(all.end(), parts.begin(), parts.end());
  require_error([&] { load_checkpoint(path); }, all);
}

// A safetensors file from a header and a data block (header padded like save_checkpoint).
std::string st_file(const std::string& header, const std::string& data) {
  std::string h = header;
  while ((8 + h.size()) % 8) h += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((static_cast<uint64_t>(h.size()) >> (8 * i)) & 0xff);
  return out + h + data;
}

// Splits a saved checkpoint into (header JSON, data block).
std::pair<nlohmann::ordered_json, std::string> split_file(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return {nlohmann::ordered_json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

const char* kMeta = R"("__metadata__":{"format":"stan-safetensors","format_version":"1"})";

struct Net : Module {
  std::shared_ptr<Linear> a;
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<MixtureHead> head;
  explicit Net(Generator& gen, int64_t width = 4) {
    a = register_module("a", std::make_shared<Linear>(3, width, gen));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(width));
    head = register_module("head", std::make_shared<MixtureHead>(width, 2, gen));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*bn)((*a)(x))); }
  std::string describe() const override { return "Net"; }
};

}  // namespace

TEST_CASE("checkpoint: round trip keeps values dtypes order and metadata") {
  TempDir dir("roundtrip");
  Generator gen(201);
  Net net(gen);
  (void)net(gen.normal({5, 3}));  // moves the batch-norm statistics off their initial values
  Tensor f64 = from_vector<double>({1.5, -2.25}, {2});
  Tensor empty_t = zeros({0, 3});
  NamedTensors tensors = net.state();
  tensors.emplace_back("extra.f64", f64);
  tensors.emplace_back("extra.empty", empty_t);
  tensors.emplace_back("extra.scalar", scalar(7, DType::i64));
  const std::string path = dir.path("model.safetensors");
  save_checkpoint(path, tensors, {{"epoch", "3"}, {"note", "hello \"quoted\" \xc3\xa9"}});
  REQUIRE(dir.files().size() == 1);  // no temporary file left behind

  Checkpoint ck = load_checkpoint(path);
  REQUIRE(ck.path == path);
  REQUIRE(ck.meta("epoch") == "3");
  REQUIRE(ck.meta("note") == "hello \"quoted\" \xc3\xa9");
  REQUIRE(ck.meta("format") == kCheckpointFormat);
  REQUIRE(ck.meta("format_version") == std::to_string(kCheckpointVersion));
  REQUIRE(ck.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    REQUIRE(ck.tensors[i].first == tensors[i].first);  // file order = save order
    const Tensor& want = tensors[i].second;
    const Tensor& got = ck.tensors[i].second;
    REQUIRE(got.shape() == want.shape());
    REQUIRE(got.dtype() == want.dtype());
    if (want.dtype() == DType::i64)
      REQUIRE(got.to_vector<int64_t>() == want.to_vector<int64_t>());
    else
      REQUIRE(got.to(DType::f64).to_vector<double>() ==
              want.detach().to(DType::f64).to_vector<double>());
  }
  REQUIRE(ck.has("a.weight"));
  REQUIRE_FALSE(ck.has("nope"));
  require_error([&] { ck.get("nope"); }, {path, "'nope'"});
  require_error([&] { ck.meta("nope"); }, {path, "'nope'"});
  REQUIRE(ck.with_prefix("extra.").size() == 3);
  REQUIRE(ck.with_prefix("extra.")[0].first == "f64");

  // load_state into a freshly initialised model gives the same outputs.
  Generator gen2(999);
  Net other(gen2);
  NoGradGuard ng;
  net.eval();
  other.eval();
  Tensor x = Generator(5).normal({4, 3});
  REQUIRE(other(x).to_vector<float>() != net(x).to_vector<float>());
  // Without a prefix the extra.* tensors are unexpected for this model...
  require_error(
      [&] { load_state(other.state(), ck); },
      {"(3 problems)", "unexpected tensor 'extra.f64'", "unexpected tensor 'extra.scalar'"});
  // ...and a checkpoint of the model alone loads.
  const std::string model_path = dir.path("model_only.safetensors");
  save_checkpoint(model_path, net.state());
  load_state(other.state(), load_checkpoint(model_path));
  REQUIRE(other(x).to_vector<float>() == net(x).to_vector<float>());
  const auto ob = other.named_buffers(), nb = net.named_buffers();
  for (size_t i = 0; i < ob.size(); ++i) {
    INFO(ob[i].first);
    REQUIRE(ob[i].second.to(DType::f64).to_vector<double>() ==
            nb[i].second.to(DType::f64).to_vector<double>());
  }
}

TEST_CASE("checkpoint: load_state copies in place with a prefix and reports every mismatch") {
  TempDir dir("state");
  Generator gen(210);
  Net net(gen);
  const std::string path = dir.path("m.safetensors");
  NamedTensors prefixed;
  for (auto& [n, t] : net.state()) prefixed.emplace_back("attr.bytes." + n, t);
  prefixed.emplace_back("other.x", zeros({2}));
  save_checkpoint(path, prefixed);
  Checkpoint ck = load_checkpoint(path);

  Generator gen2(211);
  Net copy(gen2);
  Tensor w_handle = copy.a->weight;  // handles keep pointing at the loaded values
  load_state(copy.state(), ck, "attr.bytes.");
  REQUIRE(w_handle.to_vector<float>() == net.a->weight.to_vector<float>());
  REQUIRE(copy.bn->num_batches_tracked.item<int64_t>() ==
          net.bn->num_batches_tracked.item<int64_t>());
  REQUIRE(copy.a->weight.requires_grad());
  REQUIRE(copy.a->weight.is_leaf());

  // Missing tensor, wrong shape, extra tensor: all named in one error; nothing is copied.
  Generator gen3(212);
  Net wide(gen3, 5);  // different width: many shape mismatches
  require_error([&] { load_state(wide.state(), ck, "attr.bytes."); },
                {path, "does not match the model", "'attr.bytes.a.weight'", "float32[4,3]",
                 "model expects float32[5,3]"});
  NamedTensors missing = ck.with_prefix("attr.bytes.");
  missing.erase(missing.begin() + 1);  // a.bias
  missing.emplace_back("surplus", zeros({1}));
  const std::string p2 = dir.path("m2.safetensors");
  save_checkpoint(p2, missing);
  Checkpoint ck2 = load_checkpoint(p2);
  Generator gen4(213);
  Net target(gen4);
  const auto before = target.a->weight.to_vector<float>();
  require_error([&] { load_state(target.state(), ck2); },
                {p2, "(2 problems)", "missing tensor 'a.bias'", "unexpected tensor 'surplus'"});
  REQUIRE(target.a->weight.to_vector<float>() == before);  // no partial load
  // A dtype mismatch is a mismatch too.
  NamedTensors as_f64;
  for (auto& [n, t] : ck.with_prefix("attr.bytes."))
    as_f64.emplace_back(n, t.dtype() == DType::f32 ? t.to(DType::f64) : t);
  const std::string p3 = dir.path("m3.safetensors");
  save_checkpoint(p3, as_f64);
  require_error([&] { load_state(target.state(), load_checkpoint(p3)); },
                {"tensor 'a.weight': file has float64[4,3], model expects float32[4,3]"});
}

TEST_CASE("checkpoint: broken files fail with a message naming the problem") {
  TempDir dir("broken");
  const std::string good = dir.path("good.safetensors");
  save_checkpoint(good, {{"w", from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                         {"b", from_vector<float>({7, 8}, {2})}});
  const std::string bytes = read_bytes(good);
  // Not a structured binding: clang 14 cannot capture those in the lambdas below.
  const auto split = split_file(bytes);
  const nlohmann::ordered_json& header = split.first;
  const std::string& data = split.second;
  REQUIRE(data.size() == 32);
  const std::string p = dir.path("bad.safetensors");
  auto expect_bad = [&](const std::string& content, const std::vector<std::string>& parts) {
    expect_bad_checkpoint(p, content, parts);
  };

  SECTION("missing file") {
    require_error([&] { load_checkpoint(dir.path("none.safetensors")); },
                  {"none.safetensors", "cannot open"});
  }
  SECTION("truncated") {
    expect_bad(bytes.substr(0, 5), {"too short"});
    expect_bad(bytes.substr(0, 40), {"truncated", "header length"});
    expect_bad(bytes.substr(0, bytes.size() - 4), {"truncated", "tensor 'b'"});
    expect_bad(bytes.substr(0, bytes.size() - 20), {"truncated"});
  }
  SECTION("corrupted header: bad JSON, not an object, bad fields") {
    std::string bad = bytes;
    bad[8] = 'x';  // '{' -> 'x'
    expect_bad(bad, {"corrupted checkpoint header", "invalid JSON"});
    expect_bad(st_file("[1,2,3]", ""), {"not a JSON object"});
    expect_bad(st_file(std::string("{") + kMeta + R"(,"w":{"dtype":"F32","shape":[2]}})",
                       std::string(8, '\0')),
               {"corrupted checkpoint header", "data_offsets"});
    expect_bad(st_file(std::string("{") + kMeta +
                           R"(,"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                       std::string(4, '\0')),
               {"'w'", "unsupported dtype", "F16"});
    expect_bad(st_file(std::string("{") + kMeta +
                           R"(,"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                       std::string(8, '\0')),
               {"'w'", "negative dimension"});
    expect_bad(st_file(std::string("{") + kMeta +
                           R"(,"w":{"dtype":"F32","shape":"two","data_offsets":[0,8]}})",
                       std::string(8, '\0')),
               {"corrupted checkpoint header"});
  }
  SECTION("bad offsets") {
    auto with = [&](const std::string& name, nlohmann::ordered_json offsets) {
      auto h = header;
      h[name]["data_offsets"] = offsets;
      return st_file(h.dump(), data);
    };
    expect_bad(with("w", {24, 0}), {"'w'", "bad data_offsets"});
    expect_bad(with("w", {0, 20}), {"'w'", "20 bytes of data for shape [2,3]", "24 expected"});
    expect_bad(with("b", {28, 36}), {"'b'", "truncated", "ends at byte 36"});
    expect_bad(with("w", {0, 24, 48}), {"'w'", "bad data_offsets"});
    // Not whole non-negative numbers (found by fuzzing: converting 1e308 was undefined).
    expect_bad(with("w", {0, 1e308}), {"'w'", "bad data_offsets"});
    expect_bad(with("w", {0.0, 24.0}), {"'w'", "bad data_offsets"});
    expect_bad(with("w", {-24, 0}), {"'w'", "bad data_offsets"});
    expect_bad(with("w", "0,24"), {"'w'", "bad data_offsets"});
  }
  SECTION("overlapping offsets, holes, extra bytes") {
    auto h = header;
    h["b"]["data_offsets"] = {16, 24};  // b inside w, 8 bytes at the end unused
    expect_bad(st_file(h.dump(), data), {"corrupted", "overlaps at byte 16"});
    h["b"]["data_offsets"] = {32, 40};  // a hole at 24..32
    expect_bad(st_file(h.dump(), data + std::string(8, '\0')), {"corrupted", "hole at byte 24"});
    expect_bad(st_file(header.dump(), data + std::string(8, '\0')),
               {"corrupted", "cover 32 bytes", "has 40"});
  }
  SECTION("a shape whose byte count overflows") {
    // 2^62 x 4 float32: 2^66 bytes, 0 after wrapping; must not allocate, crash or load.
    auto h = header;
    h["w"]["shape"] = {4611686018427387904LL, 4};
    h["w"]["data_offsets"] = {0, 0};
    h["b"]["data_offsets"] = {0, 32};
    h["b"]["shape"] = {8};
    expect_bad(st_file(h.dump(), data), {"'w'", "[4611686018427387904,4]"});
  }
  SECTION("wrong or missing format marker, unsupported version") {
    auto h = header;
    h["__metadata__"]["format"] = "someone-else";
    expect_bad(st_file(h.dump(), data), {"not a stan model", "'format'"});
    h.erase("__metadata__");
    expect_bad(st_file(h.dump(), data), {"not a stan model"});
    h = header;
    h["__metadata__"]["format_version"] = "99";
    expect_bad(st_file(h.dump(), data), {"format version 99 is not supported"});
    h["__metadata__"]["format_version"] = "one";
    expect_bad(st_file(h.dump(), data), {"format version one is not supported"});
  }
  // The good file still loads (the checks above did not depend on luck).
  REQUIRE(load_checkpoint(good).get("b").to_vector<float>() == std::vector<float>{7, 8});
}

TEST_CASE("checkpoint: a failed save leaves no file") {
  TempDir dir("failsave");
  const std::string nowhere = dir.path("no/such/folder/model.safetensors");
  require_error(
      [&] {
        save_checkpoint(nowhere, {{"w", zeros({2})}});
      },
      {"no/such/folder/model.safetensors"});
  REQUIRE_FALSE(fs::exists(nowhere));
  REQUIRE(dir.files().size() == 0);
  // Duplicate names are refused before anything is written; an existing file is kept.
  const std::string path = dir.path("m.safetensors");
  save_checkpoint(path, {{"w", ones({2})}});
  const std::string before = read_bytes(path);
  require_error(
      [&] {
        save_checkpoint(path, {{"w", zeros({2})}, {"w", zeros({2})}});
      },
      {"[save_checkpoint]", "duplicate", "'w'"});
  REQUIRE(read_bytes(path) == before);
  REQUIRE(dir.files().size() == 1);
}

TEST_CASE("checkpoint: non-finite values are refused on save and on load, naming the tensor") {
  TempDir dir("nonfinite");
  const std::string p = dir.path("m.safetensors");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // Saving: nothing is written, an existing file is kept.
  save_checkpoint(p, {{"w", ones({3})}});
  const std::string before = read_bytes(p);
  require_error(
      [&] {
        save_checkpoint(p, {{"ok", ones({2})}, {"w", from_vector<float>({1, nan, 3}, {3})}});
      },
      {"[save_checkpoint]", "tensor 'w'", "non-finite value (nan at element 1 of 3)"});
  require_error(
      [&] {
        save_checkpoint(p, {{"d", from_vector<double>({-HUGE_VAL}, {1})}});
      },
      {"tensor 'd'", "(-inf at element 0 of 1)"});
  REQUIRE(read_bytes(p) == before);
  REQUIRE(dir.files().size() == 1);
  // Loading a file that holds them (written by someone else).
  auto [header, data] = split_file(before);
  for (float bad : {nan, inf, -inf}) {
    std::string d = data;
    std::memcpy(d.data() + 4, &bad, sizeof bad);
    write_bytes(p, st_file(header.dump(), d));
    require_error([&] { load_checkpoint(p); },
                  {p, "tensor 'w' holds a non-finite value", "at element 1 of 3"});
  }
  // Integer tensors have no such values; they load.
  save_checkpoint(p, {{"i", from_vector<int64_t>({-1, 0, 9}, {3})}});
  REQUIRE(load_checkpoint(p).get("i").to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 9});
}

TEST_CASE("checkpoint: hostile shapes and sizes fail before any allocation") {
  TempDir dir("hostile");
  const std::string p = dir.path("bad.safetensors");
  auto expect_bad = [&](const std::string& content, const std::vector<std::string>& parts) {
    expect_bad_checkpoint(p, content, parts);
  };
  // A zero next to huge dimensions: no data, but the strides would overflow.
  expect_bad(
      st_file(
          std::string("{") + kMeta +
              R"(,"w":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}})",
          ""),
      {"'w'", "[0,4611686018427387904,4611686018427387904]", "larger than any model"});
  expect_bad(
      st_file(std::string("{") + kMeta +
                  R"(,"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})",
              std::string(4, '\0')),
      {"'w'", "not a list of at most 8 dimensions"});
  expect_bad(st_file(std::string("{") + kMeta +
                         R"(,"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})",
                     std::string(8, '\0')),
             {"'w'", "a dimension is not an integer: 2.5"});
  expect_bad(st_file(std::string("{") + kMeta + R"(,"w":[1,2]})", ""), {"'w' is not an object"});
  expect_bad(st_file(R"({"__metadata__":{"format":7}})", ""),
             {"metadata 'format' is not a string"});
  expect_bad(st_file(R"({"__metadata__":[1]})", ""), {"'__metadata__' is not an object"});
  // A header length over the format's 100 MB limit.
  std::string big(64, ' ');
  const uint64_t n = (uint64_t{100} << 20) + 8;
  for (int i = 0; i < 8; ++i) big[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  expect_bad(big, {"header length", "over the format's limit"});
  // A folder.
  fs::create_directory(dir.path("sub"));
  require_error([&] { load_checkpoint(dir.path("sub")); },
                {"sub", "is a folder, not a model file"});
  // The same checks over memory.
  require_error([&] { parse_checkpoint("in-memory", "short"); }, {"in-memory", "too short"});
}
