// cuDNN descriptors and blend factors shared by conv.cpp and batch_norm.cpp.
#pragma once

#include "cuda/handles.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

inline cudnnDataType_t cudnn_type(DType t) {
  STAN_CHECK(t != DType::i64, "[cuda] cuDNN ops take floating tensors, got int64");
  return t == DType::f32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// The alpha / beta blend factors cuDNN reads: float for float data, double for double.
struct Blend {
  float f1 = 1, f0 = 0;
  double d1 = 1, d0 = 0;
  const void* one(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f1) : &d1; }
  const void* zero(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f0) : &d0; }
};
inline const Blend kBlend;

// RAII holder for a 4-d NCHW tensor descriptor.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(DType t, int64_t n, int64_t c, int64_t h, int64_t w) {
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    STAN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, cudnn_type(t),
                                                to_int("cudnn", n), to_int("cudnn", c),
                                                to_int("cudnn", h), to_int("cudnn", w)));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

}  // namespace stan::cuda
