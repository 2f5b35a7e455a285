// The generated hosts: each one's address, random stream, window of previous rows, profile,
// recent peers and clock, and how a step's results advance it.
#pragma once

#include <cstdint>
#include <vector>

#include "stan/generate/step.h"
#include "stan/io/hosts.h"
#include "stan/model/conversations.h"

namespace stan {

struct GenerateOptions;

struct HostState {
  uint32_t ip = 0;
  uint64_t stream = 0;  // the host's random stream (seed, stream)
  uint64_t offset = 0;  // counters used so far
  // W rows x D (oldest first), then the service memory (Encoder::memory_dim), then the P
  // profile values.
  std::vector<float> input;
  std::vector<uint32_t> slots;  // flows per service memory slot (empty without the memory)
  PeerCache peers;
  // The host's last flow (or the start): `clock` on the generation clock (`warp`: the diurnal
  // warp's or the hour rates', Encoder::generation_clock; Unix seconds on the wall clock), `wall`
  // in Unix seconds as written.
  const DiurnalWarp* warp = nullptr;
  int64_t clock = 0;
  int64_t wall = 0;
  int64_t flows = 0;
  bool done = false;
  // Sampling::pace: its strength, the profile's flows and its hours [from, to) of the day
  // (seconds of the model's day, which starts at Unix second pace_day0, and so each day after),
  // counted from the run's start; pace_flows < 0: not paced.
  double pace = 0, pace_flows = -1;
  int64_t pace_from = 0, pace_to = 86400, pace_day0 = 0, start = 0;
  // The host's heavy conversation (stan/model/conversations.h; none unless the model has them and
  // the run keeps them), the stream its per-flow coins come from, and its flows so far.
  ConversationModel::Draw conversation;
  uint64_t conversation_stream = 0;
  int64_t conversation_flows = 0;
  // The divisor of the host's next inter-arrival (1: not paced).
  double pace_factor() const;
  // Whether the host may not stop yet: paced, inside its profile's hours and behind its flows.
  bool pace_holds() const;
};

// The hosts of a run: addresses (given, or made up inside the owner prefixes), streams and
// profiles (drawn from the model's mixture, or given), all from the seed.
std::vector<HostState> make_hosts(const StanModel& model, const GenerateOptions& opt);

// Writes host h's inputs into row i of a step.
void fill_step_row(const StanModel& model, const HostState& h, StepRows& r, int64_t i);

// Advances host h by row i of a finished step: the host stops (a stop draw, the end of the run
// at Unix second `end`, or its flow cap) or gains a flow. Returns true with *out set when it
// gained one. A flow after a positive inter-arrival is at least a second after the host's last.
bool advance_host(const StanModel& model, const PackedModel& packed, uint64_t seed, int64_t end,
                  int64_t max_flows, const StepRows& r, int64_t i, HostState& h, FlowRecord* out);

}  // namespace stan
