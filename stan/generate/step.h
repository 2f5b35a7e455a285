// One generation step for a batch of hosts: every host's next row, attribute after attribute in
// generation order, on the device that holds the model. Per attribute: the network's layers as
// batch-invariant GEMMs on weights packed once (PackedModel), a draw for every row from the
// host's own random numbers (nn::sample_*_rows), and the drawn value written into the row's
// features by the encoder's rules (Encoder::feature_table, applies, dt_seconds). On the CPU an
// attribute that applies to some rows only (octets, dt, td) runs on those rows alone. The host
// sends the step's inputs once and reads its results once: nothing crosses per attribute.
//
// Random numbers: host h's step uses counters [offset, offset + draws_per_step()) of its stream
// (seed, stream_h): uniforms first (one per categorical attribute; per mixture one per attempt),
// then normals (per mixture one per attempt), then decode_draws() for the host-side decoding of
// the record (ports inside a class). So a host's rows depend on its stream and its own history
// only: not on the batch, its position in it or the thread that runs it. On a GPU the GEMMs
// round differently: in the run measured (README: On a GPU) about 1% of the flows differed from
// the CPU's in the last digits of a continuous value, none in a categorical one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stan/model/model.h"
#include "tensor/backend.h"

namespace stan {

// How generation draws from the model's distributions; every 1 samples the model as trained.
struct Sampling {
  // The logits of the flow's categorical fields (protocol, direction, ports, remote octets,
  // flags, ToS; not the stop, peer or zero decisions) are divided by it before the draw (the
  // ports' by it times port_temperature). Unset: the model's own (ModelConfig::temperature, 1 for
  // models without one).
  std::optional<double> temperature = std::nullopt;
  // Models whose peers are matched by service only: the weight, relative to the model's
  // probability, of a peer class that names a remote of another service than the row's (a
  // cached peer: its last service; a popular remote: its training service); 0 never returns to
  // another service.
  double other_service = 1.0;
  // The peer choice's logits are divided by it (below 1: a host returns to its likeliest peer,
  // mostly its last one with the service, more often).
  double peer_temperature = 1.0;
  // The mixtures of the flow's shape (packets, bytes per packet, duration): each component's
  // weight is raised to the power 1/T (renormalised) and its width above the floor multiplied
  // by sqrt(T), as p^(1/T) does to one Gaussian; below 1 each flow keeps nearer the likeliest
  // shape its context (the host's last flows, its peer's first flow) gives. Unset: the model's
  // own (ModelConfig::shape_temperature, 1 for models without one).
  std::optional<double> shape_temperature = std::nullopt;
  // The local and remote port classes are drawn at temperature x port temperature: below 1 a
  // flow keeps to the services and client port ranges its context makes likeliest, so that its
  // other fields say more about its ports. Unset: the model's own (ModelConfig::port_temperature,
  // 1 for models without one).
  std::optional<double> port_temperature = std::nullopt;
  // The four octets of a new remote are drawn at temperature x octet temperature (a popular or
  // cached remote keeps its address): above 1 new remotes spread over more address blocks, the
  // first octet's marginal a little closer to the real one and its dependence on the other
  // fields a little weaker (README: Octet temperature). Unset: the model's own
  // (ModelConfig::octet_temperature, 1 for models without one).
  std::optional<double> octet_temperature = std::nullopt;
  // Pair rates: every (host, remote) pair of a run gets a rate w, log-normal with mean 1 and this
  // standard deviation of log w, fixed by the seed, the host's stream and the remote's address
  // (streams::kPairRates). A row's cached peers that match its service (all of them in a model
  // that does not match peers by service) have their probability multiplied by their pair's w
  // (w's log added to the peer logits): some of a host's peers become its busy conversations,
  // the others stay occasional, as real hosts poll one server or relay mail to one. 0: off.
  double pair_spread = 0.0;
  // Pair draws: with this probability, a flow draws its packets' and bytes per packet's mixture
  // components, its bytes per packet within its component and its TCP-flag and ToS classes with
  // its (host, remote) pair's own random numbers (fixed by the seed, the host's stream and the
  // remote's address, streams::kPairDraws) in place of its own, so that a pair's flows take the
  // same kind of flow where their contexts are alike. Each flow's numbers stay uniform (normal),
  // so its distribution given its context is the model's. 0: off.
  double pair_draws = 0.0;
  // Models with a peer choice: the weight, relative to the model's probability, of a new remote
  // where the host has a cached peer of the row's service (any cached peer in a model that does
  // not match peers by service): below 1 a host opens fewer conversations and returns to the
  // ones it has more often, so that its flows gather on fewer remotes (README: New remotes). A
  // host without such a peer draws a new remote as trained. 1: as trained; 0: never. Unset: the
  // model's own (ModelConfig::new_peer_weight, 1 for models without one).
  std::optional<double> new_peer_weight = std::nullopt;
  // Pace: models with host profiles. A host's flows so far, c, are compared with its profile's
  // flows (log_flows) spread evenly over its profile's hours (first_hour to last_hour) up to its
  // clock, E; each inter-arrival the model draws is divided by ((E + 20) / (c + 20))^pace
  // (within [1/64, 64]) before the host's window sees it, and inside its hours a host with
  // c < E does not stop: busy hosts, which otherwise often draw their stop hours early, keep the
  // volume their profile asks for, and one far ahead slows down (README: Pace). 0: off, the
  // model's own inter-arrivals and stops.
  double pace = 0.0;
};

// The model's weights packed for the generation GEMMs, on one device; shared by step engines.
class PackedModel {
 public:
  PackedModel(const StanModel& model, Device d, const Sampling& sampling = {});
  const StanModel& model() const { return model_; }
  Device device() const { return dev_; }

  struct Layer {
    PackedWeight w;  // (in, out)
    Tensor bias;     // (out)
  };
  struct Net {
    std::vector<Layer> trunk;  // the hidden layer, if any (ELU after it)
    Layer head;                // categorical: the logits layer
    Layer pi1, ms1, pi2, ms2;  // mixture: Linear-ELU-Linear for pi and for (mu, log sigma)
    Tensor table;              // categorical: feature rows per class
    int64_t width = 0;         // logits (classes) or 3K
    int u_col = 0, z_col = 0;  // first uniform / normal column of its draws
    double temperature = 1;    // logits / temperature before the draw; a mixture's widths too
  };
  const std::vector<Net>& nets() const { return nets_; }
  int uniforms() const { return uniforms_; }
  int normals() const { return normals_; }
  int attempts() const { return attempts_; }  // draws per mixture value
  int64_t draws_per_step() const { return uniforms_ + normals_ + kDecodeDraws; }
  static constexpr int kDecodeDraws = 8;  // host-side draws of Encoder::decode (ports)
  double other_service() const { return sampling_.other_service; }
  double pair_spread() const { return sampling_.pair_spread; }
  double new_peer_weight() const { return *sampling_.new_peer_weight; }  // set by the constructor
  double pair_draws() const { return sampling_.pair_draws; }
  double pace() const { return sampling_.pace; }

 private:
  const StanModel& model_;
  Device dev_;
  std::vector<Net> nets_;
  int uniforms_ = 0, normals_ = 0, attempts_ = 1;
  Sampling sampling_;  // new_peer_weight resolved against the model's
};

// The inputs and results of one step for m hosts, on the host side.
struct StepRows {
  int64_t m = 0;
  // In: (m, I) windows | current row (zeros but its clock column) | profile; per row its random
  // stream, its counter offset, its clock (seconds since the day start) and how many classes the
  // peer attribute may take (Encoder::peer_limit: new, popular, the host's cached peers) and the
  // host's peer cache (read, with PackedModel::other_service < 1, pair rates or peer memory, while
  // the step runs; the host must not change it meanwhile).
  std::vector<float> x;
  std::vector<int64_t> stream, offset, peer_limit;
  std::vector<const PeerCache*> peers;
  std::vector<double> clock;
  // Sampling::pace: the divisor of each row's inter-arrival (1: as drawn), and whether the row
  // may not stop (its host is behind its profile's flows inside its hours).
  std::vector<double> pace;
  std::vector<uint8_t> hold;
  // Out: per attribute (model order) and row, the class index or scaled value drawn and whether
  // the attribute applies; the new row's features (m, D); seconds since the previous flow
  // (-1: the host stops).
  std::vector<double> values;
  std::vector<uint8_t> applies;
  std::vector<float> row;
  std::vector<int64_t> dt;
  void resize(int64_t rows, int64_t inputs, int64_t attrs, int64_t columns);
};

class StepEngine {
 public:
  // skip_rows (CPU only): an attribute that applies to some rows only runs its network and draw
  // on those rows (the others get 0, which nothing reads); false runs every row, as on a GPU.
  StepEngine(std::shared_ptr<const PackedModel> packed, uint64_t seed, int64_t max_rows,
             bool skip_rows = true);
  void run(StepRows& r);

 private:
  // Attribute a's network on x (rows, I) into out (rows, width), on the engine's scratch.
  void forward(size_t a, const Tensor& x, Tensor out);
  // Attribute a's network and draw for the rows of x: class indices (int64, u (rows), limit
  // (rows) or undefined) or scaled values (float32, u and z (rows, attempts)).
  // bias (rows, classes) or undefined: added to the logits before the draw.
  Tensor draw(size_t a, const Tensor& x, const Tensor& u, const Tensor& z, const Tensor& limit,
              const Tensor& bias = Tensor());
  // The peer logits' bias (rows: their protocol and port classes): with other_service < 1,
  // log(other_service) on the classes that name a remote of another service than the row's;
  // with pair_spread > 0, the log pair rate (Sampling::pair_spread) of each cached peer of the
  // row's service; with new_peer_weight < 1, its log on class 0 (a new remote) of the rows whose
  // host has a cached peer of their service; 0 elsewhere.
  Tensor peer_bias(const StepRows& r, const std::vector<RowValues>& rows, int64_t classes) const;
  // With pair_draws > 0: the random numbers (U's and Z's columns) of the networks from attribute
  // `from` on that take their pair's (pair_shared in step.cpp), replaced by the row's (host,
  // remote) pair's where the row's coin falls below Sampling::pair_draws. `rows`: the step's rows
  // with their protocol, port, peer and octet classes.
  void pair_draws(const StepRows& r, const std::vector<RowValues>& rows, size_t from, Tensor& U,
                  Tensor& Z) const;
  // The peer counts columns (m, Encoder::counts_width()) of the rows (Encoder::peer_counts), whose
  // protocol and port classes are drawn.
  Tensor peer_counts(const StepRows& r, const std::vector<RowValues>& rows) const;
  // Sampling::pace: the rows' scaled inter-arrivals, each divided by its row's StepRows::pace.
  Tensor paced(const StepRows& r, const Tensor& scaled) const;
  // Sampling::pace: the stop class's logit bias, -inf on rows held (StepRows::hold); undefined
  // where none is.
  Tensor held(const StepRows& r, int64_t classes) const;
  // The peer memory columns (m, Encoder::memory_width()) of the rows (Encoder::peer_memory) and
  // their peer ToS columns (m, ToS classes; Encoder::peer_tos), once `rows` hold their protocol,
  // port and peer classes.
  Tensor peer_memory(const StepRows& r, const std::vector<RowValues>& rows) const;
  Tensor peer_tos(const StepRows& r, const std::vector<RowValues>& rows) const;
  std::shared_ptr<const PackedModel> p_;
  uint64_t seed_;
  int64_t max_rows_;
  bool skip_rows_;
  Tensor x_, xc_, h_, a_, b_, out_;  // (max_rows, ...) scratch on the device
  std::vector<int64_t> sel_;         // the rows an attribute applies to (CPU)
};

}  // namespace stan
