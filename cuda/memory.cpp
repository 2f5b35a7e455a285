// The CUDA caching allocator and CudaBackend's memory methods. Like the context (context.cpp),
// the allocator is created once and never destroyed: tensors that live until exit still free
// into it.
#include <map>
#include <mutex>
#include <unordered_map>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace stan::cuda {

namespace {

struct Pool {
  std::mutex mu;
  std::unordered_map<void*, size_t> live;  // block -> bucket size
  std::multimap<size_t, void*> free_blocks;
  size_t allocated = 0, cached = 0;
};

Pool& pool() {
  cuda_backend();  // creates the context first, or throws "no CUDA device"
  static Pool* p = new Pool;
  return *p;
}

// Bucket sizes: multiples of 512 bytes below 1 MiB, of 2 MiB above.
size_t bucket_size(size_t n) {
  constexpr size_t kSmall = size_t{1} << 20, kLarge = size_t{2} << 20;
  if (n < kSmall) return n < 512 ? 512 : (n + 511) & ~size_t{511};
  return (n + kLarge - 1) & ~(kLarge - 1);
}

void release_cached_locked(Pool& c) {
  if (c.free_blocks.empty()) return;
  // Freed blocks may still be read by queued kernels: let them finish first.
  STAN_CUDA_CHECK(cudaStreamSynchronize(stream()));
  for (auto& [size, p] : c.free_blocks) STAN_CUDA_CHECK(cudaFree(p));
  c.free_blocks.clear();
  c.cached = 0;
}

}  // namespace

void* device_alloc(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  Pool& c = pool();
  std::lock_guard<std::mutex> lock(c.mu);
  const size_t size = bucket_size(nbytes);
  auto it = c.free_blocks.lower_bound(size);
  if (it != c.free_blocks.end() && it->first <= 2 * size) {  // reuse, wasting at most half
    void* p = it->second;
    const size_t got = it->first;
    c.free_blocks.erase(it);
    c.cached -= got;
    c.allocated += got;
    c.live.emplace(p, got);
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    release_cached_locked(c);
    e = cudaMalloc(&p, size);
  }
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw Error(detail::concat("[cuda] out of device memory allocating ", nbytes, " bytes (",
                               c.allocated, " bytes in use by tensors)"));
  }
  check_cuda(e, "cudaMalloc", __FILE__, __LINE__);
  c.allocated += size;
  c.live.emplace(p, size);
  return p;
}

void device_free(void* p) {
  if (!p) return;
  Pool& c = pool();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.live.find(p);
  STAN_ASSERT(it != c.live.end(), "device_free of a pointer the CUDA allocator did not hand out");
  c.allocated -= it->second;
  c.cached += it->second;
  c.free_blocks.emplace(it->second, p);
  c.live.erase(it);
}

size_t allocated_bytes() {
  Pool& c = pool();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.allocated;
}

size_t cached_bytes() {
  Pool& c = pool();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.cached;
}

void empty_cache() {
  Pool& c = pool();
  std::lock_guard<std::mutex> lock(c.mu);
  release_cached_locked(c);
}

void* CudaBackend::allocate(size_t nbytes) {
  return device_alloc(nbytes);
}
void CudaBackend::deallocate(void* p) {
  device_free(p);
}

void CudaBackend::memcpy(void* dst, const void* src, size_t n, int kind) {
  if (n == 0) return;
  const cudaStream_t s = stream();
  switch (kind) {
    case 0:  // pageable host memory is staged before the call returns: src may go at once
      STAN_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s));
      break;
    case 1:
      STAN_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s));
      synchronize();  // also reports errors the kernels recorded
      break;
    case 2:
      STAN_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, s));
      break;
    default:
      STAN_ASSERT(false, "memcpy kind ", kind);
  }
  after_op("memcpy");
}

}  // namespace stan::cuda
