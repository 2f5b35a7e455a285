// Element types and devices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace stan {

enum class DType : uint8_t { f32, f64, i64 };

inline size_t dtype_size(DType t) {
  return t == DType::f32 ? 4 : 8;
}
inline const char* dtype_name(DType t) {
  return t == DType::f32 ? "float32" : t == DType::f64 ? "float64" : "int64";
}
inline bool is_floating(DType t) {
  return t != DType::i64;
}

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device&) const = default;
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// "cpu", "cuda", "cuda:1"; throws stan::Error otherwise.
Device parse_device(const std::string& text);

// Calls fn(T{}) with T the C++ type of dtype.
#define STAN_DISPATCH_DTYPE(dtype, T, ...) \
  switch (dtype) {                         \
    case ::stan::DType::f32: {             \
      using T = float;                     \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
    case ::stan::DType::f64: {             \
      using T = double;                    \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
    case ::stan::DType::i64: {             \
      using T = int64_t;                   \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
  }

#define STAN_DISPATCH_FLOAT(dtype, T, ...)           \
  switch (dtype) {                                   \
    case ::stan::DType::f32: {                       \
      using T = float;                               \
      __VA_ARGS__;                                   \
      break;                                         \
    }                                                \
    case ::stan::DType::f64: {                       \
      using T = double;                              \
      __VA_ARGS__;                                   \
      break;                                         \
    }                                                \
    default:                                         \
      STAN_ASSERT(false, "floating dtype expected"); \
  }

}  // namespace stan
