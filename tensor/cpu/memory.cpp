// The CPU backend instance and its memory: aligned host blocks, plain memcpy.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"

namespace stan {

Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

namespace cpu {

// 64-byte aligned blocks carved out of plain malloc; the byte before a block holds its offset
// from malloc's pointer. Not aligned_alloc: glibc's memalign path defeats malloc's dynamic mmap
// threshold, so each large tensor was mapped fresh and page-faulted on first touch (a 512x1670
// float32 matmul output: ~400 faults per call, +25-90% time in bench_matmul); malloc'd blocks
// are reused.
void* CpuBackend::allocate(size_t nbytes) {
  auto* base = static_cast<unsigned char*>(std::malloc(((nbytes + 63) / 64) * 64 + 64));
  if (!base) return nullptr;
  const size_t shift = 64 - (reinterpret_cast<uintptr_t>(base) & 63);  // 1..64
  unsigned char* p = base + shift;
  p[-1] = static_cast<unsigned char>(shift);
  return p;
}
void CpuBackend::deallocate(void* p) {
  if (!p) return;
  unsigned char* q = static_cast<unsigned char*>(p);
  std::free(q - q[-1]);
}
void CpuBackend::memcpy(void* dst, const void* src, size_t n, int) {
  std::memcpy(dst, src, n);
}

}  // namespace cpu
}  // namespace stan
