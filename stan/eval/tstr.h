// Train-on-synthetic / test-on-real (TSTR) task scores for `stan eval`, built with our own
// tensor/ and nn/ (plugged into EvalOptions::tstr through make_tstr_hook).
//
// Protocol (the same for both tasks):
//  - Unit: the host flow (a record seen from its owner host, as in build_host_streams).
//  - Split of the real data: by owner host. A host is a test host when mix64(address) is odd
//    (tstr_is_test_host). Every model is tested on the real test hosts' examples; "train on
//    real" trains on the other real hosts (disjoint hosts, same period); "train on synthetic" and
//    "train on baseline" train on all owner hosts of those tables. A record between two real
//    owners on opposite sides of the split is seen once from each side (a small shared part).
//    The evaluation's real training file (EvalInputs::train) is not used.
//  - Training set: at most max_train examples, a uniform random subset (fixed seed); features
//    standardised with the training set's mean and standard deviation (constant features: sd 1),
//    the test set scaled with the same statistics. Test set: at most max_test examples (subset).
//  - Model: MLP Linear(F, hidden) - ReLU - Linear(hidden, out), PyTorch default init, Adam
//    (lr, PyTorch defaults otherwise), `epochs` passes in mini-batches of `batch` over a reshuffled
//    order. The same init and shuffling streams for every training source.
//  - Determinism: a pure function of the tables and options (each training runs on one thread
//    with single-threaded BLAS; trainings run side by side on `threads` threads).
//
// Task a, protocol classifier: host flow -> protocol class (TCP, UDP, ICMP, other) from 30
// features without the protocol: log1p bytes, packets, duration, bytes per packet; direction;
// for the local and the remote port: p < 1024, log1p(p), one-hots of 80, 443, 53, 22, 123, 0;
// the 6 TCP flag bits; ToS; sin and cos of the hour of day. Cross-entropy loss. Score: macro-F1
// on the real test hosts over the classes holding at least kTstrMinClassShare of both the real
// test and the real training examples (tstr_scored_classes; higher is better).
//
// Task b, next-bytes regression: from a host's previous `history` flows (each: log1p bytes,
// packets, duration, inter-arrival to its own predecessor (0 for the host's first flow),
// direction, is TCP, is UDP) predict the next flow's log1p bytes; one example per host flow with
// at least `history` predecessors. Target standardised for training; loss mean((pred - y)^2).
// Score: MSE of log1p bytes on the real test hosts (lower is better).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "stan/eval/eval.h"
#include "stan/io/hosts.h"

namespace stan {

struct TstrOptions {
  OwnerSelector owners;        // whose streams (set it to EvalOptions::owners)
  uint64_t seed = 1;           // subsets, init and shuffling
  int64_t max_train = 200000;  // training examples per source (uniform random subset)
  int64_t max_test = 500000;   // real test examples (uniform random subset)
  int epochs = 4;              // passes over the training subset
  int64_t batch = 256;         // mini-batch size
  int64_t hidden = 64;         // hidden units of the MLP
  double lr = 2e-3;            // Adam learning rate
  int history = 5;             // previous flows per next-bytes example
  int threads = 0;             // trainings side by side; 0: default_threads()
};

// Protocol classes of task a.
inline constexpr int kTstrProtocolClasses = 4;
int tstr_protocol_class(uint8_t pr);    // 0 TCP (6), 1 UDP (17), 2 ICMP (1), 3 any other
const char* tstr_protocol_name(int c);  // "TCP", "UDP", "ICMP", "other"

// The real-data split: true when mix64(host) is odd.
bool tstr_is_test_host(uint32_t host);

// Which owner hosts an example set is drawn from.
enum class TstrHosts { all, train_half, test_half };

// Examples of one task: x row-major (rows, cols) float; classification labels in `label`,
// regression targets in `y` (the other is empty).
struct TstrExamples {
  int64_t rows = 0, cols = 0;
  std::vector<float> x;
  std::vector<int64_t> label;
  std::vector<float> y;
  int64_t hosts = 0;  // hosts contributing at least one example
};
inline constexpr int64_t kTstrProtocolFeatures = 30;
inline constexpr int64_t kTstrFlowFeatures = 7;  // per previous flow in task b

// Task a examples: one per host flow of the selected hosts, in stream order.
TstrExamples protocol_examples(const FlowTable& t, const std::vector<HostStream>& streams,
                               TstrHosts which);
// Task b examples: one per host flow with at least `history` predecessors in its stream.
// cols = history * kTstrFlowFeatures, oldest flow first.
TstrExamples next_bytes_examples(const FlowTable& t, const std::vector<HostStream>& streams,
                                 TstrHosts which, int history);

// Per-class F1, 2TP / (2TP + FP + FN); NaN for a class neither in `truth` nor in `pred`. Codes
// in [0, classes); equal non-zero lengths.
std::vector<double> per_class_f1(std::span<const int64_t> truth, std::span<const int64_t> pred,
                                 int classes);
// Macro-F1: the mean of per_class_f1 over the classes that occur in `truth` or `pred`
// (scikit-learn's default), and only over those with scored[c] when `scored` is given (a
// prediction of an unscored class still counts as an error of the true class). NaN if none.
double macro_f1(std::span<const int64_t> truth, std::span<const int64_t> pred, int classes,
                const std::vector<bool>& scored = {});
// Task a's scored classes: those holding at least min_share of the real test examples and of the
// real training examples, i.e. the classes train-on-real can learn. A rare class would otherwise
// weigh as much as TCP (the sample's one IPv6 flow), and a class living only on test hosts (GRE,
// IPIP and ESP sit on a handful of hosts of the full day) would score train-on-real 0 and make the
// synthetic/real ratio meaningless. Per-class F1 of all classes is in the task description.
std::vector<bool> tstr_scored_classes(std::span<const int64_t> test,
                                      std::span<const int64_t> train_real, int classes,
                                      double min_share);
inline constexpr double kTstrMinClassShare = 0.001;

// Both tasks for every training source present: [0] protocol classifier, [1] next-bytes
// regression. Throws stan::Error (naming the side) when the real data has no example on one side
// of the split or the synthetic (or a given baseline) table has no example of a task.
std::vector<TaskScore> run_tstr(const TstrInputs& in, const TstrOptions& opt);

// A hook for EvalOptions::tstr that calls run_tstr with `opt`.
TstrHook make_tstr_hook(TstrOptions opt);

}  // namespace stan
