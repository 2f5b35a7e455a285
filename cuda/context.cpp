// The CUDA context: device selection, the stream, lazily created cuBLAS and cuDNN handles,
// error reporting, and the entry points stan::cuda_backend() and stan::cuda_available() (the
// caching allocator is in memory.cpp). The context is created once and never destroyed: tensors
// that live until exit still free into it, and the CUDA runtime may be unloading by then.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "cuda/cuda_backend.h"
#include "cuda/handles.h"

namespace stan {

namespace cuda {

namespace {

struct Context {
  std::mutex mu;  // handle creation
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  DeviceError* dev_err = nullptr;   // device memory kernels write into
  DeviceError* host_err = nullptr;  // pinned mirror, read after each synchronisation
  bool sync_each_op = false;
};

Context* g_ctx = nullptr;
std::atomic<bool> g_allow_tf32{false};

Context& ctx() {
  if (!g_ctx) cuda_backend();  // creates the context or throws "no CUDA device"
  return *g_ctx;
}

// "…/main/cuda/context.cpp" -> "cuda/context.cpp".
const char* short_file(const char* file) {
  const char* p = std::strstr(file, "cuda/");
  const char* last = p;
  while (p) {
    last = p;
    p = std::strstr(p + 1, "cuda/");
  }
  return last ? last : file;
}

const char* error_op_name(int op) {
  switch (op) {
    case kErrIndexSelect:
      return "index_select";
    case kErrIndexAdd:
      return "index_add";
    case kErrGather:
      return "gather";
    case kErrScatterAdd:
      return "scatter_add";
    case kErrMaxPoolBackward:
      return "max_pool2d_backward";
    case kErrLookupRows:
      return "lookup_rows";
  }
  return "cuda";
}

// After a stream synchronisation that followed a copy of the error slot into host_err: turns a
// recorded bad index into stan::Error (and clears the slot).
void raise_device_error(Context& c) {
  if (!c.host_err->flag) return;
  const DeviceError e = *c.host_err;
  c.host_err->flag = 0;
  STAN_CUDA_CHECK(cudaMemsetAsync(c.dev_err, 0, sizeof(DeviceError), c.stream));
  if (e.op == kErrDivByZero)
    throw Error("[div] integer division by zero (reported by the CUDA device)");
  if (e.op == kErrDivOverflow)
    throw Error(detail::concat("[div] integer overflow in ", e.value,
                               " / -1 (reported by the CUDA device)"));
  throw Error(detail::concat("[", error_op_name(e.op), "] index ", e.value, " out of range [0, ",
                             e.bound, ") (reported by the CUDA device)"));
}

// Synchronises the stream and reports device-side errors.
void sync_and_check(Context& c) {
  STAN_CUDA_CHECK(cudaMemcpyAsync(c.host_err, c.dev_err, sizeof(DeviceError),
                                  cudaMemcpyDeviceToHost, c.stream));
  STAN_CUDA_CHECK(cudaStreamSynchronize(c.stream));
  raise_device_error(c);
}

}  // namespace

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(detail::concat("[cuda] ", call, " failed: ", cudaGetErrorName(e), " (",
                             cudaGetErrorString(e), ") at ", short_file(file), ":", line));
}

[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* call, const char* file,
                                     int line) {
  throw Error(detail::concat("[cuda] ", call, " failed: ", cublasGetStatusName(s), " (",
                             cublasGetStatusString(s), ") at ", short_file(file), ":", line));
}

[[noreturn]] void throw_cudnn_error(cudnnStatus_t s, const char* call, const char* file, int line) {
  throw Error(detail::concat("[cuda] ", call, " failed: ", cudnnGetErrorString(s), " at ",
                             short_file(file), ":", line));
}

void after_launch(const char* kernel, const char* file, int line) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw_cuda_error(e, (std::string("launch of ") + kernel).c_str(), file, line);
  Context& c = ctx();
  if (c.sync_each_op) {
    const cudaError_t s = cudaStreamSynchronize(c.stream);
    if (s != cudaSuccess)
      throw_cuda_error(s, (std::string("run of ") + kernel).c_str(), file, line);
  }
}

void after_op(const char* op) {
  Context& c = ctx();
  if (!c.sync_each_op) return;
  try {
    sync_and_check(c);
  } catch (const Error& e) {
    const std::string msg = e.what(), tag = std::string("[") + op + "]";
    if (msg.rfind(tag, 0) == 0) throw;
    throw Error(detail::concat(tag, " ", msg));  // names the op that was running
  }
}

cudaStream_t stream() {
  return ctx().stream;
}

DeviceError* device_error_slot() {
  return ctx().dev_err;
}

cublasHandle_t cublas_handle() {
  Context& c = ctx();
  std::lock_guard<std::mutex> lock(c.mu);
  if (!c.cublas) {
    STAN_CUBLAS_CHECK(cublasCreate(&c.cublas));
    STAN_CUBLAS_CHECK(cublasSetStream(c.cublas, c.stream));
  }
  return c.cublas;
}

cudnnHandle_t cudnn_handle() {
  Context& c = ctx();
  std::lock_guard<std::mutex> lock(c.mu);
  if (!c.cudnn) {
    STAN_CUDNN_CHECK(cudnnCreate(&c.cudnn));
    STAN_CUDNN_CHECK(cudnnSetStream(c.cudnn, c.stream));
  }
  return c.cudnn;
}

void set_allow_tf32(bool on) {
  g_allow_tf32.store(on);
}
bool allow_tf32() {
  return g_allow_tf32.load();
}

std::string device_summary() {
  ctx();
  cudaDeviceProp p{};
  STAN_CUDA_CHECK(cudaGetDeviceProperties(&p, 0));
  int driver = 0, runtime = 0, cublas_major = 0, cublas_minor = 0, cublas_patch = 0;
  STAN_CUDA_CHECK(cudaDriverGetVersion(&driver));
  STAN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  STAN_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &cublas_major));
  STAN_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &cublas_minor));
  STAN_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &cublas_patch));
  const size_t dnn = cudnnGetVersion();
  const double gib = static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  char mem[32];
  std::snprintf(mem, sizeof mem, "%.1f", gib);
  return detail::concat(p.name, ", sm_", p.major, p.minor, ", ", p.multiProcessorCount, " SMs, ",
                        mem, " GiB; driver ", driver / 1000, ".", (driver % 1000) / 10,
                        ", runtime ", runtime / 1000, ".", (runtime % 1000) / 10, ", cuBLAS ",
                        cublas_major, ".", cublas_minor, ".", cublas_patch, ", cuDNN ", dnn / 10000,
                        ".", (dnn % 10000) / 100, ".", dnn % 100);
}

// ---- CudaBackend: construction, synchronisation -----------------------------------------

CudaBackend::CudaBackend() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw Error(detail::concat("[cuda] no CUDA device: cudaGetDeviceCount failed: ",
                               cudaGetErrorName(e), " (", cudaGetErrorString(e), ")"));
  }
  STAN_CHECK(count > 0, "[cuda] no CUDA device: cudaGetDeviceCount found none");
  STAN_CUDA_CHECK(cudaSetDevice(0));
  auto* c = new Context;
  STAN_CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
  STAN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&c->dev_err), sizeof(DeviceError)));
  STAN_CUDA_CHECK(cudaMemset(c->dev_err, 0, sizeof(DeviceError)));
  STAN_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&c->host_err), sizeof(DeviceError),
                                cudaHostAllocDefault));
  std::memset(c->host_err, 0, sizeof(DeviceError));
  // The memset above ran on the legacy stream, which does not order with a non-blocking one.
  STAN_CUDA_CHECK(cudaDeviceSynchronize());
  const char* sync = std::getenv("STAN_CUDA_SYNC");
  c->sync_each_op = sync && std::string(sync) == "1";
  g_ctx = c;
}

void CudaBackend::synchronize() {
  sync_and_check(ctx());
}

}  // namespace cuda

Backend& cuda_backend() {
  static cuda::CudaBackend* backend = new cuda::CudaBackend();  // never destroyed (see top)
  return *backend;
}

bool cuda_available() {
  static const bool available = [] {
    try {
      int count = 0;
      const cudaError_t e = cudaGetDeviceCount(&count);
      if (e != cudaSuccess) {
        cudaGetLastError();
        return false;
      }
      return count > 0;
    } catch (...) {
      return false;
    }
  }();
  return available;
}

}  // namespace stan
