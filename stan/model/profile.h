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
inline constexpr int kMaxProfileServices = 64;  // train --profile-services accepts 0..64

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

// Services in a host's profile (train --profile-services): a HostService's field is the share of
// the host's flows with that role and service, so that a host drawn as a mail server or a DNS
// client generates as one, rather than as whatever its first flows happened to be.
class ProfileModel {
 public:
  static const std::vector<std::string>& names();  // the raw profile's base fields
  // The index in names() of the base field `name` (one of them).
  static size_t field_index(const std::string& name);
  // The indices in names() of the fields that measure how active a host is (log_flows,
  // log_remote_ips): training's activity noise applies to them.
  static const std::vector<int64_t>& activity_fields();
  // The raw (unstandardised) profile of one host stream: the base fields, then the share of its
  // flows of each of `services`.
  static std::vector<double> raw(const HostStream& s, const FlowTable& table, int64_t day_start,
                                 const std::vector<HostService>& services = {});
  // The `n` services with the largest share of flows summed over the training hosts (each host
  // counts by its shares, not its flows, so that a service many hosts have comes first).
  static std::vector<HostService> fit_services(const std::vector<HostStream>& streams,
                                               const FlowTable& table, int n);

  ProfileModel() = default;  // disabled: dim() == 0
  // Fits standardisation and the mixture on the training hosts' raw profiles (with `services`'
  // fields after the base ones).
  static ProfileModel fit(const std::vector<std::vector<double>>& raw_profiles, int components,
                          Generator& gen, const std::vector<HostService>& services = {});
  // This model's raw profile of a host stream (its services' fields too).
  std::vector<double> raw_of(const HostStream& s, const FlowTable& table, int64_t day_start) const {
    return raw(s, table, day_start, services_);
  }
  const std::vector<HostService>& services() const { return services_; }
  std::vector<std::string> field_names() const;  // names(), then the services' names
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
  std::vector<HostService> services_;
};

// Reads raw profiles from CSV: a header naming profile fields (any subset of `names`, a model's
// field_names()), one host per row; fields left out (or empty) are NaN, to be drawn by
// sample_given. A column named "host" (stan profiles writes one) labels rows with an IPv4
// address: not a field; with `hosts` given, each row's address goes there (left empty when the
// file has no such column). Errors name the file, line and column.
std::vector<std::vector<double>> read_profiles(
    const std::string& path, const std::vector<std::string>& names = ProfileModel::names(),
    std::vector<uint32_t>* hosts = nullptr);

}  // namespace stan
