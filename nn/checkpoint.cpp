#include "nn/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tensor/atomic_file.h"
#include "tensor/autograd.h"

namespace stan::nn {

namespace {

const char* st_dtype(DType t) {
  return t == DType::f32 ? "F32" : t == DType::f64 ? "F64" : "I64";
}

bool parse_st_dtype(const std::string& s, DType* t) {
  if (s == "F32")
    *t = DType::f32;
  else if (s == "F64")
    *t = DType::f64;
  else if (s == "I64")
    *t = DType::i64;
  else
    return false;
  return true;
}

// Limits that no real model comes near; anything beyond is a corrupt or hostile file.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // as the safetensors format
constexpr uint64_t kMaxFileBytes = uint64_t{16} << 30;
constexpr size_t kMaxRank = 8;
constexpr uint64_t kMaxElements = uint64_t{1} << 40;

// The first non-finite value of a float tensor: its index, or -1 if all are finite.
template <typename T>
int64_t first_non_finite(const Tensor& x) {
  const T* p = static_cast<const T*>(x.raw_data());
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return i;
  return -1;
}

// Throws naming the tensor if a float tensor holds NaN or +-Inf.
void check_finite(const std::string& where, const std::string& name, const Tensor& x) {
  int64_t i = -1;
  double v = 0;
  if (x.dtype() == DType::f32 && (i = first_non_finite<float>(x)) >= 0)
    v = static_cast<const float*>(x.raw_data())[i];
  else if (x.dtype() == DType::f64 && (i = first_non_finite<double>(x)) >= 0)
    v = static_cast<const double*>(x.raw_data())[i];
  if (i < 0) return;
  throw Error(detail::concat(where, ": tensor '", name, "' holds a non-finite value (",
                             std::isnan(v) ? "nan"
                             : v > 0       ? "inf"
                                           : "-inf",
                             " at element ", i, " of ", x.numel(), ")"));
}

}  // namespace

bool Checkpoint::has(const std::string& name) const {
  for (auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

Tensor Checkpoint::get(const std::string& name) const {
  for (auto& [n, t] : tensors)
    if (n == name) return t;
  throw Error(path + ": checkpoint has no tensor '" + name + "'");
}

std::string Checkpoint::meta(const std::string& key) const {
  auto it = metadata.find(key);
  STAN_CHECK(it != metadata.end(), path, ": checkpoint metadata lacks '", key, "'");
  return it->second;
}

NamedTensors Checkpoint::with_prefix(const std::string& prefix) const {
  NamedTensors r;
  for (auto& [n, t] : tensors)
    if (n.rfind(prefix, 0) == 0) r.emplace_back(n.substr(prefix.size()), t);
  return r;
}

void save_checkpoint(const std::string& path, const NamedTensors& tensors,
                     std::map<std::string, std::string> metadata) {
  metadata["format"] = kCheckpointFormat;
  metadata["format_version"] = std::to_string(kCheckpointVersion);
  nlohmann::ordered_json header;
  header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  std::set<std::string> names;
  size_t offset = 0;
  for (auto& [name, t] : tensors) {
    STAN_CHECK(names.insert(name).second, "[save_checkpoint] duplicate tensor name '", name, "'");
    Tensor c = t.detach().to(Device::cpu()).contiguous();
    // A model with NaN or Inf weights is useless and would load as garbage: never write one.
    check_finite("[save_checkpoint] " + path, name, c);
    const size_t bytes = c.numel() * dtype_size(c.dtype());
    header[name] = {{"dtype", st_dtype(c.dtype())},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(c);
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h += ' ';  // align the data block
  uint64_t n = h.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  AtomicFile f(path);
  f.write(len, 8);
  f.write(h);
  for (const Tensor& c : host)
    if (c.numel()) f.write(c.raw_data(), c.numel() * dtype_size(c.dtype()));
  f.commit();
}

Checkpoint load_checkpoint(const std::string& path) {
  std::error_code ec;
  STAN_CHECK(!std::filesystem::is_directory(path, ec), path,
             ": is a folder, not a model file (name the .safetensors file inside)");
  std::ifstream in(path, std::ios::binary);
  STAN_CHECK(in, path, ": cannot open checkpoint (", std::strerror(errno), ")");
  const auto size = std::filesystem::file_size(path, ec);
  STAN_CHECK(ec || size <= kMaxFileBytes, path, ": ", size, " bytes is larger than any model (",
             kMaxFileBytes, " bytes at most): not a checkpoint");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  STAN_CHECK(!in.bad(), path, ": cannot read checkpoint (", std::strerror(errno), ")");
  return parse_checkpoint(path, bytes);
}

Checkpoint parse_checkpoint(const std::string& path, std::string_view bytes) {
  STAN_CHECK(bytes.size() >= 8, path, ": not a checkpoint: ", bytes.size(),
             " bytes is too short for a safetensors header");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  STAN_CHECK(n <= kMaxHeaderBytes, path, ": not a safetensors file (header length ", n,
             " is over the format's limit of ", kMaxHeaderBytes, ")");
  STAN_CHECK(n <= bytes.size() - 8, path, ": truncated or not a safetensors file (header length ",
             n, " exceeds the file's ", bytes.size() - 8, " remaining bytes)");
  nlohmann::ordered_json header;  // ordered: tensors come back in file order
  try {
    header = nlohmann::ordered_json::parse(bytes.begin() + 8,
                                           bytes.begin() + 8 + static_cast<int64_t>(n));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupted checkpoint header (invalid JSON: " + e.what() + ")");
  }
  STAN_CHECK(header.is_object(), path, ": corrupted checkpoint header (not a JSON object)");
  Checkpoint ck;
  ck.path = path;
  const size_t data_start = 8 + n, data_len = bytes.size() - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> extents;  // [begin, end) of each tensor's data
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        STAN_CHECK(it->is_object(), path,
                   ": corrupted checkpoint header ('__metadata__' is not an object)");
        for (auto m = it->begin(); m != it->end(); ++m) {
          STAN_CHECK(m->is_string(), path, ": corrupted checkpoint header (metadata '", m.key(),
                     "' is not a string)");
          ck.metadata[m.key()] = m->get<std::string>();
        }
        continue;
      }
      const auto& e = it.value();
      STAN_CHECK(e.is_object(), path, ": corrupted checkpoint header (entry '", it.key(),
                 "' is not an object)");
      DType t;
      STAN_CHECK(parse_st_dtype(e.at("dtype").get<std::string>(), &t), path, ": tensor '", it.key(),
                 "' has unsupported dtype ", e.at("dtype").dump());
      STAN_CHECK(e.at("shape").is_array() && e.at("shape").size() <= kMaxRank, path,
                 ": corrupted checkpoint header (tensor '", it.key(),
                 "': the shape is not a list of at most ", kMaxRank, " dimensions)");
      Shape s;
      for (const auto& dim : e.at("shape")) {
        STAN_CHECK(dim.is_number_integer(), path, ": corrupted checkpoint header (tensor '",
                   it.key(), "': a dimension is not an integer: ", dim.dump(), ")");
        s.push_back(dim.get<int64_t>());
      }
      // Every dimension counts, even next to a zero: strides are products of the later ones.
      uint64_t elements = 1;
      for (int64_t d : s) {
        STAN_CHECK(d >= 0, path, ": tensor '", it.key(), "' has a negative dimension");
        const uint64_t m = std::max<uint64_t>(1, static_cast<uint64_t>(d));
        STAN_CHECK(m <= kMaxElements / elements, path, ": tensor '", it.key(), "' of shape ",
                   shape_str(s), " is larger than any model's (over ", kMaxElements, " elements)");
        elements *= m;
      }
      const nlohmann::json& offsets = e.at("data_offsets");
      std::vector<uint64_t> off;
      if (offsets.is_array())
        for (const auto& o : offsets) {
          // Whole numbers only: a float or a negative number is no offset (converting one
          // would be undefined).
          if (!o.is_number_unsigned()) {
            off.clear();
            break;
          }
          off.push_back(o.get<uint64_t>());
        }
      STAN_CHECK(off.size() == 2 && off[0] <= off[1], path, ": tensor '", it.key(),
                 "' has bad data_offsets");
      // Bytes the shape needs, without overflow: never more than the data block holds.
      uint64_t want = std::find(s.begin(), s.end(), 0) != s.end() ? 0 : dtype_size(t);
      for (int64_t d : s)
        if (want) {
          STAN_CHECK(want <= data_len / static_cast<uint64_t>(d), path,
                     ": truncated or corrupted: tensor '", it.key(), "' of shape ", shape_str(s),
                     " needs more than the ", data_len, " bytes of the data block");
          want *= static_cast<uint64_t>(d);
        }
      STAN_CHECK(off[1] - off[0] == want, path, ": tensor '", it.key(), "' has ", off[1] - off[0],
                 " bytes of data for shape ", shape_str(s), " (", want, " expected)");
      STAN_CHECK(off[1] <= data_len, path, ": truncated: tensor '", it.key(), "' ends at byte ",
                 off[1], " of a data block of ", data_len, " bytes");
      Tensor x = empty(s, t);
      if (want) std::memcpy(x.raw_data(), bytes.data() + data_start + off[0], want);
      check_finite(path, it.key(), x);
      ck.tensors.emplace_back(it.key(), x);
      extents.emplace_back(off[0], off[1]);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupted checkpoint header (" + e.what() + ")");
  }
  // As safetensors requires: the tensors tile the data block, without overlaps or holes.
  std::sort(extents.begin(), extents.end());
  uint64_t end = 0;
  for (auto [b, e] : extents) {
    STAN_CHECK(b == end, path, ": corrupted checkpoint: tensor data ",
               b < end ? "overlaps" : "leaves a hole", " at byte ", std::min(b, end));
    end = e;
  }
  STAN_CHECK(end == data_len, path, ": corrupted checkpoint: tensors cover ", end,
             " bytes but the data block has ", data_len);
  auto fmt = ck.metadata.find("format");
  STAN_CHECK(fmt != ck.metadata.end() && fmt->second == kCheckpointFormat, path,
             ": a safetensors file, but not a stan model (metadata 'format' is missing or not '",
             kCheckpointFormat, "')");
  const std::string& vtext = ck.metadata["format_version"];
  int version = 0;
  const auto [vend, verr] = std::from_chars(vtext.data(), vtext.data() + vtext.size(), version);
  if (verr != std::errc() || vend != vtext.data() + vtext.size()) version = 0;
  STAN_CHECK(version >= 1 && version <= kCheckpointVersion, path, ": checkpoint format version ",
             ck.metadata["format_version"], " is not supported (this build reads 1..",
             kCheckpointVersion, ")");
  return ck;
}

void load_state(const NamedTensors& state, const Checkpoint& ck, const std::string& prefix) {
  std::ostringstream problems;
  int count = 0;
  std::set<std::string> expected;
  for (auto& [name, t] : state) {
    expected.insert(prefix + name);
    if (!ck.has(prefix + name)) {
      problems << "\n  missing tensor '" << prefix + name << "' (" << t.str() << ")";
      ++count;
      continue;
    }
    Tensor v = ck.get(prefix + name);
    if (v.shape() != t.shape() || v.dtype() != t.dtype()) {
      problems << "\n  tensor '" << prefix + name << "': file has " << dtype_name(v.dtype())
               << shape_str(v.shape()) << ", model expects " << dtype_name(t.dtype())
               << shape_str(t.shape());
      ++count;
    }
  }
  for (auto& [name, t] : ck.tensors)
    if (name.rfind(prefix, 0) == 0 && !expected.count(name)) {
      problems << "\n  unexpected tensor '" << name << "'";
      ++count;
    }
  STAN_CHECK(count == 0, ck.path, ": checkpoint does not match the model (", count, " problem",
             count == 1 ? "" : "s", "):", problems.str());
  NoGradGuard ng;
  for (auto& [name, t] : state) {
    Tensor v = ck.get(prefix + name).to(t.device());
    Tensor dst = t.detach();
    dst.copy_(v);
  }
}

}  // namespace stan::nn
