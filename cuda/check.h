// CUDA plumbing shared by the backend's host code (.cpp, C++20) and its kernels (.cu, C++17):
// error checks that turn every failed CUDA call into stan::Error with the call text, the one
// stream every kernel and library call runs on, device scratch memory from the caching
// allocator, and the device-side error slot that index kernels report bad indices into.
// Nothing here includes tensor/tensor.h (it needs C++20, nvcc compiles C++17).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "tensor/error.h"

namespace stan::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) throw_cuda_error(e, call, file, line);
}

// After a kernel launch: checks cudaGetLastError (bad launch configuration, no kernel image for
// this GPU) and, under STAN_CUDA_SYNC=1, synchronises and checks the kernel's execution.
void after_launch(const char* kernel, const char* file, int line);

// The stream all work is queued on (created with the backend).
cudaStream_t stream();

// Device memory from the caching allocator (never managed memory). Freed blocks are reused in
// stream order, which is safe because all work runs on one stream.
void* device_alloc(size_t nbytes);
void device_free(void* p);

// Scratch device memory for the duration of one op.
class Scratch {
 public:
  explicit Scratch(size_t nbytes) : p_(nbytes ? device_alloc(nbytes) : nullptr) {}
  ~Scratch() {
    if (p_) device_free(p_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  void* get() const { return p_; }

 private:
  void* p_;
};

// Where kernels record the first bad index (or integer division) they meet (kernels cannot
// throw, and the CPU backend throws for these). It is
// read back, and turned into stan::Error, at the next synchronisation point: a device-to-host
// copy, synchronize(), or after every op under STAN_CUDA_SYNC=1.
struct DeviceError {
  int flag;  // 0: none
  int op;    // DeviceErrorOp
  long long value;
  long long bound;
};
enum DeviceErrorOp : int {
  kErrIndexSelect = 1,
  kErrIndexAdd,
  kErrGather,
  kErrScatterAdd,
  kErrMaxPoolBackward,
  kErrDivByZero,    // integer division: value / 0
  kErrDivOverflow,  // integer division: INT64_MIN / -1
  kErrLookupRows
};
DeviceError* device_error_slot();

// Called by kernels (device code): records the first bad index.
#if defined(__CUDACC__)
__device__ inline void report_bad_index(DeviceError* err, int op, long long value,
                                        long long bound) {
  if (atomicCAS(&err->flag, 0, 1) == 0) {
    err->op = op;
    err->value = value;
    err->bound = bound;
  }
}
#endif

}  // namespace stan::cuda

// STAN_CUDA_CHECK(cudaMalloc(&p, n)): throws stan::Error naming the call, file and line.
#define STAN_CUDA_CHECK(call) ::stan::cuda::check_cuda((call), #call, __FILE__, __LINE__)
// STAN_CUDA_LAUNCHED("kernel"): place right after each <<<...>>> launch.
#define STAN_CUDA_LAUNCHED(kernel) ::stan::cuda::after_launch(kernel, __FILE__, __LINE__)
