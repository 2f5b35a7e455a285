#include "stan/generate/generate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

#include "stan/generate/host_state.h"
#include "stan/generate/output.h"
#include "stan/generate/step.h"
#include "stan/io/flow_io.h"
#include "stan/random_streams.h"
#include "tensor/autograd.h"
#include "tensor/parallel.h"

namespace stan {

namespace {

using Clock = std::chrono::steady_clock;

// The fewest hosts a lane (one thread's share of a step) is given. Measured on 2 cores, 1,000
// hosts for 20 minutes: 16 rows per lane ran 1.2x faster than 64; a day of 97 hosts (about 20
// rows per step): 4 rows 1.12x faster than 16 (18.3k-19.3k vs 16.4k-17.0k flows/s), and 1,000
// hosts for 2 hours the same (31.9k-33.1k vs 34.0k, within the noise).
constexpr int64_t kLaneRows = 4;

struct Produced {
  int64_t host, seq;
  FlowRecord rec;
};

// The sequence numbers of a host's sweep flows start here, past any of its own flows': at equal
// times and host, its own flows leave first.
constexpr int64_t kSweepSeq = int64_t{1} << 40;

// The run's sweep flows (stan/model/sweeps.h), drawn an hour at a time as generation passes it:
// host h's flows of a day come from its own stream (kSweeps, split by h, then by the day), so
// they depend on the seed only, and drawing the whole day again for each hour keeps none of them
// waiting longer than an hour.
class SweepFeed {
 public:
  SweepFeed(const StanModel& model, const SweepModel& m, const std::vector<HostState>& hosts,
            uint64_t seed, int64_t start, int64_t end)
      : m_(m), hosts_(hosts), g_(seed, streams::kSweeps), next_(start), end_(end) {
    // Each host's activity: its profile's log_flows (the first field), NaN without profiles.
    const ProfileModel& prof = model.profiles();
    for (const HostState& h : hosts) {
      double a = std::numeric_limits<double>::quiet_NaN();
      if (prof.dim() > 0 && !m.empty()) {
        const std::vector<double> z(h.input.end() - prof.dim(), h.input.end());
        a = prof.unstandardise(z)[0];
      }
      activity_.push_back(a);
    }
  }
  // Adds every sweep flow ending before `watermark` to `out`, releasing it hour by hour (the
  // caller guarantees no other flow before `watermark` is still to come).
  void add_until(int64_t watermark, OrderedOutput& out) {
    constexpr int64_t kHour = 3600, kDay = 86400;
    while (!m_.empty() && next_ < end_ && next_ < watermark) {
      const int64_t to = std::min(end_, (next_ / kHour + 1) * kHour), day = next_ / kDay;
      for (size_t h = 0; h < hosts_.size(); ++h) {
        buf_.clear();
        m_.draw(hosts_[h].ip, activity_[h], day * kDay, next_, to,
                g_.split(h).split(static_cast<uint64_t>(day)), &buf_);
        for (size_t i = 0; i < buf_.size(); ++i)
          out.add(static_cast<int64_t>(h), kSweepSeq + static_cast<int64_t>(i), buf_[i]);
        flows_ += static_cast<int64_t>(buf_.size());
      }
      next_ = to;
      out.release(std::min(watermark, to));
    }
  }
  int64_t flows() const { return flows_; }

 private:
  const SweepModel& m_;
  const std::vector<HostState>& hosts_;
  Generator g_;
  int64_t next_, end_, flows_ = 0;
  std::vector<double> activity_;
  std::vector<FlowRecord> buf_;
};

}  // namespace

GenerateStats generate_flows(StanModel& model, const GenerateOptions& opt,
                             const std::function<void(const FlowRecord&)>& emit) {
  STAN_CHECK(opt.duration > 0, "duration must be positive, got ", opt.duration, " s");
  STAN_CHECK(opt.batch >= 1, "batch size must be at least 1, got ", opt.batch);
  STAN_CHECK(opt.start >= kMinFlowTime && opt.start < kMaxFlowTime &&
                 opt.duration <= kMaxFlowTime - opt.start,
             "start ", opt.start, " plus duration ", opt.duration,
             " s leaves the years 1970-2099 (the flow times stan reads)");
  STAN_CHECK(opt.max_flows_per_host >= 1, "max flows per host must be at least 1, got ",
             opt.max_flows_per_host);
  STAN_CHECK(opt.threads >= 0, "threads must not be negative, got ", opt.threads);
  const auto t0 = Clock::now();
  NoGradGuard ng;
  model.train(false);
  model.to(opt.device);
  const bool cpu = opt.device.is_cpu();
  const int threads = cpu ? (opt.threads > 0 ? opt.threads : default_threads()) : 1;
  const int blas_before = blas_threads();
  set_blas_threads(1);  // our threads own the cores (tensor/parallel.h)
  struct Restore {
    int n;
    ~Restore() { set_blas_threads(n); }
  } restore{blas_before};
  std::shared_ptr<const PackedModel> packed;
  {
    ComputeThreads ct(threads);
    packed = std::make_shared<PackedModel>(model, opt.device, opt.sampling);
  }
  std::vector<HostState> hosts = make_hosts(model, opt);
  const int64_t end = opt.start + opt.duration, nh = static_cast<int64_t>(hosts.size());
  const int64_t I = model.input_dim(), D = model.encoder().columns();
  const int64_t A = static_cast<int64_t>(model.nets().size());
  const int64_t block = std::min<int64_t>(opt.batch, std::max<int64_t>(nh, 1));
  std::vector<StepEngine> engines;
  std::vector<StepRows> rows(threads);
  for (int t = 0; t < threads; ++t) {
    engines.emplace_back(packed, opt.seed, block);
    rows[t].resize(block, I, A, D);
  }
  OrderedOutput out(emit);
  SweepFeed sweeps(model, opt.sweeps ? model.sweeps() : SweepModel::none(), hosts, opt.seed,
                   opt.start, end);
  GenerateStats st;
  st.hosts = nh;
  // The horizon: hosts within `span` seconds of the earliest clock step together. It widens
  // while too few hosts are in it (fuller batches) and narrows when the flows waiting for their
  // turn in time order pass half of max_pending, and falls to a second past three quarters of it
  // (bounded memory).
  const int64_t target = std::min<int64_t>(nh, std::max<int64_t>(block * threads, 64));
  int64_t span = 60;
  auto last_print = Clock::now();
  std::vector<int64_t> active;
  std::vector<std::vector<Produced>> produced(threads);
  // The running hosts' earliest clock and their count, after each step: where the next step
  // starts, and up to where the output may be released (no running host can make an earlier
  // flow).
  // The same on the wall (min_wall): the hosts step on the model's clock, flows are written at
  // Unix seconds.
  int64_t min_clock = 0, min_wall = 0, alive = 0;
  auto scan = [&] {
    min_clock = min_wall = std::numeric_limits<int64_t>::max();
    alive = 0;
    for (const HostState& h : hosts)
      if (!h.done) {
        min_clock = std::min(min_clock, h.clock), ++alive;
        min_wall = std::min(min_wall, h.wall);
      }
  };
  scan();
  while (alive > 0) {
    if (out.pending() > opt.max_pending / 4 * 3)
      span = 1;  // near the budget: the earliest hosts alone until the output drains
    else if (out.pending() > opt.max_pending / 2 && span > 1)
      span /= 2;
    active.clear();
    for (int64_t h = 0; h < nh; ++h)
      if (!hosts[h].done && hosts[h].clock - min_clock <= span) active.push_back(h);
    if (static_cast<int64_t>(active.size()) < std::min(alive, target) &&
        out.pending() < opt.max_pending / 4)
      span = std::min<int64_t>(span * 2, int64_t{1} << 40);
    else if (static_cast<int64_t>(active.size()) > 2 * target && span > 1)
      span /= 2;
    ++st.steps;
    st.rows += static_cast<int64_t>(active.size());
    // Lanes: one per thread, each a contiguous share of the active hosts in blocks of `block`
    // rows; with fewer than 2 x kLaneRows hosts, one lane whose GEMMs use every thread. Lanes of
    // a few rows pay off: a step's GEMMs are too small to split, and most steps hold few hosts.
    const int64_t na = static_cast<int64_t>(active.size());
    const int lanes = static_cast<int>(std::clamp<int64_t>(na / kLaneRows, 1, threads));
    const int64_t share = (na + lanes - 1) / lanes;
    ComputeThreads ct(std::max(1, threads / lanes));
    for (auto& p : produced) p.clear();
    parallel_for(lanes, lanes, [&](int64_t lane) {
      StepRows& r = rows[lane];
      const int64_t b0 = lane * share, b1 = std::min(na, b0 + share);
      for (int64_t c0 = b0; c0 < b1; c0 += block) {
        const int64_t m = std::min(block, b1 - c0);
        r.m = m;
        for (int64_t i = 0; i < m; ++i) fill_step_row(model, hosts[active[c0 + i]], r, i);
        engines[lane].run(r);
        for (int64_t i = 0; i < m; ++i) {
          HostState& h = hosts[active[c0 + i]];
          const int64_t seq = h.flows;
          FlowRecord rec;
          if (advance_host(model, *packed, opt.seed, end, opt.max_flows_per_host, r, i, h, &rec))
            produced[lane].push_back({active[c0 + i], seq, rec});
        }
      }
    });
    for (auto& p : produced)
      for (const Produced& f : p) out.add(f.host, f.seq, f.rec);
    scan();
    st.max_pending = std::max(st.max_pending, out.pending());
    sweeps.add_until(min_wall, out);
    out.release(min_wall);
    if (opt.progress && std::chrono::duration<double>(Clock::now() - last_print).count() > 0.5) {
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      const int64_t n = out.emitted() + out.pending();
      std::fprintf(stderr,
                   "\rgenerating: %lld/%lld hosts running, %lld flows, at %s, %.0f flows/s   ",
                   static_cast<long long>(alive), static_cast<long long>(nh),
                   static_cast<long long>(n), alive == 0 ? "end" : format_time(min_wall).c_str(),
                   static_cast<double>(n) / std::max(el, 1e-9));
      last_print = Clock::now();
    }
  }
  sweeps.add_until(INT64_MAX, out);
  out.flush();
  st.flows = out.emitted();
  st.sweep_flows = sweeps.flows();
  for (const HostState& h : hosts) {
    st.conversation_flows += h.conversation_flows;
    st.conversation_hosts += h.conversation.conversation >= 0 ? 1 : 0;
  }
  st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (opt.progress) std::fprintf(stderr, "\n");
  return st;
}

}  // namespace stan
