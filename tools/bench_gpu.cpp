// bench_gpu: the CUDA backend against the libraries it wraps, on the model's shapes.
//   GEMM (M x K x N): stan::matmul on CUDA tensors vs cublasSgemm called directly, for a
//     batch of 512 windows through the 96-wide layers and the 1670-class port heads, and 2048^3.
//   conv2d forward / backward on the STAN CNN shapes (N=512, 6x16 grid, 3x3, pad 1): our
//     backend (cuDNN heuristic algorithms, per-shape cache) vs cuDNN called directly with the
//     algorithms cudnnFind* measures fastest.
//   Achieved bandwidth of elementwise kernels over 64M floats (log_norm_cdf: the mixture
//     loss's core; exp; a strided copy) against a device-to-device cudaMemcpy.
// Timings: CUDA events around `iters` calls after one warm-up call, float32, TF32 off unless
// --tf32. Prints the device, driver and runtime versions first.
//
//   bench_gpu [--iters 20] [--tf32] [--quick]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#ifdef STAN_WITH_CUDA
#include <functional>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/handles.h"
#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"
#include "tensor/ops_nn.h"
#include "tensor/random.h"

namespace {

using namespace stan;

// Milliseconds per call of f, by CUDA events on the backend's stream.
double time_ms(const std::function<void()>& f, int iters) {
  f();
  cuda_backend().synchronize();
  cudaEvent_t e0, e1;
  STAN_CUDA_CHECK(cudaEventCreate(&e0));
  STAN_CUDA_CHECK(cudaEventCreate(&e1));
  STAN_CUDA_CHECK(cudaEventRecord(e0, cuda::stream()));
  for (int i = 0; i < iters; ++i) f();
  STAN_CUDA_CHECK(cudaEventRecord(e1, cuda::stream()));
  STAN_CUDA_CHECK(cudaEventSynchronize(e1));
  float ms = 0;
  STAN_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cuda_backend().synchronize();  // surfaces device-side errors
  return ms / iters;
}

void bench_gemm(int iters, bool quick) {
  struct Shape3 {
    int64_t m, k, n;
  };
  std::vector<Shape3> shapes = {{512, 96, 96}, {512, 96, 1670}, {512, 1670, 96}};
  if (!quick) shapes.push_back({2048, 2048, 2048});
  std::printf("\nGEMM float32 (TF32 %s): C(M,N) = A(M,K) @ B(K,N)\n",
              cuda::allow_tf32() ? "on" : "off");
  std::printf("%-18s %12s %12s %10s %12s\n", "M x K x N", "ours ms", "cuBLAS ms", "ours/cuB",
              "ours TFLOP/s");
  Generator g(1);
  cublasHandle_t h = cuda::cublas_handle();
  for (const Shape3& s : shapes) {
    const Tensor a = g.normal({s.m, s.k}, DType::f32, Device::cuda());
    const Tensor b = g.normal({s.k, s.n}, DType::f32, Device::cuda());
    Tensor c = empty({s.m, s.n}, DType::f32, Device::cuda());
    NoGradGuard ng;
    const double ours = time_ms([&] { Tensor r = matmul(a, b); }, iters);
    const double ref = time_ms(
        [&] {
          const float one = 1, zero = 0;
          STAN_CUBLAS_CHECK(cublasSetMathMode(
              h, cuda::allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
          STAN_CUBLAS_CHECK(cublasSgemm(
              h, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(s.n), static_cast<int>(s.m),
              static_cast<int>(s.k), &one, b.data<float>(), static_cast<int>(s.n), a.data<float>(),
              static_cast<int>(s.k), &zero, c.data<float>(), static_cast<int>(s.n)));
        },
        iters);
    const double flops = 2.0 * s.m * s.k * s.n;
    char name[64];
    std::snprintf(name, sizeof name, "%ldx%ldx%ld", static_cast<long>(s.m), static_cast<long>(s.k),
                  static_cast<long>(s.n));
    std::printf("%-18s %12.4f %12.4f %10.2f %12.2f\n", name, ours, ref, ours / ref,
                flops / (ours * 1e-3) / 1e12);
  }
}

// cuDNN directly: descriptors, cudnnFind* for the fastest algorithms, forward and backward.
struct DirectConv {
  cudnnTensorDescriptor_t x{}, y{}, bias{};
  cudnnFilterDescriptor_t w{};
  cudnnConvolutionDescriptor_t conv{};
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t ws_fwd = 0, ws_data = 0, ws_filter = 0;

  DirectConv(int n, int c, int hh, int ww, int o) {
    cudnnHandle_t h = cuda::cudnn_handle();
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias));
    STAN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    STAN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    STAN_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, hh, ww));
    STAN_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, o, hh, ww));
    STAN_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, o, 1, 1));
    STAN_CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, o, c, 3, 3));
    STAN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    STAN_CUDNN_CHECK(cudnnSetConvolutionMathType(
        conv, cuda::allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    int got = 0;
    cudnnConvolutionFwdAlgoPerf_t pf[16];
    STAN_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, x, w, conv, y, 16, &got, pf));
    fwd = pf[0].algo;
    ws_fwd = pf[0].memory;
    cudnnConvolutionBwdDataAlgoPerf_t pd[16];
    STAN_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, w, y, conv, x, 16, &got, pd));
    bwd_data = pd[0].algo;
    ws_data = pd[0].memory;
    cudnnConvolutionBwdFilterAlgoPerf_t pw[16];
    STAN_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, x, y, conv, w, 16, &got, pw));
    bwd_filter = pw[0].algo;
    ws_filter = pw[0].memory;
  }
  ~DirectConv() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(bias);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
};

void bench_conv(int iters, bool quick) {
  struct ConvShape {
    const char* name;
    int64_t n, c, h, w, o;
  };
  std::vector<ConvShape> shapes = {{"conv1 1->64 6x16", 512, 1, 6, 16, 64},
                                   {"conv2 64->64 6x16", 512, 64, 6, 16, 64},
                                   {"conv3 64->128 3x8", 512, 64, 3, 8, 128},
                                   {"conv4 128->128 3x8", 512, 128, 3, 8, 128}};
  if (quick) shapes.resize(2);
  std::printf(
      "\nconv2d 3x3 pad 1, float32 (TF32 %s): ours = backend (cuDNN heuristics), "
      "cuDNN = direct calls with cudnnFind* algorithms\n",
      cuda::allow_tf32() ? "on" : "off");
  std::printf("%-20s %10s %10s %10s %10s %10s %10s\n", "shape (N=512)", "fwd ours", "fwd cuDNN",
              "ratio", "bwd ours", "bwd cuDNN", "ratio");
  Generator g(2);
  cudnnHandle_t h = cuda::cudnn_handle();
  Backend& be = cuda_backend();
  for (const ConvShape& s : shapes) {
    const Tensor x = g.normal({s.n, s.c, s.h, s.w}, DType::f32, Device::cuda());
    const Tensor w = g.normal({s.o, s.c, 3, 3}, DType::f32, Device::cuda());
    const Tensor b = g.normal({s.o}, DType::f32, Device::cuda());
    const Tensor gy = g.normal({s.n, s.o, s.h, s.w}, DType::f32, Device::cuda());
    Tensor y = empty(gy.shape(), DType::f32, Device::cuda());
    Tensor gx = empty_like(x), gw = empty_like(w), gb = empty_like(b);
    const Conv2dArgs args{1, 1, 1, 1};
    const double fwd = time_ms([&] { be.conv2d_forward(x, w, b, args, y); }, iters);
    const double bwd = time_ms([&] { be.conv2d_backward(x, w, gy, args, gx, gw, gb); }, iters);
    DirectConv d(static_cast<int>(s.n), static_cast<int>(s.c), static_cast<int>(s.h),
                 static_cast<int>(s.w), static_cast<int>(s.o));
    cuda::Scratch ws_f(d.ws_fwd), ws_d(d.ws_data), ws_w(d.ws_filter);
    const float one = 1, zero = 0;
    const double fwd_ref = time_ms(
        [&] {
          STAN_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x, x.raw_data(), d.w, w.raw_data(),
                                                   d.conv, d.fwd, ws_f.get(), d.ws_fwd, &zero, d.y,
                                                   y.raw_data()));
          STAN_CUDNN_CHECK(cudnnAddTensor(h, &one, d.bias, b.raw_data(), &one, d.y, y.raw_data()));
        },
        iters);
    const double bwd_ref = time_ms(
        [&] {
          STAN_CUDNN_CHECK(cudnnConvolutionBackwardData(
              h, &one, d.w, w.raw_data(), d.y, gy.raw_data(), d.conv, d.bwd_data, ws_d.get(),
              d.ws_data, &zero, d.x, gx.raw_data()));
          STAN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
              h, &one, d.x, x.raw_data(), d.y, gy.raw_data(), d.conv, d.bwd_filter, ws_w.get(),
              d.ws_filter, &zero, d.w, gw.raw_data()));
          STAN_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, &one, d.y, gy.raw_data(), &zero, d.bias,
                                                        gb.raw_data()));
        },
        iters);
    std::printf("%-20s %10.4f %10.4f %10.2f %10.4f %10.4f %10.2f\n", s.name, fwd, fwd_ref,
                fwd / fwd_ref, bwd, bwd_ref, bwd / bwd_ref);
  }
}

void bench_bandwidth(int iters, bool quick) {
  const int64_t n = quick ? (int64_t{16} << 20) : (int64_t{64} << 20);
  std::printf("\nelementwise bandwidth, %ldM float32 (read + write = %.0f MB per call)\n",
              static_cast<long>(n >> 20), 8.0 * n / 1e6);
  std::printf("%-34s %10s %10s\n", "kernel", "ms", "GB/s");
  Generator g(3);
  const Tensor x = g.normal({n}, DType::f32, Device::cuda());
  Tensor y = empty({n}, DType::f32, Device::cuda());
  NoGradGuard ng;
  const double bytes = 8.0 * n;
  auto row = [&](const char* name, double ms) {
    std::printf("%-34s %10.4f %10.1f\n", name, ms, bytes / (ms * 1e-3) / 1e9);
  };
  row("cudaMemcpy device to device",
      time_ms(
          [&] {
            STAN_CUDA_CHECK(cudaMemcpyAsync(y.raw_data(), x.raw_data(), 4 * n,
                                            cudaMemcpyDeviceToDevice, cuda::stream()));
          },
          iters));
  row("exp", time_ms([&] { Tensor r = exp(x); }, iters));
  row("log_norm_cdf (mixture loss core)", time_ms([&] { Tensor r = log_norm_cdf(x); }, iters));
  const Tensor xt = x.reshape({4096, n / 4096}).t();  // strided read, contiguous write
  row("transposed copy (contiguous())", time_ms([&] { Tensor r = xt.contiguous(); }, iters));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_gpu: the CUDA backend vs cuBLAS / cuDNN called directly"};
  int iters = 20;
  bool tf32 = false, quick = false;
  app.add_option("--iters", iters, "timed calls per measurement")->check(CLI::PositiveNumber);
  app.add_flag("--tf32", tf32, "allow TF32 tensor-core math (both sides)");
  app.add_flag("--quick", quick, "fewer and smaller cases");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!stan::cuda_available()) {
      std::fprintf(stderr, "bench_gpu: no CUDA device\n");
      return 1;
    }
    std::printf("device: %s\n", stan::cuda::device_summary().c_str());
    stan::cuda::set_allow_tf32(tf32);
    bench_gemm(iters, quick);
    bench_conv(iters, quick);
    bench_bandwidth(iters, quick);
    std::printf("\ncaching allocator: %.1f MB in use, %.1f MB cached\n",
                stan::cuda::allocated_bytes() / 1e6, stan::cuda::cached_bytes() / 1e6);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

#else  // CPU-only build

int main() {
  std::puts("bench_gpu: built without CUDA (reconfigure with -DSTAN_CUDA=ON where nvcc exists)");
  return 1;
}

#endif
