#include "stan/model/profile.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "stan/io/flow_io.h"
#include "stan/model/encoding.h"
#include "stan/model/json_fields.h"
#include "tensor/error.h"

namespace stan {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;

double logsumexp(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

// log N(x_j; mean, var) summed over the dims where `use` is true.
double component_log_pdf(const Gmm& g, int c, const std::vector<double>& x,
                         const std::vector<bool>* use) {
  double lp = 0;
  for (int j = 0; j < g.d; ++j) {
    if (use && !(*use)[j]) continue;
    const double m = g.means[c * g.d + j], v = g.variances[c * g.d + j];
    lp += -0.5 * (kLog2Pi + std::log(v) + (x[j] - m) * (x[j] - m) / v);
  }
  return lp;
}
}  // namespace

// ---- Gmm --------------------------------------------------------------------------------

Gmm Gmm::fit(const std::vector<std::vector<double>>& data, int k, Generator& gen, int iterations,
             double var_floor) {
  STAN_CHECK(!data.empty(), "[gmm] no data to fit");
  const int n = static_cast<int>(data.size()), d = static_cast<int>(data[0].size());
  k = std::max(1, std::min(k, n));
  Gmm g;
  g.k = k;
  g.d = d;
  // Seeding: k-means++ on squared distances.
  std::vector<int> centres{static_cast<int>(gen.randint(n))};
  std::vector<double> dist(n);
  while (static_cast<int>(centres.size()) < k) {
    double total = 0;
    for (int i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      for (int c : centres) {
        double s = 0;
        for (int j = 0; j < d; ++j) s += (data[i][j] - data[c][j]) * (data[i][j] - data[c][j]);
        best = std::min(best, s);
      }
      dist[i] = best;
      total += best;
    }
    if (total <= 0) break;
    double u = gen.uniform() * total;
    int pick = n - 1;
    for (int i = 0; i < n; ++i) {
      if (u < dist[i]) {
        pick = i;
        break;
      }
      u -= dist[i];
    }
    centres.push_back(pick);
  }
  g.k = k = static_cast<int>(centres.size());
  // Global variance as the starting spread.
  std::vector<double> mu(d, 0), var(d, 0);
  for (auto& x : data)
    for (int j = 0; j < d; ++j) mu[j] += x[j] / n;
  for (auto& x : data)
    for (int j = 0; j < d; ++j) var[j] += (x[j] - mu[j]) * (x[j] - mu[j]) / n;
  g.weights.assign(k, 1.0 / k);
  g.means.resize(k * d);
  g.variances.resize(k * d);
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < d; ++j) {
      g.means[c * d + j] = data[centres[c]][j];
      g.variances[c * d + j] = std::max(var[j], var_floor);
    }
  std::vector<double> resp(static_cast<size_t>(n) * k), lp(k);
  double prev = -std::numeric_limits<double>::infinity();
  for (int it = 0; it < iterations; ++it) {
    // E step.
    double ll = 0;
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < k; ++c)
        lp[c] = std::log(g.weights[c]) + component_log_pdf(g, c, data[i], nullptr);
      const double z = logsumexp(lp);
      ll += z;
      for (int c = 0; c < k; ++c) resp[static_cast<size_t>(i) * k + c] = std::exp(lp[c] - z);
    }
    // M step.
    for (int c = 0; c < k; ++c) {
      double nk = 0;
      for (int i = 0; i < n; ++i) nk += resp[static_cast<size_t>(i) * k + c];
      nk = std::max(nk, 1e-10);
      g.weights[c] = nk / n;
      for (int j = 0; j < d; ++j) {
        double m = 0;
        for (int i = 0; i < n; ++i) m += resp[static_cast<size_t>(i) * k + c] * data[i][j];
        m /= nk;
        double v = 0;
        for (int i = 0; i < n; ++i)
          v += resp[static_cast<size_t>(i) * k + c] * (data[i][j] - m) * (data[i][j] - m);
        g.means[c * d + j] = m;
        g.variances[c * d + j] = std::max(v / nk, var_floor);
      }
    }
    if (std::abs(ll - prev) < 1e-8 * std::abs(ll) + 1e-10) break;
    prev = ll;
  }
  return g;
}

double Gmm::log_likelihood(const std::vector<double>& x) const {
  std::vector<double> lp(k);
  for (int c = 0; c < k; ++c)
    lp[c] = std::log(weights[c]) + component_log_pdf(*this, c, x, nullptr);
  return logsumexp(lp);
}

double Gmm::mean_log_likelihood(const std::vector<std::vector<double>>& data) const {
  double s = 0;
  for (auto& x : data) s += log_likelihood(x);
  return data.empty() ? 0 : s / static_cast<double>(data.size());
}

std::vector<double> Gmm::sample(Generator& gen) const {
  double u = gen.uniform();
  int c = k - 1;
  for (int i = 0; i < k; ++i) {
    if (u < weights[i]) {
      c = i;
      break;
    }
    u -= weights[i];
  }
  std::vector<double> x(d);
  for (int j = 0; j < d; ++j)
    x[j] = means[c * d + j] + std::sqrt(variances[c * d + j]) * gen.normal();
  return x;
}

nlohmann::json Gmm::to_json() const {
  return {{"k", k}, {"d", d}, {"weights", weights}, {"means", means}, {"variances", variances}};
}

Gmm Gmm::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model profiles: mixture";
  Gmm g;
  g.k = static_cast<int>(get_int(j, part, "k", 1, kMaxGmmComponents));
  g.d = static_cast<int>(get_int(j, part, "d", 1, kMaxGmmDims));
  const size_t kd = static_cast<size_t>(g.k) * static_cast<size_t>(g.d);
  // Standardised profiles: means and spreads far beyond these are no fit of real hosts.
  g.weights = get_double_array(j, part, "weights", static_cast<size_t>(g.k), 0, 1);
  g.means = get_double_array(j, part, "means", kd, -1e6, 1e6);
  g.variances = get_double_array(j, part, "variances", kd, 1e-12, 1e12);
  STAN_CHECK(g.weights.size() == static_cast<size_t>(g.k) && g.means.size() == kd &&
                 g.variances.size() == kd,
             part, ": inconsistent sizes (k=", g.k, ", d=", g.d, ": ", g.weights.size(),
             " weights, ", g.means.size(), " means, ", g.variances.size(), " variances)");
  double total = 0;
  for (double w : g.weights) total += w;
  STAN_CHECK(std::abs(total - 1) <= 1e-3, part, ": the weights sum to ", total, ", not 1");
  return g;
}

// ---- profiles ---------------------------------------------------------------------------

const std::vector<std::string>& ProfileModel::names() {
  static const std::vector<std::string> n{"log_flows",
                                          "tcp_share",
                                          "udp_share",
                                          "other_share",
                                          "inbound_share",
                                          "log_remote_ips",
                                          "log_remote_port_classes",
                                          "low_remote_port_share",
                                          "median_log_bytes",
                                          "first_hour",
                                          "last_hour",
                                          "active_hours"};
  return n;
}

size_t ProfileModel::field_index(const std::string& name) {
  const auto& n = names();
  const auto it = std::find(n.begin(), n.end(), name);
  STAN_CHECK(it != n.end(), "no profile field named '", name, "'");
  return static_cast<size_t>(it - n.begin());
}

const std::vector<int64_t>& ProfileModel::activity_fields() {
  static const std::vector<int64_t> f{static_cast<int64_t>(field_index("log_flows")),
                                      static_cast<int64_t>(field_index("log_remote_ips"))};
  return f;
}

std::vector<HostService> ProfileModel::fit_services(const std::vector<HostStream>& streams,
                                                    const FlowTable& table, int n) {
  std::map<HostService, double> weight;
  for (const HostStream& s : streams) {
    if (s.flows.empty()) continue;
    const double flows = static_cast<double>(s.flows.size());
    for (const auto& [service, count] : host_service_counts(s, table))
      weight[service] += static_cast<double>(count) / flows;
  }
  std::vector<std::pair<double, HostService>> ranked;
  for (const auto& [key, w] : weight) ranked.emplace_back(w, key);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<HostService> out;
  for (size_t i = 0; i < ranked.size() && static_cast<int>(i) < n; ++i) {
    out.push_back(ranked[i].second);
  }
  return out;
}

std::vector<std::string> ProfileModel::field_names() const {
  std::vector<std::string> n = names();
  for (const HostService& s : services_) n.push_back(s.name());
  return n;
}

std::vector<double> ProfileModel::raw(const HostStream& s, const FlowTable& table,
                                      int64_t day_start, const std::vector<HostService>& services) {
  const double n = static_cast<double>(s.flows.size());
  double tcp = 0, udp = 0, in = 0, low = 0;
  std::set<uint32_t> ips;
  std::set<int64_t> pclasses;
  std::set<int64_t> hours;
  std::vector<double> lb;
  for (const HostFlow& f : s.flows) {
    const FlowRecord& r = table.rows[f.row];
    tcp += r.pr == proto::tcp;
    udp += r.pr == proto::udp;
    in += !f.outgoing;
    low += f.remote_port < 1024;
    ips.insert(f.remote_ip);
    pclasses.insert(port_class(f.remote_port));
    hours.insert((f.te - day_start) / 3600);
    lb.push_back(std::log(static_cast<double>(std::max<int64_t>(1, r.byt))));
  }
  double median = 0;
  if (!lb.empty()) {
    std::nth_element(lb.begin(), lb.begin() + lb.size() / 2, lb.end());
    median = lb[lb.size() / 2];
  }
  const double nn = std::max(1.0, n);
  const double first =
      s.flows.empty() ? 0 : static_cast<double>((s.flows.front().te - day_start) / 3600);
  const double last =
      s.flows.empty() ? 0 : static_cast<double>((s.flows.back().te - day_start) / 3600);
  std::vector<double> out{std::log1p(n),
                          tcp / nn,
                          udp / nn,
                          (n - tcp - udp) / nn,
                          in / nn,
                          std::log1p(static_cast<double>(ips.size())),
                          std::log1p(static_cast<double>(pclasses.size())),
                          low / nn,
                          median,
                          first,
                          last,
                          static_cast<double>(hours.size())};
  if (services.empty()) return out;
  const std::map<HostService, int64_t> count = host_service_counts(s, table);
  for (const HostService& sv : services) {
    const auto it = count.find(sv);
    out.push_back(it == count.end() ? 0.0 : static_cast<double>(it->second) / nn);
  }
  return out;
}

ProfileModel ProfileModel::fit(const std::vector<std::vector<double>>& raw_profiles, int components,
                               Generator& gen, const std::vector<HostService>& services) {
  STAN_CHECK(!raw_profiles.empty(), "[profiles] no training hosts");
  STAN_CHECK(raw_profiles[0].size() == names().size() + services.size(), "[profiles] ",
             raw_profiles[0].size(), " fields, expected ", names().size() + services.size());
  ProfileModel m;
  m.services_ = services;
  const size_t d = raw_profiles[0].size();
  const double n = static_cast<double>(raw_profiles.size());
  m.mean_.assign(d, 0);
  m.std_.assign(d, 0);
  for (auto& x : raw_profiles)
    for (size_t j = 0; j < d; ++j) m.mean_[j] += x[j] / n;
  for (auto& x : raw_profiles)
    for (size_t j = 0; j < d; ++j) m.std_[j] += (x[j] - m.mean_[j]) * (x[j] - m.mean_[j]) / n;
  for (auto& s : m.std_) s = std::max(std::sqrt(s), 1e-6);
  std::vector<std::vector<double>> z;
  for (auto& x : raw_profiles) z.push_back(m.standardise(x));
  m.gmm_ = Gmm::fit(z, components, gen, 200, 1e-2);
  return m;
}

std::vector<double> ProfileModel::standardise(const std::vector<double>& raw) const {
  STAN_CHECK(raw.size() == mean_.size(), "[profiles] expected ", mean_.size(), " values, got ",
             raw.size());
  std::vector<double> z(raw.size());
  for (size_t j = 0; j < raw.size(); ++j) z[j] = (raw[j] - mean_[j]) / std_[j];
  return z;
}

std::vector<double> ProfileModel::unstandardise(const std::vector<double>& z) const {
  std::vector<double> r(z.size());
  for (size_t j = 0; j < z.size(); ++j) r[j] = z[j] * std_[j] + mean_[j];
  return r;
}

std::vector<double> ProfileModel::sample(Generator& gen) const {
  return gmm_.sample(gen);
}

std::vector<double> ProfileModel::sample_given(const std::vector<double>& raw,
                                               Generator& gen) const {
  const int d = dim();
  STAN_CHECK(static_cast<int>(raw.size()) == d, "[profiles] expected ", d, " values, got ",
             raw.size());
  std::vector<double> z(d, 0);
  std::vector<bool> known(d);
  for (int j = 0; j < d; ++j) {
    known[j] = !std::isnan(raw[j]);
    if (known[j]) z[j] = (raw[j] - mean_[j]) / std_[j];
  }
  std::vector<double> lp(gmm_.k);
  for (int c = 0; c < gmm_.k; ++c)
    lp[c] = std::log(gmm_.weights[c]) + component_log_pdf(gmm_, c, z, &known);
  const double total = logsumexp(lp);
  double u = gen.uniform();
  int pick = gmm_.k - 1;
  for (int c = 0; c < gmm_.k; ++c) {
    const double w = std::exp(lp[c] - total);
    if (u < w) {
      pick = c;
      break;
    }
    u -= w;
  }
  for (int j = 0; j < d; ++j) {
    const double draw =
        gmm_.means[pick * d + j] + std::sqrt(gmm_.variances[pick * d + j]) * gen.normal();
    if (!known[j]) z[j] = draw;
  }
  return z;
}

nlohmann::json ProfileModel::to_json() const {
  if (!enabled()) return nullptr;
  nlohmann::json j{
      {"names", field_names()}, {"mean", mean_}, {"std", std_}, {"gmm", gmm_.to_json()}};
  if (!services_.empty()) {
    j["services"] = nlohmann::json::array();
    for (const HostService& s : services_)
      j["services"].push_back({{"role", s.serves ? "serves" : "uses"},
                               {"protocol", s.protocol},
                               {"port_class", s.port_class}});
  }
  return j;
}

ProfileModel ProfileModel::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model profiles";
  ProfileModel m;
  if (j.is_null()) return m;
  // Absent in model files written before profile services existed: none.
  if (j.is_object() && j.contains("services")) {
    const auto& sv = j["services"];
    STAN_CHECK(sv.is_array() && sv.size() <= static_cast<size_t>(kMaxProfileServices), part,
               ": 'services' must be an array of at most ", kMaxProfileServices, " services");
    for (size_t i = 0; i < sv.size(); ++i) {
      const std::string sp = part + ": services[" + std::to_string(i) + "]";
      HostService s;
      require_object(sv[i], sp);
      const std::string role = get_string(sv[i], sp, "role");
      STAN_CHECK(role == "serves" || role == "uses", sp,
                 ": 'role' must be 'serves' or 'uses', got '", role, "'");
      s.serves = role == "serves";
      s.protocol = static_cast<uint8_t>(get_int(sv[i], sp, "protocol", 0, 255));
      s.port_class = get_int(sv[i], sp, "port_class", 0, kPortClasses - 1);
      m.services_.push_back(s);
    }
  }
  const size_t d = names().size() + m.services_.size();
  if (j.is_object() && j.contains("names")) {
    const auto& n = j["names"];
    STAN_CHECK(n.is_array() && n == nlohmann::json(m.field_names()), part,
               ": the fields are not the ones this build knows (", names().size(),
               " fields from log_flows to active_hours, then those of 'services')");
  }
  m.mean_ = get_double_array(j, part, "mean", d, -1e9, 1e9);
  m.std_ = get_double_array(j, part, "std", d, 1e-9, 1e9);
  STAN_CHECK(m.mean_.size() == d && m.std_.size() == d, part, ": expected ", d, " fields, got ",
             m.mean_.size(), " means and ", m.std_.size(), " spreads");
  m.gmm_ = Gmm::from_json(field(j, part, "gmm"));
  STAN_CHECK(m.gmm_.d == static_cast<int>(d), part, ": the mixture has ", m.gmm_.d,
             " dimensions, expected ", d);
  return m;
}

std::vector<std::vector<double>> read_profiles(const std::string& path,
                                               const std::vector<std::string>& names,
                                               std::vector<uint32_t>* hosts) {
  if (hosts) hosts->clear();
  std::ifstream in(path);
  STAN_CHECK(in, path, ": cannot open profile file");
  std::string line;
  STAN_CHECK(std::getline(in, line), path,
             ":1: empty profile file (expected a header naming "
             "profile fields)");
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string f;
    while (std::getline(ss, f, ',')) {
      f.erase(0, f.find_first_not_of(" \t\r"));
      f.erase(f.find_last_not_of(" \t\r") + 1);
      out.push_back(f);
    }
    return out;
  };
  std::vector<int> field;  // per column: the field's index, or -1 for the 'host' label
  for (const std::string& h : split(line)) {
    if (h == "host") {  // which host a row describes (stan profiles writes it); not a field
      STAN_CHECK(std::find(field.begin(), field.end(), -1) == field.end(), path,
                 ":1: two 'host' columns");
      field.push_back(-1);
      continue;
    }
    auto it = std::find(names.begin(), names.end(), h);
    if (it == names.end()) {
      std::string all;
      for (auto& n : names) all += (all.empty() ? "" : ", ") + n;
      throw Error(path + ":1: unknown profile field '" + h + "' (known: " + all + ")");
    }
    field.push_back(static_cast<int>(it - names.begin()));
  }
  std::vector<std::vector<double>> rows;
  int64_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto cells = split(line);
    STAN_CHECK(cells.size() <= field.size(), path, ":", lineno, ": ", cells.size(),
               " fields, the header names ", field.size());
    std::vector<double> row(names.size(), std::numeric_limits<double>::quiet_NaN());
    for (size_t i = 0; i < field.size(); ++i) {
      if (field[i] < 0) {
        if (i >= cells.size()) cells.resize(i + 1);  // a short row: the host is missing
        uint32_t ip = 0;
        STAN_CHECK(parse_ipv4(cells[i], &ip), path, ":", lineno, ": column 'host': '", cells[i],
                   "' is not an IPv4 address");
        if (hosts) hosts->push_back(ip);
        continue;
      }
      if (i >= cells.size() || cells[i].empty()) continue;
      double v = 0;
      auto [p, ec] = std::from_chars(cells[i].data(), cells[i].data() + cells[i].size(), v);
      STAN_CHECK(ec == std::errc() && p == cells[i].data() + cells[i].size() && std::isfinite(v),
                 path, ":", lineno, ": column '", names[field[i]], "': '", cells[i],
                 "' is not a number");
      row[field[i]] = v;
    }
    rows.push_back(row);
  }
  STAN_CHECK(!rows.empty(), path, ": no profile rows after the header");
  return rows;
}

}  // namespace stan
