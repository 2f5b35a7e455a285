// Train-on-synthetic / test-on-real tasks (see eval_tstr.h for the protocol).
#include "stan/eval/tstr.h"
#include "stan/io/text_format.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>

#include "nn/module.h"
#include "nn/optim.h"
#include "tensor/autograd.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/ops_nn.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

namespace stan {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr uint16_t kCommonPorts[] = {80, 443, 53, 22, 123, 0};

bool selected(uint32_t host, TstrHosts which) {
  if (which == TstrHosts::all) return true;
  return tstr_is_test_host(host) == (which == TstrHosts::test_half);
}

float lg(double v) {
  return static_cast<float>(std::log1p(std::max(v, 0.0)));
}

// The 8 features of one port: p < 1024, log1p(p), one-hots of the common ports.
float* port_features(float* o, uint16_t p) {
  *o++ = p < 1024 ? 1.f : 0.f;
  *o++ = lg(p);
  for (uint16_t c : kCommonPorts) *o++ = p == c ? 1.f : 0.f;
  return o;
}

// Uniform random subset of [0, n) of size min(n, k), in ascending order (partial Fisher-Yates).
std::vector<int64_t> subset(int64_t n, int64_t k, Generator g) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  if (k >= n) return idx;
  for (int64_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + g.randint(n - i)]);
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// The examples `rows` (ascending) of e.
TstrExamples take_rows(TstrExamples e, const std::vector<int64_t>& rows) {
  if (static_cast<int64_t>(rows.size()) == e.rows) return e;
  TstrExamples o;
  o.rows = static_cast<int64_t>(rows.size());
  o.cols = e.cols;
  o.hosts = e.hosts;
  o.x.resize(static_cast<size_t>(o.rows * o.cols));
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(e.x.begin() + rows[i] * e.cols, e.cols,
                o.x.begin() + static_cast<int64_t>(i) * e.cols);
    if (!e.label.empty()) o.label.push_back(e.label[rows[i]]);
    if (!e.y.empty()) o.y.push_back(e.y[rows[i]]);
  }
  return o;
}

// Per-column mean and standard deviation of the training features (sd 1 where constant).
struct Standardizer {
  std::vector<double> mean, sd;
  static Standardizer fit(const TstrExamples& e) {
    Standardizer s;
    const auto C = static_cast<size_t>(e.cols);
    s.mean.assign(C, 0);
    s.sd.assign(C, 0);
    for (int64_t r = 0; r < e.rows; ++r)
      for (size_t c = 0; c < C; ++c) s.mean[c] += e.x[r * e.cols + c];
    for (auto& m : s.mean) m /= static_cast<double>(std::max<int64_t>(e.rows, 1));
    for (int64_t r = 0; r < e.rows; ++r) {
      for (size_t c = 0; c < C; ++c) {
        const double d = e.x[r * e.cols + c] - s.mean[c];
        s.sd[c] += d * d;
      }
    }
    for (auto& v : s.sd) {
      v = std::sqrt(v / static_cast<double>(std::max<int64_t>(e.rows, 1)));
      if (!(v > 1e-6)) v = 1;
    }
    return s;
  }
  std::vector<float> apply(const TstrExamples& e) const {
    std::vector<float> x(e.x.size());
    for (int64_t r = 0; r < e.rows; ++r) {
      for (int64_t c = 0; c < e.cols; ++c) {
        const size_t i = static_cast<size_t>(r * e.cols + c);
        x[i] = static_cast<float>((e.x[i] - mean[c]) / sd[c]);
      }
    }
    return x;
  }
};

struct TrainSpec {
  int64_t outputs = 1;  // classes (classification) or 1 (regression)
  bool classification = true;
  uint64_t stream = 0;  // per task: init and shuffling streams
};

// Trains the MLP on `train` and returns its outputs on `test`, (test.rows, outputs) row-major,
// regression outputs on the target's original scale.
std::vector<float> train_and_predict(const TstrExamples& train, const TstrExamples& test,
                                     const TrainSpec& spec, const TstrOptions& opt) {
  const Standardizer st = Standardizer::fit(train);
  const std::vector<float> x = st.apply(train);
  double ymean = 0, ysd = 1;
  std::vector<float> y;
  if (!spec.classification) {
    for (float v : train.y) ymean += v;
    ymean /= static_cast<double>(train.rows);
    double ss = 0;
    for (float v : train.y) ss += (v - ymean) * (v - ymean);
    ysd = std::sqrt(ss / static_cast<double>(train.rows));
    if (!(ysd > 1e-6)) ysd = 1;
    for (float v : train.y) y.push_back(static_cast<float>((v - ymean) / ysd));
  }

  Generator init(opt.seed, streams::kTstrInit + spec.stream);
  nn::Sequential net;
  net.add(std::make_shared<nn::Linear>(train.cols, opt.hidden, init));
  net.add(std::make_shared<nn::ReLU>());
  net.add(std::make_shared<nn::Linear>(opt.hidden, spec.outputs, init));
  nn::AdamOptions ao;
  ao.lr = opt.lr;
  nn::Adam adam(net.parameters(), ao);

  const int64_t n = train.rows, F = train.cols, B = std::max<int64_t>(opt.batch, 1);
  std::vector<float> xb;
  std::vector<int64_t> lb;
  std::vector<float> yb;
  for (int epoch = 0; epoch < opt.epochs; ++epoch) {
    const std::vector<int64_t> perm =
        shuffled_order(n, Generator(opt.seed, streams::kTstrShuffle + spec.stream)
                              .split(static_cast<uint64_t>(epoch)));
    for (int64_t s = 0; s < n; s += B) {
      const int64_t m = std::min(B, n - s);
      xb.resize(static_cast<size_t>(m * F));
      lb.clear();
      yb.clear();
      for (int64_t i = 0; i < m; ++i) {
        const int64_t r = perm[s + i];
        std::copy_n(x.begin() + r * F, F, xb.begin() + i * F);
        if (spec.classification) {
          lb.push_back(train.label[r]);
        } else {
          yb.push_back(y[r]);
        }
      }
      const Tensor out = net(from_vector<float>(xb, {m, F}));
      const Tensor loss = spec.classification
                              ? cross_entropy(out, from_vector<int64_t>(lb, {m}))
                              : mean(square(out.reshape({m}) - from_vector<float>(yb, {m})));
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
  }

  // Test outputs in fixed-size chunks (the same rows always go through the same GEMM shapes).
  NoGradGuard ng;
  net.eval();
  const std::vector<float> xt = st.apply(test);
  std::vector<float> pred;
  pred.reserve(static_cast<size_t>(test.rows * spec.outputs));
  constexpr int64_t kChunk = 8192;
  for (int64_t s = 0; s < test.rows; s += kChunk) {
    const int64_t m = std::min(kChunk, test.rows - s);
    std::vector<float> chunk(xt.begin() + s * F, xt.begin() + (s + m) * F);
    const std::vector<float> o = net(from_vector<float>(chunk, {m, F})).to_vector<float>();
    pred.insert(pred.end(), o.begin(), o.end());
  }
  if (!spec.classification) {
    for (float& v : pred) v = static_cast<float>(v * ysd + ymean);
  }
  return pred;
}

// Task a: macro-F1 over the scored classes (per-class F1 of every class into *per_class).
// Task b: MSE.
double score(const TstrExamples& test, const std::vector<float>& pred, bool classification,
             const std::vector<bool>& scored, std::vector<double>* per_class) {
  if (classification) {
    std::vector<int64_t> cls(static_cast<size_t>(test.rows));
    for (int64_t r = 0; r < test.rows; ++r) {
      const float* p = pred.data() + r * kTstrProtocolClasses;
      cls[r] = std::max_element(p, p + kTstrProtocolClasses) - p;  // first on ties
    }
    *per_class = per_class_f1(test.label, cls, kTstrProtocolClasses);
    return macro_f1(test.label, cls, kTstrProtocolClasses, scored);
  }
  double ss = 0;
  for (int64_t r = 0; r < test.rows; ++r) {
    const double d = static_cast<double>(pred[r]) - test.y[r];
    ss += d * d;
  }
  return ss / static_cast<double>(test.rows);
}

std::string fmt_count(int64_t v) {
  return std::to_string(v);
}

// "TCP 90.1%, UDP 8.2%, ICMP 1.7%, other 0.0%": the class shares of a classification set.
std::string class_shares(const TstrExamples& e) {
  std::vector<int64_t> n(kTstrProtocolClasses, 0);
  for (int64_t c : e.label) ++n[static_cast<size_t>(c)];
  std::string s;
  for (int c = 0; c < kTstrProtocolClasses; ++c) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.2f%%", c ? ", " : "", tstr_protocol_name(c),
                  100.0 * static_cast<double>(n[static_cast<size_t>(c)]) /
                      static_cast<double>(std::max<int64_t>(e.rows, 1)));
    s += buf;
  }
  return s;
}

double variance(const std::vector<float>& y) {
  double m = 0, ss = 0;
  for (float v : y) m += v;
  m /= static_cast<double>(std::max<size_t>(y.size(), 1));
  for (float v : y) ss += (v - m) * (v - m);
  return ss / static_cast<double>(std::max<size_t>(y.size(), 1));
}

std::string class_names() {
  std::string s;
  for (int c = 0; c < kTstrProtocolClasses; ++c)
    s += std::string(c ? "/" : "") + tstr_protocol_name(c);
  return s;
}

std::string scored_names(const std::vector<bool>& scored) {
  std::string s;
  for (size_t c = 0; c < scored.size(); ++c) {
    if (scored[c])
      s += (s.empty() ? "" : ", ") + std::string(tstr_protocol_name(static_cast<int>(c)));
  }
  return s.empty() ? "none" : s;
}

std::string fmt_f3(double v) {
  return strprintf("%.3f", v);
}
std::string fmt_g(double v) {
  return strprintf("%g", v);
}

}  // namespace

int tstr_protocol_class(uint8_t pr) {
  switch (pr) {
    case proto::tcp:
      return 0;
    case proto::udp:
      return 1;
    case proto::icmp:
      return 2;
    default:
      return 3;
  }
}

const char* tstr_protocol_name(int c) {
  static const char* names[] = {"TCP", "UDP", "ICMP", "other"};
  STAN_CHECK(c >= 0 && c < kTstrProtocolClasses, "[tstr] protocol class ", c, " out of range");
  return names[c];
}

bool tstr_is_test_host(uint32_t host) {
  return (mix64(host) & 1) != 0;
}

TstrExamples protocol_examples(const FlowTable& t, const std::vector<HostStream>& streams,
                               TstrHosts which) {
  TstrExamples e;
  e.cols = kTstrProtocolFeatures;
  for (const HostStream& s : streams) {
    if (!selected(s.host, which) || s.flows.empty()) continue;
    ++e.hosts;
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = t.rows[static_cast<size_t>(f.row)];
      const size_t at = e.x.size();
      e.x.resize(at + static_cast<size_t>(kTstrProtocolFeatures));
      float* o = e.x.data() + at;
      const double pkt = static_cast<double>(r.pkt), byt = static_cast<double>(r.byt);
      *o++ = lg(byt);
      *o++ = lg(pkt);
      *o++ = lg(r.td);
      *o++ = lg(byt / std::max(pkt, 1.0));
      *o++ = f.outgoing ? 1.f : 0.f;
      o = port_features(o, f.local_port);
      o = port_features(o, f.remote_port);
      for (int b = 5; b >= 0; --b) *o++ = (r.flg >> b) & 1 ? 1.f : 0.f;  // U A P R S F
      *o++ = static_cast<float>(r.stos);
      const int64_t sec = second_of_day(r.te);
      const double angle = 2 * kPi * static_cast<double>(sec / 3600) / 24;
      *o++ = static_cast<float>(std::sin(angle));
      *o++ = static_cast<float>(std::cos(angle));
      STAN_ASSERT(o == e.x.data() + e.x.size(), "[tstr] protocol feature count");
      e.label.push_back(tstr_protocol_class(r.pr));
      ++e.rows;
    }
  }
  return e;
}

TstrExamples next_bytes_examples(const FlowTable& t, const std::vector<HostStream>& streams,
                                 TstrHosts which, int history) {
  STAN_CHECK(history >= 1, "[tstr] history must be at least 1, got ", history);
  TstrExamples e;
  e.cols = history * kTstrFlowFeatures;
  std::vector<float> feats;  // per flow of the current stream
  for (const HostStream& s : streams) {
    const auto n = static_cast<int64_t>(s.flows.size());
    if (!selected(s.host, which) || n <= history) continue;
    ++e.hosts;
    feats.clear();
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = t.rows[static_cast<size_t>(f.row)];
      feats.insert(feats.end(), {lg(static_cast<double>(r.byt)), lg(static_cast<double>(r.pkt)),
                                 lg(r.td), lg(static_cast<double>(f.dt)), f.outgoing ? 1.f : 0.f,
                                 r.pr == proto::tcp ? 1.f : 0.f, r.pr == proto::udp ? 1.f : 0.f});
    }
    for (int64_t i = history; i < n; ++i) {
      e.x.insert(e.x.end(), feats.begin() + (i - history) * kTstrFlowFeatures,
                 feats.begin() + i * kTstrFlowFeatures);
      e.y.push_back(feats[static_cast<size_t>(i * kTstrFlowFeatures)]);  // log1p bytes of flow i
      ++e.rows;
    }
  }
  return e;
}

std::vector<double> per_class_f1(std::span<const int64_t> truth, std::span<const int64_t> pred,
                                 int classes) {
  STAN_CHECK(truth.size() == pred.size() && !truth.empty(), "[macro_f1] expected equal non-zero ",
             "lengths, got ", truth.size(), " and ", pred.size());
  std::vector<int64_t> tp(static_cast<size_t>(classes)), fp(tp), fn(tp);
  for (size_t i = 0; i < truth.size(); ++i) {
    STAN_CHECK(truth[i] >= 0 && truth[i] < classes && pred[i] >= 0 && pred[i] < classes,
               "[macro_f1] class out of range [0,", classes, "): ", truth[i], ", ", pred[i]);
    if (truth[i] == pred[i]) {
      ++tp[truth[i]];
    } else {
      ++fn[truth[i]];
      ++fp[pred[i]];
    }
  }
  std::vector<double> f1(static_cast<size_t>(classes), std::nan(""));
  for (size_t c = 0; c < f1.size(); ++c) {
    const int64_t denom = 2 * tp[c] + fp[c] + fn[c];
    if (denom > 0) f1[c] = 2.0 * static_cast<double>(tp[c]) / static_cast<double>(denom);
  }
  return f1;
}

double macro_f1(std::span<const int64_t> truth, std::span<const int64_t> pred, int classes,
                const std::vector<bool>& scored) {
  STAN_CHECK(scored.empty() || static_cast<int>(scored.size()) == classes, "[macro_f1] expected ",
             classes, " scored flags, got ", scored.size());
  const std::vector<double> f1 = per_class_f1(truth, pred, classes);
  double sum = 0;
  int n = 0;
  for (size_t c = 0; c < f1.size(); ++c) {
    if (std::isnan(f1[c]) || (!scored.empty() && !scored[c])) continue;
    sum += f1[c];
    ++n;
  }
  return n > 0 ? sum / n : std::nan("");
}

std::vector<bool> tstr_scored_classes(std::span<const int64_t> test,
                                      std::span<const int64_t> train_real, int classes,
                                      double min_share) {
  STAN_CHECK(min_share >= 0 && min_share < 1, "[tstr] min_share must be in [0,1), got ", min_share);
  auto shares = [&](std::span<const int64_t> labels) {
    std::vector<double> n(static_cast<size_t>(classes), 0);
    for (int64_t c : labels) {
      STAN_CHECK(c >= 0 && c < classes, "[tstr] class ", c, " out of range [0,", classes, ")");
      n[static_cast<size_t>(c)] += 1;
    }
    for (auto& v : n) v /= static_cast<double>(std::max<size_t>(labels.size(), 1));
    return n;
  };
  const std::vector<double> a = shares(test), b = shares(train_real);
  std::vector<bool> scored(static_cast<size_t>(classes));
  for (size_t c = 0; c < scored.size(); ++c) {
    scored[c] = a[c] > 0 && b[c] > 0 && a[c] >= min_share && b[c] >= min_share;
  }
  return scored;
}

std::vector<TaskScore> run_tstr(const TstrInputs& in, const TstrOptions& opt) {
  STAN_CHECK(in.real && in.synthetic, "[tstr] the real and the synthetic table are required");
  STAN_CHECK(opt.max_train >= 1 && opt.max_test >= 1 && opt.epochs >= 1 && opt.batch >= 1 &&
                 opt.hidden >= 1 && opt.lr > 0,
             "[tstr] bad options: max_train ", opt.max_train, ", max_test ", opt.max_test,
             ", epochs ", opt.epochs, ", batch ", opt.batch, ", hidden ", opt.hidden, ", lr ",
             opt.lr);

  // Training sources: [0] real (train half), [1] synthetic, [2] baseline (optional).
  struct Source {
    const char* name;
    const FlowTable* table;
    TstrHosts hosts;
  };
  std::vector<Source> sources = {{"real (train hosts)", in.real, TstrHosts::train_half},
                                 {"synthetic", in.synthetic, TstrHosts::all}};
  if (in.baseline) sources.push_back({"baseline", in.baseline, TstrHosts::all});
  const size_t S = sources.size();

  // Examples: [task][source], plus the real test half. Each table's streams are built once.
  std::vector<std::vector<HostStream>> streams(S);
  const int threads = opt.threads > 0 ? opt.threads : default_threads();
  parallel_for(static_cast<int64_t>(S), threads, [&](int64_t i) {
    if (i == 0 || sources[i].table != in.real)
      streams[i] = build_host_streams(*sources[i].table, opt.owners);
  });
  std::vector<std::vector<TstrExamples>> train(2, std::vector<TstrExamples>(S));
  std::vector<TstrExamples> test(2);
  parallel_for(static_cast<int64_t>(S + 1), threads, [&](int64_t i) {
    const bool is_test = i == static_cast<int64_t>(S);
    const Source& src = is_test ? sources[0] : sources[i];
    const auto& st = is_test || src.table == in.real ? streams[0] : streams[i];
    const TstrHosts which = is_test ? TstrHosts::test_half : src.hosts;
    TstrExamples a = protocol_examples(*src.table, st, which);
    TstrExamples b = next_bytes_examples(*src.table, st, which, opt.history);
    if (is_test) {
      test[0] = std::move(a);
      test[1] = std::move(b);
    } else {
      train[0][i] = std::move(a);
      train[1][i] = std::move(b);
    }
  });

  const char* task_names[2] = {"protocol classifier", "next-bytes regression"};
  for (int task = 0; task < 2; ++task) {
    const char* need = task == 0 ? "a host flow" : "a host with more than `history` flows";
    STAN_CHECK(test[task].rows > 0, "[tstr] ", task_names[task],
               ": the real data has no test example (", need,
               ") on the test side of the host split; it needs owner hosts on both sides");
    for (size_t s = 0; s < S; ++s) {
      STAN_CHECK(train[task][s].rows > 0, "[tstr] ", task_names[task], ": ", sources[s].name,
                 " data has no training example (", need, " of an owner host, history ",
                 opt.history, ")");
    }
  }
  // Task a scores the classes that real training hosts can teach and real test hosts hold.
  const std::vector<bool> scored = tstr_scored_classes(test[0].label, train[0][0].label,
                                                       kTstrProtocolClasses, kTstrMinClassShare);
  // Subsets (fixed streams per task and side, so adding a baseline changes nothing else).
  for (int task = 0; task < 2; ++task) {
    for (size_t s = 0; s < S; ++s) {
      const auto rows = subset(train[task][s].rows, opt.max_train,
                               Generator(opt.seed, streams::kTstrSubset + 16 * task + s));
      train[task][s] = take_rows(std::move(train[task][s]), rows);
    }
    const auto rows = subset(test[task].rows, opt.max_test,
                             Generator(opt.seed, streams::kTstrSubset + 16 * task + 15));
    test[task] = take_rows(std::move(test[task]), rows);
  }

  // Trainings side by side, each on one thread with single-threaded BLAS (tensor/parallel.h).
  const int blas_before = blas_threads();
  set_blas_threads(1);
  struct BlasRestore {
    int n;
    ~BlasRestore() { set_blas_threads(n); }
  } restore{blas_before};
  std::vector<double> scores(2 * S, std::nan(""));
  std::vector<std::vector<double>> per_class(2 * S);
  parallel_for(static_cast<int64_t>(2 * S), threads, [&](int64_t j) {
    const int task = static_cast<int>(j / static_cast<int64_t>(S));
    const size_t s = static_cast<size_t>(j) % S;
    TrainSpec spec;
    spec.classification = task == 0;
    spec.outputs = task == 0 ? kTstrProtocolClasses : 1;
    spec.stream = static_cast<uint64_t>(task);
    const std::vector<float> pred = train_and_predict(train[task][s], test[task], spec, opt);
    scores[j] = score(test[task], pred, spec.classification, scored, &per_class[j]);
  });

  std::vector<TaskScore> out;
  for (int task = 0; task < 2; ++task) {
    TaskScore t;
    t.task = task_names[task];
    t.metric = task == 0 ? "macro-F1" : "MSE";
    t.lower_is_better = task == 1;
    t.train_on_real = scores[task * S + 0];
    t.train_on_synthetic = scores[task * S + 1];
    if (S > 2) t.train_on_baseline = scores[task * S + 2];
    std::string d = "Test: the real owner hosts with mix64(address) odd (" +
                    fmt_count(test[task].hosts) + " hosts, " + fmt_count(test[task].rows) +
                    " examples); train on real: the other real hosts; train on synthetic / "
                    "baseline: all their owner hosts. Training examples (at most " +
                    fmt_count(opt.max_train) + ", random subset): ";
    for (size_t s = 0; s < S; ++s) {
      d += std::string(s ? ", " : "") + sources[s].name + " " + fmt_count(train[task][s].rows) +
           " from " + fmt_count(train[task][s].hosts) + " hosts";
    }
    if (task == 0) {
      d += ". Host flow -> TCP/UDP/ICMP/other from 30 features (log1p bytes, packets, duration, "
           "bytes per packet; direction; per port: p<1024, log1p(p), one-hots of "
           "80/443/53/22/123/0; 6 TCP flag bits; ToS; sin/cos hour); cross-entropy loss. "
           "Macro-F1 over the classes holding at least " +
           fmt_g(100 * kTstrMinClassShare) +
           "% of both the real test examples and the real training examples (scored: " +
           scored_names(scored) + "; real test: " + class_shares(test[0]) +
           "; real training: " + class_shares(train[0][0]) + "). Per-class F1 (" + class_names() +
           "): ";
      for (size_t s = 0; s < S; ++s) {
        d += std::string(s ? "; " : "") + sources[s].name + " ";
        for (size_t c = 0; c < per_class[s].size(); ++c) {
          d += (c ? "/" : "") + (std::isnan(per_class[s][c]) ? "-" : fmt_f3(per_class[s][c]));
        }
      }
      d += ".";
    } else {
      d += ". Next host flow's log1p bytes from the previous " + std::to_string(opt.history) +
           " flows (log1p bytes, packets, duration, inter-arrival; direction; TCP; UDP); loss and "
           "score mean((pred - y)^2); the test targets' variance (the MSE of predicting their "
           "mean) is " +
           fmt_g(variance(test[1].y)) + ".";
    }
    d += " Features standardised with the training set's statistics; MLP " +
         std::to_string(train[task][0].cols) + "-" + std::to_string(opt.hidden) + "-" +
         std::to_string(task == 0 ? kTstrProtocolClasses : 1) + " (ReLU), Adam lr " +
         fmt_g(opt.lr) + ", " + std::to_string(opt.epochs) + " epochs, batch " +
         std::to_string(opt.batch) + ", seed " + std::to_string(opt.seed) + ".";
    t.description = std::move(d);
    out.push_back(std::move(t));
  }
  return out;
}

TstrHook make_tstr_hook(TstrOptions opt) {
  return [opt = std::move(opt)](const TstrInputs& in) { return run_tstr(in, opt); };
}

}  // namespace stan
