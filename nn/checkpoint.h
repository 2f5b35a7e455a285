// Checkpoints in the safetensors format: an 8-byte little-endian header length, a JSON header
// ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, "__metadata__": {..}}),
// then the raw little-endian data. Python users can open them with the `safetensors` package.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace stan::nn {

inline constexpr const char* kCheckpointFormat = "stan-safetensors";
inline constexpr int kCheckpointVersion = 1;

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct Checkpoint {
  std::string path;
  NamedTensors tensors;  // CPU tensors, in file order
  std::map<std::string, std::string> metadata;
  bool has(const std::string& name) const;
  Tensor get(const std::string& name) const;       // throws naming the file and tensor if absent
  std::string meta(const std::string& key) const;  // throws if absent
  // Tensors whose name starts with prefix, with the prefix removed.
  NamedTensors with_prefix(const std::string& prefix) const;
};

// Writes atomically (temporary file + rename). Metadata gains "format" and "format_version".
// A tensor holding NaN or Inf is refused (stan::Error naming it) before anything is written.
void save_checkpoint(const std::string& path, const NamedTensors& tensors,
                     std::map<std::string, std::string> metadata = {});

// Reads and validates the whole file: a truncated, corrupted or foreign file, or one holding a
// NaN or Inf value, is a stan::Error naming the file (and tensor) and the problem, never a
// crash or a partial load.
Checkpoint load_checkpoint(const std::string& path);
// The same over the file's bytes in memory; `path` names it in messages. For tests and fuzzing.
Checkpoint parse_checkpoint(const std::string& path, std::string_view bytes);

// Copies values into `state` (e.g. module.state()), in place. Every name must be present with
// the same shape and dtype, and the checkpoint must hold nothing else under `prefix`; all
// mismatches are reported together.
void load_state(const NamedTensors& state, const Checkpoint& ck, const std::string& prefix = "");

}  // namespace stan::nn
