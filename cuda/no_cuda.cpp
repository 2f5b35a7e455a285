// Linked into CPU-only builds: every CUDA entry point throws.
#include "tensor/backend.h"

namespace stan {

Backend& cuda_backend() {
  throw Error("[cuda] built without CUDA: reconfigure with -DSTAN_CUDA=ON on a machine with nvcc");
}

bool cuda_available() {
  return false;
}

}  // namespace stan
