#include "stan/model/conversations.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "stan/model/json_fields.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr int kFlowFields = kSweepFlowFields - 1;  // a stored flow in JSON, without its second
constexpr int64_t kMaxCount = int64_t{1} << 50;

void check_options(const ConversationOptions& o) {
  STAN_CHECK(o.min_flows >= 0, "conversation flows must not be negative, got ", o.min_flows);
  STAN_CHECK(o.templates >= 1 && o.templates <= kMaxConversationTemplates,
             "conversation templates must lie in 1..", kMaxConversationTemplates, ", got ",
             o.templates);
  STAN_CHECK(std::isfinite(o.busy) && o.busy >= 0,
             "conversation busy flows must be 0 or more, got ", o.busy);
  STAN_CHECK(o.chance >= 0 && o.chance <= 1, "conversation chance must lie in 0..1, got ",
             o.chance);
  STAN_CHECK(o.max_share > 0 && o.max_share <= 1,
             "a conversation's most share must lie in (0, 1], got ", o.max_share);
}

}  // namespace

ConversationModel ConversationModel::fit(const std::vector<HostStream>& streams,
                                         const FlowTable& table, const ConversationOptions& opt,
                                         Generator g) {
  check_options(opt);
  ConversationModel m;
  m.opt_ = opt;
  if (opt.min_flows <= 0) return m;
  for (const HostStream& s : streams)
    for (const auto& [b, e] : day_ranges(s)) {
      std::map<uint32_t, std::vector<size_t>> by_remote;  // address order: deterministic
      for (size_t i = b; i < e; ++i) by_remote[s.flows[i].remote_ip].push_back(i);
      for (const auto& [ip, idx] : by_remote) {
        if (static_cast<int64_t>(idx.size()) < opt.min_flows) continue;
        Conversation c;
        c.octet = static_cast<uint8_t>(ip >> 24);
        c.flows = static_cast<int64_t>(idx.size());
        for (int k = 0; k < opt.templates; ++k) {
          const HostFlow& f = s.flows[idx[static_cast<size_t>(g.randint(c.flows))]];
          SweepFlow t = sweep_flow(f, table.rows[static_cast<size_t>(f.row)]);
          t.second = 0;  // no time: a copy takes its host's flow's
          c.templates.push_back(t);
        }
        m.conversations_.push_back(std::move(c));
      }
    }
  STAN_CHECK(m.conversations_.size() <= static_cast<size_t>(kMaxConversations), "more than ",
             kMaxConversations, " conversations: raise --conversations above ", opt.min_flows);
  return m;
}

ConversationModel::Draw ConversationModel::draw(double flows, Generator g) const {
  Draw d;
  if (conversations_.empty() || std::isnan(flows) || flows < opt_.busy || flows <= 0) return d;
  if (g.uniform() >= opt_.chance) return d;
  d.conversation = g.randint(static_cast<int64_t>(conversations_.size()));
  const Conversation& c = conversations_[static_cast<size_t>(d.conversation)];
  const auto b = static_cast<uint32_t>(g.randint(256)), cc = static_cast<uint32_t>(g.randint(256)),
             last = static_cast<uint32_t>(1 + g.randint(254));
  d.remote = uint32_t{c.octet} << 24 | b << 16 | cc << 8 | last;
  d.share = std::min(opt_.max_share, static_cast<double>(c.flows) / flows);
  return d;
}

void ConversationModel::apply(const Draw& d, int64_t k, uint32_t host, FlowRecord& rec) const {
  STAN_ASSERT(d.conversation >= 0 && d.conversation < static_cast<int64_t>(conversations_.size()),
              "no such conversation: ", d.conversation);
  const Conversation& c = conversations_[static_cast<size_t>(d.conversation)];
  STAN_ASSERT(k >= 0 && k < static_cast<int64_t>(c.templates.size()), "no such template: ", k);
  fill_record(c.templates[static_cast<size_t>(k)], host, d.remote, rec);
}

nlohmann::json ConversationModel::to_json() const {
  if (conversations_.empty()) return nullptr;
  nlohmann::json cs = nlohmann::json::array();
  for (const Conversation& c : conversations_) {
    std::vector<int64_t> v;
    for (const SweepFlow& t : c.templates) append_flow_numbers(t, false, v);
    cs.push_back({{"octet", c.octet}, {"flows", c.flows}, {"templates", v}});
  }
  return {{"min_flows", opt_.min_flows}, {"templates", opt_.templates}, {"busy", opt_.busy},
          {"chance", opt_.chance},       {"max_share", opt_.max_share}, {"conversations", cs}};
}

ConversationModel ConversationModel::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model conversations";
  ConversationModel m;
  if (j.is_null()) return m;
  require_object(j, part);
  m.opt_.min_flows = get_int(j, part, "min_flows", 1, kMaxCount);
  m.opt_.templates = static_cast<int>(get_int(j, part, "templates", 1, kMaxConversationTemplates));
  m.opt_.busy = get_double(j, part, "busy", 0, 1e12);
  m.opt_.chance = get_double(j, part, "chance", 0, 1);
  m.opt_.max_share = get_double(j, part, "max_share", 0, 1);
  STAN_CHECK(m.opt_.max_share > 0, part, ": 'max_share' must be above 0");
  const auto& cs = field(j, part, "conversations");
  STAN_CHECK(cs.is_array() && !cs.empty() && cs.size() <= static_cast<size_t>(kMaxConversations),
             part, ": 'conversations' must be an array of 1 to ", kMaxConversations,
             " conversations");
  for (size_t i = 0; i < cs.size(); ++i) {
    const std::string cp = part + ": conversations[" + std::to_string(i) + "]";
    require_object(cs[i], cp);
    Conversation c;
    c.octet = static_cast<uint8_t>(get_int(cs[i], cp, "octet", 0, 255));
    c.flows = get_int(cs[i], cp, "flows", 1, kMaxCount);
    const std::vector<int64_t> v =
        get_int_array(cs[i], cp, "templates",
                      static_cast<size_t>(kMaxConversationTemplates) * kFlowFields, 0, kMaxCount);
    STAN_CHECK(!v.empty() && v.size() % kFlowFields == 0, cp, ": 'templates' must hold 1 to ",
               kMaxConversationTemplates, " flows of ", kFlowFields, " numbers, got ", v.size(),
               " numbers");
    for (size_t k = 0; k < v.size(); k += kFlowFields)
      c.templates.push_back(
          flow_from_numbers(v, k, false, cp + ": template " + std::to_string(k / kFlowFields)));
    m.conversations_.push_back(std::move(c));
  }
  return m;
}

std::string ConversationModel::summary() const {
  std::ostringstream os;
  if (conversations_.empty()) return "conversations: none";
  int64_t flows = 0;
  for (const Conversation& c : conversations_) flows += c.flows;
  os << "conversations: " << conversations_.size() << " host-day pairs of " << opt_.min_flows
     << " flows or more (" << flows << " flows), " << opt_.templates
     << " flows kept of each; a host expecting " << opt_.busy << " flows a day or more gets one at "
     << opt_.chance << ", at most " << opt_.max_share << " of its flows";
  return os.str();
}

}  // namespace stan
