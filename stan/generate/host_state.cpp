#include "stan/generate/host_state.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "stan/generate/generate.h"
#include "stan/random_streams.h"

namespace stan {

namespace {

std::vector<uint32_t> host_addresses(const GenerateOptions& opt,
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

// The flows a day a raw profile expects (log_flows is log1p of them), 0 or more.
double profile_flows(const std::vector<double>& raw) {
  return std::max(0.0, std::expm1(std::min(raw[ProfileModel::field_index("log_flows")], 30.0)));
}

// Sampling::pace's target from a raw profile: its flows over its hours first_hour to last_hour
// (hours of the model's day; a drawn profile's are rounded and kept in [0, 23], and a span that
// would run backwards takes the whole day).
void set_pace(const std::vector<double>& raw, HostState& s) {
  auto field = [&](const char* name) { return raw[ProfileModel::field_index(name)]; };
  auto hour = [](double x) { return std::clamp<int64_t>(std::llround(x), 0, 23); };
  s.pace_flows = profile_flows(raw);
  const int64_t first = hour(field("first_hour")), last = hour(field("last_hour"));
  if (last >= first) {
    s.pace_from = first * 3600;
    s.pace_to = (last + 1) * 3600;
  }
}

// The flows a paced host's profile expects from the run's start to its clock: its flows times
// the share of its hours [pace_from, pace_to) of the model's day that has passed, day after day.
double pace_expected(const HostState& h) {
  // Seconds of the hours in [day0, day0 + t), for any t (days before day0 count negative).
  auto upto = [&](int64_t t) {
    const int64_t rest = second_of_day(t), days = (t - rest) / 86400;
    return days * (h.pace_to - h.pace_from) + std::clamp<int64_t>(rest, h.pace_from, h.pace_to) -
           h.pace_from;
  };
  const int64_t seconds = upto(h.wall - h.pace_day0) - upto(h.start - h.pace_day0);
  return h.pace_flows * static_cast<double>(std::max<int64_t>(seconds, 0)) /
         static_cast<double>(h.pace_to - h.pace_from);
}

}  // namespace

double HostState::pace_factor() const {
  if (pace <= 0 || pace_flows < 0) return 1;
  constexpr double kSlack = 20, kMax = 64;
  const double f =
      std::pow((pace_expected(*this) + kSlack) / (static_cast<double>(flows) + kSlack), pace);
  return std::clamp(f, 1 / kMax, kMax);
}

bool HostState::pace_holds() const {
  if (pace <= 0 || pace_flows < 0) return false;
  const int64_t t = second_of_day(wall - pace_day0);
  return t >= pace_from && t < pace_to && static_cast<double>(flows) < pace_expected(*this);
}

std::vector<HostState> make_hosts(const StanModel& model, const GenerateOptions& opt) {
  std::vector<Ipv4Prefix> prefixes = opt.prefixes;
  if (prefixes.empty()) {
    for (const auto& s :
         model.info().value("owners", std::vector<std::string>{format_prefix(kDefaultOwnerPrefix)}))
      prefixes.push_back(parse_prefix(s));
  }
  const std::vector<uint32_t> ips = host_addresses(opt, prefixes);
  const ProfileModel& prof = model.profiles();
  const Encoder& enc = model.encoder();
  const int W = model.config().window, D = enc.columns();
  std::vector<HostState> hosts(ips.size());
  const Generator root(opt.seed, streams::kHosts);
  const Generator conversations(opt.seed, streams::kConversations);
  for (size_t h = 0; h < hosts.size(); ++h) {
    HostState& s = hosts[h];
    s.ip = ips[h];
    s.stream = root.split(h).stream();
    s.input.assign(static_cast<size_t>(W) * D + static_cast<size_t>(enc.memory_dim()), 0.0f);
    if (enc.memory_dim()) s.slots.assign(static_cast<size_t>(enc.options().service_memory) + 1, 0);
    s.warp = &enc.generation_clock(opt.hour_rates);
    s.clock = enc.model_time(opt.start, s.warp);
    s.wall = s.start = opt.start;
    if (prof.dim()) {
      Generator pg = root.split(h).split(streams::kHostProfile);
      const std::vector<double> z =
          opt.profiles.empty() ? prof.sample(pg)
                               : prof.sample_given(opt.profiles[h % opt.profiles.size()], pg);
      s.input.insert(s.input.end(), z.begin(), z.end());
      const std::vector<double> raw = prof.unstandardise(z);
      if (opt.sampling.pace > 0) {
        s.pace = opt.sampling.pace;
        s.pace_day0 = enc.day_start();
        set_pace(raw, s);
      }
      if (opt.conversations && !model.conversations().empty()) {
        const Generator cg = conversations.split(h);
        s.conversation = model.conversations().draw(profile_flows(raw), cg.split(0));
        s.conversation_stream = cg.split(1).stream();
      }
    }
  }
  return hosts;
}

void fill_step_row(const StanModel& model, const HostState& h, StepRows& r, int64_t i) {
  const Encoder& enc = model.encoder();
  const int64_t I = model.input_dim(), D = enc.columns(), W = model.config().window;
  float* x = r.x.data() + i * I;
  std::copy(h.input.begin(), h.input.begin() + W * D, x);
  std::fill(x + W * D, x + (W + 1) * D, 0.0f);
  std::copy(h.input.begin() + W * D, h.input.end(), x + (W + 1) * D);
  const double clock = static_cast<double>(second_of_day(h.clock - enc.day_start()));
  x[W * D + enc.clock_col()] = static_cast<float>(clock / 86400.0);
  r.clock[i] = clock;
  r.stream[i] = static_cast<int64_t>(h.stream);
  r.offset[i] = static_cast<int64_t>(h.offset);
  r.peer_limit[i] = enc.peer_limit(h.peers.size());
  r.peers[i] = &h.peers;
  r.pace[i] = h.pace_factor();
  r.hold[i] = h.pace_holds();
}

bool advance_host(const StanModel& model, const PackedModel& packed, uint64_t seed, int64_t end,
                  int64_t max_flows, const StepRows& r, int64_t i, HostState& h, FlowRecord* out) {
  const Encoder& enc = model.encoder();
  const int64_t m = r.m, D = enc.columns(), W = model.config().window;
  const uint64_t decode_at = h.offset + static_cast<uint64_t>(packed.uniforms() + packed.normals());
  h.offset += static_cast<uint64_t>(packed.draws_per_step());
  const int64_t dt = r.dt[i];
  const int64_t when = h.clock + dt;
  // On the wall: the same second for a zero inter-arrival, a later one for a positive one.
  const int64_t te = dt <= 0 ? h.wall : std::max(h.wall + 1, enc.wall_time(when, h.warp));
  if (dt < 0 || when >= enc.model_time(end, h.warp) || te >= end) {
    h.done = true;
    return false;
  }
  RowValues row;
  const auto& nets = model.nets();
  for (size_t a = 0; a < nets.size(); ++a) {
    const int id = static_cast<int>(nets[a]->spec().id);
    row.v[id] = r.values[a * m + i];
    row.valid[id] = r.applies[a * m + i] != 0;
  }
  row.time = static_cast<double>(second_of_day(when - enc.day_start()));
  Generator g(seed, h.stream);
  g.set_offset(decode_at);
  *out = enc.decode(row, h.ip, h.peers, g);
  out->te = te;
  const bool outgoing = h.ip == out->sa;
  // A returning peer may have kept its last port classes (Encoder::keep_ports): the row's
  // classes, for the cache and the window, are then the record's.
  const bool kept = enc.keep_ports() > 0;
  if (kept) {
    row.v[static_cast<int>(AttrId::lport)] = port_class(outgoing ? out->sp : out->dp);
    row.v[static_cast<int>(AttrId::rport)] = port_class(outgoing ? out->dp : out->sp);
  }
  enc.update_peers(h.peers, outgoing ? out->da : out->sa, row);
  if (!h.slots.empty()) {
    ++h.slots[static_cast<size_t>(enc.memory_slot(row))];
    enc.write_service_memory(h.slots, h.input.data() + W * D);
  }
  // Slide the window: drop the oldest row, append this one.
  std::copy(h.input.begin() + D, h.input.begin() + W * D, h.input.begin());
  std::copy(r.row.begin() + i * D, r.row.begin() + (i + 1) * D, h.input.begin() + (W - 1) * D);
  enc.window_row(h.input.data() + (W - 1) * D);
  if (kept)
    for (AttrId a : {AttrId::lport, AttrId::rport})
      enc.write_attr(*enc.find(a), row, h.input.data() + (W - 1) * D);
  if (h.conversation.conversation >= 0) {
    // Coins of the host's own conversation stream, two per flow: whether this flow is one of
    // the conversation's, and which of its stored flows it copies.
    const ConversationModel& cm = model.conversations();
    Generator cg(seed, h.conversation_stream);
    cg.set_offset(2 * static_cast<uint64_t>(h.flows));
    if (cg.uniform() < h.conversation.share) {
      const auto n = static_cast<int64_t>(
          cm.conversations()[static_cast<size_t>(h.conversation.conversation)].templates.size());
      cm.apply(h.conversation, cg.randint(n), h.ip, *out);
      ++h.conversation_flows;
    }
  }
  h.clock = when;
  h.wall = te;
  if (++h.flows >= max_flows) h.done = true;
  return true;
}

}  // namespace stan
