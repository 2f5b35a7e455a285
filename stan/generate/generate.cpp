#include "stan/generate/generate.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_set>

#include "stan/io/flow_io.h"
#include "tensor/autograd.h"
#include "tensor/determinism.h"

namespace stan {

namespace {

struct HostState {
  uint32_t ip = 0;
  Generator gen;
  std::vector<float> window;   // W rows x D, oldest first
  std::vector<float> profile;  // P standardised values
  std::vector<uint32_t> peers;
  int64_t clock = 0;  // Unix seconds: the host's last flow (or the start)
  int64_t flows = 0;
  bool done = false;
};

struct Pending {
  int64_t te;
  int64_t host;
  int64_t seq;
  FlowRecord rec;
  bool operator<(const Pending& o) const {
    return std::tie(te, host, seq) < std::tie(o.te, o.host, o.seq);
  }
};

int64_t time_of_day(int64_t abs, int64_t day_start) {
  int64_t t = (abs - day_start) % 86400;
  return t < 0 ? t + 86400 : t;
}

std::vector<uint32_t> make_host_ips(const GenerateOptions& opt,
                                    const std::vector<Ipv4Prefix>& prefixes) {
  if (!opt.host_ips.empty()) return opt.host_ips;
  STAN_CHECK(opt.hosts > 0, "--hosts must be positive, got ", opt.hosts);
  Generator g(opt.seed, streams::kHostAddresses);
  std::unordered_set<uint32_t> used;
  std::vector<uint32_t> ips;
  for (int64_t i = 0; i < opt.hosts; ++i) {
    for (int tries = 0;; ++tries) {
      const Ipv4Prefix& p = prefixes[g.randint(static_cast<int64_t>(prefixes.size()))];
      const uint64_t span = p.len >= 32 ? 1 : (uint64_t{1} << (32 - p.len));
      const uint32_t ip = p.addr + static_cast<uint32_t>(g.next_u64() % span);
      const uint32_t last = ip & 255;
      STAN_CHECK(tries < 100000, "cannot find ", opt.hosts,
                 " distinct host addresses in the owner prefixes");
      if ((span > 256 && (last == 0 || last == 255)) || !used.insert(ip).second) continue;
      ips.push_back(ip);
      break;
    }
  }
  return ips;
}

// Inverse-CDF draw from unnormalised probabilities.
int64_t draw_class(const float* p, int64_t n, double u) {
  double total = 0;
  for (int64_t j = 0; j < n; ++j) total += p[j];
  double target = u * total, acc = 0;
  for (int64_t j = 0; j < n; ++j) {
    acc += p[j];
    if (acc > target && p[j] > 0) return j;
  }
  for (int64_t j = n - 1; j >= 0; --j)
    if (p[j] > 0) return j;
  return 0;
}

// One draw from the mixture in row `r` of (N, 3K) parameters; clipped (censored edges) or
// redrawn up to 10 times and then clamped.
double draw_mixture(const float* row, int64_t k, double floor, bool censor, Generator& gen) {
  std::vector<float> w(row, row + k);
  float mx = *std::max_element(w.begin(), w.end());
  for (auto& v : w) v = std::exp(v - mx);
  double x = 0;
  for (int attempt = 0; attempt < (censor ? 1 : 10); ++attempt) {
    const int64_t c = draw_class(w.data(), k, gen.uniform());
    const double mu = row[k + c], s = floor + std::exp(static_cast<double>(row[2 * k + c]));
    x = mu + s * gen.normal();
    if (x >= 0 && x <= 1) return x;
  }
  return std::clamp(x, 0.0, 1.0);
}

}  // namespace

GenerateStats generate_flows(StanModel& model, const GenerateOptions& opt,
                             const std::function<void(const FlowRecord&)>& emit) {
  STAN_CHECK(opt.duration > 0, "duration must be positive, got ", opt.duration, " s");
  STAN_CHECK(opt.batch >= 1, "batch size must be at least 1, got ", opt.batch);
  const auto t0 = std::chrono::steady_clock::now();
  NoGradGuard ng;
  RowIndependentGemmGuard rowwise;
  model.train(false);
  model.to(opt.device);
  const Encoder& enc = model.encoder();
  const ProfileModel& prof = model.profiles();
  const int W = model.config().window, D = enc.columns(), P = prof.dim();
  const int64_t I = model.input_dim();
  const int64_t end = opt.start + opt.duration;
  const bool zero_dec = enc.options().zero_decisions;
  const int64_t stop_class = zero_dec ? 2 : 1;
  const int64_t k = model.config().k;
  const bool has_peer = enc.find(AttrId::peer) != nullptr;

  std::vector<Ipv4Prefix> prefixes = opt.prefixes;
  if (prefixes.empty()) {
    for (const auto& s :
         model.info().value("owners", std::vector<std::string>{format_prefix(kDefaultOwnerPrefix)}))
      prefixes.push_back(parse_prefix(s));
  }
  std::vector<uint32_t> ips = make_host_ips(opt, prefixes);
  std::vector<HostState> hosts(ips.size());
  Generator root(opt.seed, streams::kHosts);
  for (size_t h = 0; h < hosts.size(); ++h) {
    HostState& s = hosts[h];
    s.ip = ips[h];
    s.gen = root.split(h);
    s.window.assign(static_cast<size_t>(W) * D, 0.0f);
    s.clock = opt.start;
    if (P) {
      Generator pg = s.gen.split(streams::kHostProfile);
      std::vector<double> z = opt.profiles.empty()
                                  ? prof.sample(pg)
                                  : prof.sample_given(opt.profiles[h % opt.profiles.size()], pg);
      s.profile.assign(z.begin(), z.end());
    }
  }
  std::set<Pending> pending;
  GenerateStats st;
  st.hosts = static_cast<int64_t>(hosts.size());
  int64_t emitted = 0;
  auto last_print = std::chrono::steady_clock::now();
  const auto& attrs = enc.attrs();
  const size_t A = attrs.size();
  std::vector<float> x;
  while (true) {
    std::vector<int64_t> active;
    for (size_t h = 0; h < hosts.size(); ++h)
      if (!hosts[h].done) active.push_back(static_cast<int64_t>(h));
    if (active.empty()) break;
    ++st.steps;
    for (size_t c0 = 0; c0 < active.size(); c0 += static_cast<size_t>(opt.batch)) {
      const int64_t n =
          static_cast<int64_t>(std::min(active.size() - c0, static_cast<size_t>(opt.batch)));
      x.assign(static_cast<size_t>(n) * I, 0.0f);
      std::vector<RowValues> rows(n);
      std::vector<bool> stopped(n, false);
      std::vector<int64_t> when(n, 0);
      for (int64_t r = 0; r < n; ++r) {
        HostState& s = hosts[active[c0 + r]];
        float* xr = x.data() + r * I;
        std::copy(s.window.begin(), s.window.end(), xr);
        rows[r].clock = static_cast<double>(time_of_day(s.clock, enc.day_start()));
        xr[static_cast<int64_t>(W) * D + enc.clock_col()] =
            static_cast<float>(rows[r].clock / 86400.0);
        if (P) std::copy(s.profile.begin(), s.profile.end(), xr + static_cast<int64_t>(W + 1) * D);
      }
      for (size_t a = 0; a < A; ++a) {
        const AttrSpec& spec = attrs[a];
        const int id = static_cast<int>(spec.id);
        auto needs = [&](int64_t r) {
          if (stopped[r]) return false;
          const RowValues& rv = rows[r];
          auto v = [&](AttrId q) { return rv.v[static_cast<int>(q)]; };
          switch (spec.id) {
            case AttrId::dt:
              return !zero_dec || v(AttrId::dt_kind) == 1;
            case AttrId::oct1:
            case AttrId::oct2:
            case AttrId::oct3:
            case AttrId::oct4:
              return !has_peer || v(AttrId::peer) == 0;
            case AttrId::td:
              return !zero_dec || v(AttrId::td_kind) == 1;
            default:
              return true;
          }
        };
        bool any = false;
        for (int64_t r = 0; r < n && !any; ++r) any = needs(r);
        if (any) {
          auto& net = *model.nets()[a];
          Tensor out = net.forward(from_vector<float>(x, {n, I}, opt.device));
          if (!spec.continuous) out = softmax(out, 1);
          std::vector<float> o = out.to_vector<float>();
          const int64_t width = out.size(1);
          for (int64_t r = 0; r < n; ++r) {
            if (!needs(r)) continue;
            HostState& s = hosts[active[c0 + r]];
            const float* orow = o.data() + r * width;
            // A peer choice can only name a peer the host has: [0, cache size].
            const int64_t classes =
                spec.id == AttrId::peer
                    ? std::min<int64_t>(width, static_cast<int64_t>(s.peers.size()) + 1)
                    : width;
            rows[r].v[id] =
                spec.continuous
                    ? draw_mixture(orow, k, enc.options().sigma_floor, enc.options().censor, s.gen)
                    : static_cast<double>(draw_class(orow, classes, s.gen.uniform()));
            rows[r].valid[id] = true;
          }
        }
        for (int64_t r = 0; r < n; ++r) {
          if (stopped[r]) continue;
          HostState& s = hosts[active[c0 + r]];
          if (spec.id == AttrId::dt_kind && rows[r].v[id] == stop_class) {
            stopped[r] = true;
            continue;
          }
          if (spec.id == AttrId::dt) {
            int64_t dt = 0;
            if (!zero_dec || rows[r].v[static_cast<int>(AttrId::dt_kind)] == 1)
              dt = std::max<int64_t>(zero_dec ? 1 : 0, std::llround(enc.decode_dt(rows[r].v[id])));
            when[r] = s.clock + dt;
            if (when[r] >= end) {
              stopped[r] = true;
              continue;
            }
            rows[r].time = static_cast<double>(time_of_day(when[r], enc.day_start()));
          }
          enc.write_attr(spec, rows[r], x.data() + r * I + static_cast<int64_t>(W) * D);
        }
      }
      for (int64_t r = 0; r < n; ++r) {
        const int64_t h = active[c0 + r];
        HostState& s = hosts[h];
        if (stopped[r]) {
          s.done = true;
          continue;
        }
        FlowRecord rec = enc.decode(rows[r], s.ip, s.peers, s.gen);
        rec.te = when[r];
        pending.insert(Pending{rec.te, h, s.flows, rec});
        enc.update_peers(s.peers, s.ip == rec.sa ? rec.da : rec.sa);
        // Slide the window: drop the oldest row, append this one.
        std::copy(s.window.begin() + D, s.window.end(), s.window.begin());
        std::copy(x.begin() + r * I + static_cast<int64_t>(W) * D,
                  x.begin() + r * I + static_cast<int64_t>(W + 1) * D, s.window.end() - D);
        s.clock = when[r];
        if (++s.flows >= opt.max_flows_per_host) s.done = true;
      }
    }
    // Emit what no host can precede any more.
    int64_t watermark = INT64_MAX;
    for (const HostState& s : hosts)
      if (!s.done) watermark = std::min(watermark, s.clock);
    while (!pending.empty() && pending.begin()->te < watermark) {
      emit(pending.begin()->rec);
      pending.erase(pending.begin());
      ++emitted;
    }
    if (opt.progress &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_print).count() >
            0.5) {
      const double el =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(
          stderr, "\rgenerating: %zu/%zu hosts active, %lld flows, at %s, %.0f flows/s   ",
          active.size(), hosts.size(),
          static_cast<long long>(emitted + static_cast<int64_t>(pending.size())),
          watermark == INT64_MAX ? "end" : format_time(watermark).c_str(),
          static_cast<double>(emitted + static_cast<int64_t>(pending.size())) / std::max(el, 1e-9));
      last_print = std::chrono::steady_clock::now();
    }
  }
  for (const Pending& p : pending) emit(p.rec);
  emitted += static_cast<int64_t>(pending.size());
  st.flows = emitted;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opt.progress) std::fprintf(stderr, "\n");
  return st;
}

}  // namespace stan
