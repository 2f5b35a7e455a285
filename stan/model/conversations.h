// Heavy conversations: a busy host's day is often mostly one conversation (UGR'16: a monitor's
// 6,000 SNMP polls, a mail relay's 4,000 deliveries, a host's web checks of one server), and those
// conversations carry much of what makes the network's flows depend on one another: the remote's
// first octet says which service and which sizes its flows have. The per-flow networks spread a
// busy host's flows over its services and remotes instead (README, "Heavy conversations").
//
// A ConversationModel keeps, for each (host, remote) pair of a training host-day with min_flows
// flows or more, the remote's first octet, the pair's flow count and `templates` of its flows
// drawn at random (no addresses, no times). At generation, a host whose profile expects `busy`
// flows a day or more gets, with probability `chance`, one of them, drawn uniformly, and a new
// remote in its first octet; each of the host's flows then becomes, with probability
// min(max_share, flows of the conversation / flows the profile expects), a copy of one of its
// templates, drawn uniformly, to that remote at the flow's own time. The networks go on from the
// flows they drew (the window and the peer cache do not see the copies), so a host's pace and
// the rest of its day stay theirs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"
#include "stan/model/sweeps.h"
#include "tensor/random.h"

namespace stan {

inline constexpr int kMaxConversationTemplates = 256;
inline constexpr int kMaxConversations = 1000000;  // bounds checked when a model file is read

struct Conversation {
  uint8_t octet = 0;  // the remote's first octet
  int64_t flows = 0;  // the pair's flows that host-day
  // 1..ConversationOptions::templates, relative to the host (SweepFlow::second 0: no time).
  std::vector<SweepFlow> templates;
  bool operator==(const Conversation&) const = default;
};

struct ConversationOptions {
  int64_t min_flows = 0;   // a pair's flows in a host-day to be kept (0: no conversations)
  int templates = 8;       // stored flows per conversation
  double busy = 1000;      // the flows a day a host's profile must expect to get one
  double chance = 0.6;     // the probability that such a host gets one
  double max_share = 0.7;  // the most of a host's flows a conversation takes
};

class ConversationModel {
 public:
  ConversationModel() = default;  // none
  // The conversations of the streams' host-days (their flows as `table` holds them); the
  // templates of each are drawn with replacement from its flows. Deterministic given g.
  static ConversationModel fit(const std::vector<HostStream>& streams, const FlowTable& table,
                               const ConversationOptions& opt, Generator g);
  bool empty() const { return conversations_.empty(); }
  const std::vector<Conversation>& conversations() const { return conversations_; }
  const ConversationOptions& options() const { return opt_; }

  // A generated host's conversation: none (conversation < 0), or the conversation's index, its
  // remote and the share of the host's flows it takes.
  struct Draw {
    int64_t conversation = -1;
    uint32_t remote = 0;
    double share = 0;
  };
  // For a host whose profile expects `flows` flows a day (NaN: no profile, no conversation).
  // g: the host's own stream for it.
  Draw draw(double flows, Generator g) const;
  // Rewrites `rec` (a flow of a host at `host` that drew d) into a copy of template `k` of its
  // conversation; its time stays.
  void apply(const Draw& d, int64_t k, uint32_t host, FlowRecord& rec) const;

  nlohmann::json to_json() const;
  // Checks every field and bound; throws stan::Error naming the field. Null: none.
  static ConversationModel from_json(const nlohmann::json& j);
  std::string summary() const;  // one line: "conversations: N pairs of ..."

 private:
  ConversationOptions opt_;
  std::vector<Conversation> conversations_;
};

}  // namespace stan
