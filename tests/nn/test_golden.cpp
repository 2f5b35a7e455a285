// Replays tests/golden/nn_golden.json, a PyTorch run (float64 reference) of a tiny model that
// uses every layer, both mixture losses and the softmax head, plus 5 Adam steps with StepLR
// (see tests/golden/make_golden.py and README.md there), and checks our numbers against it.
//
// Tolerance per element: |ours - ref| <= rtol * |ref| + floor * max|ref over the quantity|.
// float32: rtol 1e-4, floor 1e-6 (the floor only matters for elements ~1e4 times smaller than
// the largest one of their tensor, e.g. gradients that are analytically 0).
// float64: rtol 1e-9, floor 1e-12.
// The largest deviations are printed (one line per quantity) for the record.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "nn/mixture.h"
#include "nn/optim.h"
#include "nn_test_util.h"

using namespace stan;
using namespace stan::nn;
using json = nlohmann::json;

namespace {

const json& golden() {
  static const json g = [] {
    const std::string path = std::string(STAN_TEST_DATA_DIR) + "/golden/nn_golden.json";
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open the golden file");
    return json::parse(in);
  }();
  return g;
}

Shape shape_of(const json& a) {
  return a.at("shape").get<Shape>();
}
std::vector<double> data_of(const json& a) {
  return a.at("data").get<std::vector<double>>();
}

Tensor tensor_of(const json& a, DType t) {
  if (t == DType::i64)
    return from_vector<int64_t>(a.at("data").get<std::vector<int64_t>>(), shape_of(a));
  return from_vector<double>(data_of(a), shape_of(a)).to(t);
}

std::vector<double> values(const Tensor& t) {
  if (!t.defined()) return {};
  if (t.dtype() == DType::i64) {
    std::vector<double> r;
    for (int64_t v : t.to_vector<int64_t>()) r.push_back(static_cast<double>(v));
    return r;
  }
  return t.detach().to(DType::f64).to_vector<double>();
}

struct Tol {
  double rtol, floor;
  const char* tag;
};
constexpr Tol kF32{1e-4, 1e-6, "f32"};
constexpr Tol kF64{1e-9, 1e-12, "f64"};

// Per quantity: the largest absolute deviation, the largest relative deviation (over elements
// at least 1% of the tensor's largest magnitude) and the worst ratio to the tolerance.
struct Deviation {
  double max_abs = 0, max_rel = 0, ratio = 0, scale = 0;
};

std::map<std::string, Deviation>& deviations() {
  static std::map<std::string, Deviation> d;
  return d;
}

// Compares ours (undefined = zeros) with ref; prints and REQUIREs the tolerance.
void compare(const std::string& what, const Tensor& ours, const std::vector<double>& ref,
             const Shape& shape, const Tol& tol) {
  INFO(tol.tag << " " << what);
  std::vector<double> got = values(ours);
  if (!ours.defined())
    got.assign(ref.size(), 0.0);
  else
    REQUIRE(ours.shape() == shape);
  REQUIRE(got.size() == ref.size());
  Deviation d;
  for (double r : ref) d.scale = std::max(d.scale, std::abs(r));
  const double atol = tol.floor * d.scale;
  size_t worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    REQUIRE(std::isfinite(got[i]));
    const double err = std::abs(got[i] - ref[i]);
    d.max_abs = std::max(d.max_abs, err);
    if (std::abs(ref[i]) >= 0.01 * d.scale && ref[i] != 0)
      d.max_rel = std::max(d.max_rel, err / std::abs(ref[i]));
    const double allowed = tol.rtol * std::abs(ref[i]) + atol;
    const double ratio = allowed > 0 ? err / allowed : (err > 0 ? INFINITY : 0);
    if (ratio > d.ratio) d.ratio = ratio, worst = i;
  }
  std::cout << "golden[" << tol.tag << "] " << std::left << std::setw(44) << what << std::right
            << std::scientific << std::setprecision(2) << " max|ref| " << d.scale
            << "  max abs dev " << d.max_abs << "  max rel dev " << d.max_rel << "  (" << std::fixed
            << std::setprecision(3) << d.ratio << " of tolerance)" << std::defaultfloat << "\n";
  deviations()[std::string(tol.tag) + " " + what] = d;
  INFO("worst element " << worst << ": ours " << got[worst] << ", reference " << ref[worst] << " ("
                        << d.ratio << " of the tolerance)");
  CHECK(d.ratio <= 1.0);
}

void compare(const std::string& what, const Tensor& ours, const json& ref, const Tol& tol) {
  compare(what, ours, data_of(ref), shape_of(ref), tol);
}

void compare_scalar(const std::string& what, double ours, double ref, const Tol& tol) {
  compare(what, scalar(ours, DType::f64), {ref}, Shape{}, tol);
}

// The PyTorch script's GoldenNet, module for module (so parameter names match).
struct GoldenNet : Module {
  std::shared_ptr<Sequential> encoder;
  std::shared_ptr<MixtureHead> mix;
  std::shared_ptr<Linear> cls;
  GoldenNet(const json& c, Generator& gen, DType t) {
    const int64_t ch = c.at("conv_channels"), f = c.at("features");
    const int64_t flat = ch * (c.at("H").get<int64_t>() / 2) * (c.at("W").get<int64_t>() / 2);
    encoder = register_module("encoder", std::make_shared<Sequential>());
    encoder->add(std::make_shared<Conv2d>(c.at("C_in").get<int64_t>(), ch, 3, gen, 1, 1, false, t))
        .add(std::make_shared<BatchNorm2d>(ch, c.at("bn_eps").get<double>(),
                                           c.at("bn_momentum").get<double>(), t))
        .add(std::make_shared<ReLU>())
        .add(std::make_shared<MaxPool2d>(2))
        .add(std::make_shared<Flatten>())
        .add(std::make_shared<Linear>(flat, f, gen, true, t))
        .add(std::make_shared<ELU>());
    mix =
        register_module("mix", std::make_shared<MixtureHead>(f, c.at("K").get<int64_t>(), gen, t));
    cls = register_module(
        "cls", std::make_shared<Linear>(f, c.at("classes").get<int64_t>(), gen, true, t));
  }
  Tensor forward(const Tensor& x) override { return (*encoder)(x); }
  std::string describe() const override { return "GoldenNet"; }
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& v) {
  std::vector<std::string> r;
  for (auto& [n, t] : v) r.push_back(n);
  return r;
}
std::vector<std::string> names_of(const json& v) {
  std::vector<std::string> r;
  for (auto& e : v) r.push_back(e.at("name"));
  return r;
}

// The four losses of the golden file, and the training loss (a sum of two of them).
std::map<std::string, Tensor> losses_of(const MixtureParams& p, const Tensor& logits,
                                        const Tensor& y, const Tensor& labels, const json& c) {
  BinnedLossOptions o;
  o.half_width = c.at("half_width");
  o.sigma_floor = c.at("sigma_floor");
  o.low_edge = c.at("low_edge");
  o.high_edge = c.at("high_edge");
  std::map<std::string, Tensor> l;
  l["mixture_nll"] = mixture_nll(p, y, o.sigma_floor);
  l["binned_nll"] = binned_mixture_nll(p, y, o);
  o.censor = true;
  l["binned_censored_nll"] = binned_mixture_nll(p, y, o);
  l["cross_entropy"] = cross_entropy(logits, labels);
  const auto& tl = c.at("train_loss");
  l["train"] = add(l.at(tl.front().get<std::string>()), l.at(tl.back().get<std::string>()));
  return l;
}

void run_golden_model(DType t, const Tol& tol) {
  const json& g = golden();
  const json& c = g.at("config");
  INFO("golden file from torch " << g.at("torch_version").get<std::string>());
  REQUIRE(g.at("reference_dtype") == "float64");
  Generator gen(1);
  GoldenNet net(c, gen, t);

  // Same names, same order as PyTorch's named_parameters() / named_buffers().
  REQUIRE(names_of(net.named_parameters()) == names_of(g.at("weights")));
  REQUIRE(names_of(net.named_buffers()) == names_of(g.at("buffers_initial")));
  {
    NoGradGuard ng;
    auto params = net.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      const json& w = g.at("weights").at(i);
      REQUIRE(params[i].second.shape() == shape_of(w));
      params[i].second.copy_(tensor_of(w, t));
    }
    auto bufs = net.named_buffers();
    for (size_t i = 0; i < bufs.size(); ++i)
      REQUIRE(values(bufs[i].second) == data_of(g.at("buffers_initial").at(i)));
  }
  Tensor x = tensor_of(g.at("input"), t);
  x.requires_grad_(true);
  Tensor y =
      from_vector<double>(g.at("y").get<std::vector<double>>(), {c.at("N").get<int64_t>()}).to(t);
  Tensor labels =
      from_vector<int64_t>(g.at("labels").get<std::vector<int64_t>>(), {c.at("N").get<int64_t>()});

  // Forward.
  Tensor feats = net(x);
  Tensor mix_out = (*net.mix)(feats);
  Tensor logits = (*net.cls)(feats);
  compare("output features", feats, g.at("outputs").at("features"), tol);
  compare("output mixture [logits|mu|log_sigma]", mix_out, g.at("outputs").at("mixture"), tol);
  compare("output class logits", logits, g.at("outputs").at("logits"), tol);
  auto bufs = net.named_buffers();
  for (size_t i = 0; i < bufs.size(); ++i)
    compare("bn after 1 forward: " + bufs[i].first, bufs[i].second,
            g.at("buffers_after_forward").at(i), tol);

  // Losses and gradients (one forward, one backward per loss).
  auto losses = losses_of(net.mix->split(mix_out), logits, y, labels, c);
  auto params = net.named_parameters();
  for (const auto& [name, ref] : g.at("losses").items()) {
    compare_scalar("loss " + name, losses.at(name).item<double>(), ref.get<double>(), tol);
    net.zero_grad();
    x.zero_grad();
    losses.at(name).backward(Tensor(), /*retain_graph=*/true);
    const json& gr = g.at("grads").at(name);
    REQUIRE(gr.size() == params.size() + 1);
    for (size_t i = 0; i < params.size(); ++i)
      compare("grad " + name + " / " + params[i].first, params[i].second.grad(), gr.at(i), tol);
    REQUIRE(gr.back().at("name") == "input");
    compare("grad " + name + " / input", x.grad(), gr.back(), tol);
  }
  // Each mixture loss's gradient with respect to the head output (N, 3K).
  for (const auto& [name, ref] : g.at("head_grads").items()) {
    Tensor m = mix_out.detach().clone();
    m.requires_grad_(true);
    losses_of(net.mix->split(m), logits.detach(), y, labels, c).at(name).backward();
    compare("head grad " + name, m.grad(), ref, tol);
  }

  // Training: two Adams (encoder + mixture head; softmax head with weight decay), StepLR each.
  std::vector<Tensor> mix_params, cls_params;
  for (auto& [n, p] : params) (n.rfind("cls.", 0) == 0 ? cls_params : mix_params).push_back(p);
  Adam opt_mix(mix_params, {c.at("lr_mix").get<double>()});
  AdamOptions oc;
  oc.lr = c.at("lr_cls");
  oc.weight_decay = c.at("weight_decay_cls");
  Adam opt_cls(cls_params, oc);
  StepLR sched_mix(opt_mix, c.at("step_size"), c.at("gamma")),
      sched_cls(opt_cls, c.at("step_size"), c.at("gamma"));
  const json& tr = g.at("train");
  const int steps = c.at("steps");
  Tensor loss = losses.at("train");
  std::vector<double> train_losses;
  for (int s = 0; s < steps; ++s) {
    if (s > 0) {
      Tensor f = net(x.detach());
      loss = losses_of(net.mix->split((*net.mix)(f)), (*net.cls)(f), y, labels, c).at("train");
    }
    train_losses.push_back(loss.item<double>());
    REQUIRE(opt_mix.lr() ==
            Approx(tr.at("lrs").at(static_cast<size_t>(s)).front().get<double>()).epsilon(1e-14));
    REQUIRE(opt_cls.lr() ==
            Approx(tr.at("lrs").at(static_cast<size_t>(s)).back().get<double>()).epsilon(1e-14));
    opt_mix.zero_grad();
    opt_cls.zero_grad();
    loss.backward();
    opt_mix.step();
    opt_cls.step();
    sched_mix.step();
    sched_cls.step();
  }
  compare("train losses over 5 Adam steps", from_vector<double>(train_losses, {steps}),
          tr.at("losses").get<std::vector<double>>(), Shape{steps}, tol);
  auto final_params = net.named_parameters();
  for (size_t i = 0; i < final_params.size(); ++i)
    compare("after 5 steps: " + final_params[i].first, final_params[i].second,
            tr.at("final_params").at(i), tol);
  bufs = net.named_buffers();
  for (size_t i = 0; i < bufs.size(); ++i)
    compare("after 5 steps: " + bufs[i].first, bufs[i].second, tr.at("final_buffers").at(i), tol);
  // Eval mode: running statistics.
  net.eval();
  NoGradGuard ng;
  Tensor fe = net(x.detach());
  compare("eval output mixture", (*net.mix)(fe), tr.at("eval_mixture"), tol);
  compare("eval output class logits", (*net.cls)(fe), tr.at("eval_logits"), tol);
}

}  // namespace

TEST_CASE("golden: model vs PyTorch in float32 (rtol 1e-4)") {
  std::cout << "golden file: torch " << golden().at("torch_version").get<std::string>() << "\n";
  run_golden_model(DType::f32, kF32);
  Deviation worst;
  std::string where;
  for (auto& [k, d] : deviations())
    if (k.rfind("f32", 0) == 0 && d.max_rel > worst.max_rel) worst = d, where = k;
  std::cout << "golden[f32] largest relative deviation overall: " << worst.max_rel << " (" << where
            << ")\n";
}

TEST_CASE("golden: model vs PyTorch in float64 (rtol 1e-9)") {
  run_golden_model(DType::f64, kF64);
}

TEST_CASE("golden: conv2d (stride/padding/bias) and max_pool2d cases vs PyTorch") {
  for (auto [t, tol] : {std::pair{DType::f64, kF64}, std::pair{DType::f32, kF32}}) {
    int i = 0;
    for (const json& cc : golden().at("conv_cases")) {
      const std::string tag = "conv case " + std::to_string(i++) + " (stride " +
                              std::to_string(cc.at("stride").get<int>()) + ", padding " +
                              std::to_string(cc.at("padding").get<int>()) + ")";
      Tensor x = tensor_of(cc.at("x"), t), w = tensor_of(cc.at("w"), t),
             b = tensor_of(cc.at("b"), t);
      for (Tensor* p : {&x, &w, &b}) p->requires_grad_(true);
      Tensor out = conv2d(x, w, b, cc.at("stride"), cc.at("padding"));
      compare(tag + " out", out, cc.at("out"), tol);
      sum(mul(out, tensor_of(cc.at("r"), t))).backward();
      compare(tag + " grad x", x.grad(), cc.at("grad_x"), tol);
      compare(tag + " grad w", w.grad(), cc.at("grad_w"), tol);
      compare(tag + " grad b", b.grad(), cc.at("grad_b"), tol);
    }
    i = 0;
    for (const json& pc : golden().at("pool_cases")) {
      const std::string tag = "max_pool2d case " + std::to_string(i++) + " (kernel " +
                              std::to_string(pc.at("kernel").get<int>()) + ", stride " +
                              std::to_string(pc.at("stride").get<int>()) + ")";
      Tensor x = tensor_of(pc.at("x"), t);
      x.requires_grad_(true);
      Tensor out = max_pool2d(x, pc.at("kernel"), pc.at("stride"));
      compare(tag + " out", out, pc.at("out"), tol);
      sum(mul(out, tensor_of(pc.at("r"), t))).backward();
      compare(tag + " grad x", x.grad(), pc.at("grad_x"), tol);
    }
  }
}

TEST_CASE("golden: binned loss far in the tails vs 60-digit references") {
  // Not a structured binding: clang 14 cannot capture those in the lambda below.
  for (const auto& case_tol :
       {std::pair{DType::f64, Tol{1e-12, 0, "f64"}}, std::pair{DType::f32, Tol{2e-5, 0, "f32"}}}) {
    const DType t = case_tol.first;
    const Tol& tol = case_tol.second;
    for (const json& tc : golden().at("tail_cases")) {
      const auto k = static_cast<int64_t>(tc.at("logits").size());
      auto mk = [&](const char* key) {
        return from_vector<double>(tc.at(key).get<std::vector<double>>(), {1, k}).to(t);
      };
      BinnedLossOptions o;
      o.half_width = tc.at("half_width");
      Tensor y = from_vector<double>({tc.at("y").get<double>()}, {1}).to(t);
      std::ostringstream tag;
      tag << "tail nll, y " << tc.at("y").get<double>() << " at " << std::setprecision(3)
          << tc.at("sigmas_away").get<double>() << " sigma";
      const double v =
          binned_mixture_nll({mk("logits"), mk("mu"), mk("log_sigma")}, y, o).item<double>();
      compare_scalar(tag.str(), v, tc.at("nll"), tol);
    }
  }
}

TEST_CASE("golden: log1mexp accuracy vs 60-digit references") {
  const json& tab = golden().at("log1mexp");
  const auto xs = tab.at("x").get<std::vector<double>>();
  const auto n = static_cast<int64_t>(xs.size());
  compare("log1mexp", log1mexp(from_vector<double>(xs, {n})),
          tab.at("ref").get<std::vector<double>>(), Shape{n}, Tol{1e-15, 0, "f64"});
  // float32 rounds the inputs (a relative change of up to 6e-8 in x, which log1mexp passes on
  // at most |x| times larger), and results below 1.2e-38 are denormal: compare the others.
  std::vector<double> x32, ref32;
  for (int64_t i = 0; i < n; ++i)
    if (std::abs(tab.at("ref").at(i).get<double>()) > 1e-37) {
      x32.push_back(xs[i]);
      ref32.push_back(tab.at("ref").at(i).get<double>());
    }
  REQUIRE(x32.size() >= 14);
  const auto n32 = static_cast<int64_t>(x32.size());
  compare("log1mexp", log1mexp(from_vector<double>(x32, {n32}).to(DType::f32)), ref32, Shape{n32},
          Tol{1e-5, 0, "f32"});
}
