// Per-host profiles: a vector of numbers describing a host's day (activity level, protocol mix,
// peers, services, active hours), standardised over the training hosts and appended to every
// window of that host as a conditioning input. A Gaussian mixture over the standardised
// profiles (fitted by EM) lets generation draw new hosts without copying a training host.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"
#include "tensor/random.h"

namespace stan {

// Bounds checked when a mixture is read from a model file.
inline constexpr int kMaxGmmComponents = 1024, kMaxGmmDims = 1024;

// Diagonal-covariance Gaussian mixture.
struct Gmm {
  int k = 0, d = 0;
  std::vector<double> weights;    // (k)
  std::vector<double> means;      // (k*d)
  std::vector<double> variances;  // (k*d)
  // EM from k-means++-style seeding; variances floored at var_floor. data: n rows of d.
  static Gmm fit(const std::vector<std::vector<double>>& data, int k, Generator& gen,
                 int iterations = 200, double var_floor = 1e-3);
  double log_likelihood(const std::vector<double>& x) const;  // log p(x)
  double mean_log_likelihood(const std::vector<std::vector<double>>& data) const;
  std::vector<double> sample(Generator& gen) const;
  nlohmann::json to_json() const;
  // Checks k >= 1, sizes, finite values, positive variances, weights summing to 1.
  static Gmm from_json(const nlohmann::json& j);
};

class ProfileModel {
 public:
  static const std::vector<std::string>& names();  // the raw profile's fields
  // The raw (unstandardised) profile of one host stream.
  static std::vector<double> raw(const HostStream& s, const FlowTable& table, int64_t day_start);

  ProfileModel() = default;  // disabled: dim() == 0
  // Fits standardisation and the mixture on the training hosts' raw profiles.
  static ProfileModel fit(const std::vector<std::vector<double>>& raw_profiles, int components,
                          Generator& gen);
  bool enabled() const { return !mean_.empty(); }
  int dim() const { return static_cast<int>(mean_.size()); }
  std::vector<double> standardise(const std::vector<double>& raw) const;
  std::vector<double> unstandardise(const std::vector<double>& z) const;
  // A new host's standardised profile, drawn from the mixture.
  std::vector<double> sample(Generator& gen) const;
  // Like sample(), with the fields of `raw` that are not NaN fixed: the component is drawn
  // from its posterior given those fields, the others from that component.
  std::vector<double> sample_given(const std::vector<double>& raw, Generator& gen) const;
  const Gmm& gmm() const { return gmm_; }

  nlohmann::json to_json() const;
  // null: disabled. Otherwise every field is checked (see Gmm::from_json).
  static ProfileModel from_json(const nlohmann::json& j);

 private:
  std::vector<double> mean_, std_;
  Gmm gmm_;
};

// Reads raw profiles from CSV: a header naming profile fields (any subset of names()), one host
// per row; fields left out (or empty) are NaN, to be drawn by sample_given. Errors name the
// file, line and column.
std::vector<std::vector<double>> read_profiles(const std::string& path);

}  // namespace stan
