#include "stan/train/prepare.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "stan/io/cli_parse.h"
#include "stan/io/time_check.h"

namespace stan {

Prepared prepare_training(const PrepareOptions& opt) {
  STAN_CHECK(!opt.data.empty(), "no training data given");
  FlowTable table;
  nlohmann::json data_info = nlohmann::json::array();
  std::vector<std::string> notes;
  for (const std::string& path : opt.data) {
    // Straight into the combined table (labels interned there): no second copy of the rows.
    // The row limit counts all files together.
    ReadOptions ro = opt.read;
    ro.row_limit = -1;
    const int64_t limit = opt.read.row_limit;
    const ReadStats st = for_each_flow(
        path, table,
        [&](const FlowRecord& r) {
          STAN_CHECK(limit < 0 || static_cast<int64_t>(table.rows.size()) < limit, path,
                     ": more than ", limit, " flow records",
                     opt.data.size() > 1 ? " in all files together" : "",
                     ", the row limit (--max-rows raises it)");
          table.rows.push_back(r);
        },
        ro);
    if (std::string note = read_summary(path, st); !note.empty()) notes.push_back(note);
    const char* why = st.ipv6_rows > 0
                          ? " of IPv4 (its IPv6 rows are skipped: the model covers IPv4)"
                      : st.bad_rows > 0 ? " (all rows were malformed and skipped)"
                                        : " (an empty file?)";
    STAN_CHECK(st.rows > 0, path, ": no flow records", why);
    // The file name and its hash identify the data; the folder is the training machine's own.
    data_info.push_back({{"path", std::filesystem::path(path).filename().string()},
                         {"crc64", file_crc64(path)},
                         {"rows", st.rows},
                         {"bad_rows_skipped", st.bad_rows},
                         {"ipv6_rows_skipped", st.ipv6_rows},
                         {"format", st.format}});
  }
  const int64_t outliers_dropped =
      drop_time_outliers(table, opt.read.skip_bad_rows, "", "they would stretch the model's day");
  std::vector<HostStream> all = build_host_streams(table, opt.owners), train, val;
  STAN_CHECK(!all.empty(), "no flow of the training data belongs to an owner host (owners: ",
             describe_owners(opt.owners), ")",
             opt.owners.ipv6_only() ? ": IPv6 owners select IPv6 flows, which the model does not "
                                      "cover (they are skipped)"
                                    : "; pass --owners with the internal network's prefix");
  const uint64_t split_seed =
      opt.split_seed >= 0 ? static_cast<uint64_t>(opt.split_seed) : opt.seed;
  split_hosts(all, opt.val_fraction, split_seed, &train, &val);
  // The hosts as split, before sweeps can leave a host without flows of its own.
  nlohmann::json held = nlohmann::json::array(), trained = nlohmann::json::array();
  for (const HostStream& s : val) held.push_back(format_ipv4(s.host));
  for (const HostStream& s : train) trained.push_back(format_ipv4(s.host));
  const SweepModel sweeps = SweepModel::fit(train, table, opt.owners, opt.sweeps,
                                            Generator(opt.seed, streams::kSweepFit));
  const int64_t swept_train = sweeps.remove_from(train, table, opt.owners),
                swept_val = sweeps.remove_from(val, table, opt.owners);
  STAN_CHECK(!train.empty(), "every training host's flows are sweeps (--sweep-reach ",
             opt.sweeps.min_reach, "): nothing is left for the networks to learn");
  Encoder enc(opt.encoding);
  enc.fit(table, train);
  ProfileModel profiles;
  if (opt.encoding.profiles) {
    const std::vector<HostService> services =
        ProfileModel::fit_services(train, table, opt.encoding.profile_services);
    std::vector<std::vector<double>> raw;
    for (const HostStream& s : train)
      raw.push_back(ProfileModel::raw(s, table, enc.day_start(), services));
    Generator g(opt.seed, streams::kProfileFit);
    profiles = ProfileModel::fit(raw, opt.encoding.profile_components, g, services);
  }
  Prepared p{StanModel(opt.config, enc, profiles, opt.seed), {}, {}, 0, 0, 0, {}};
  p.model.set_sweeps(sweeps);
  p.model.set_conversations(ConversationModel::fit(train, table, opt.conversations,
                                                   Generator(opt.seed, streams::kConversationFit)));
  p.train = build_training_data(table, train, enc, profiles, opt.config.window, opt.seed);
  p.val = build_training_data(table, val, enc, profiles, opt.config.window, opt.seed + 1);
  p.flows = static_cast<int64_t>(table.rows.size());
  p.train_hosts = static_cast<int64_t>(train.size());
  p.val_hosts = static_cast<int64_t>(val.size());
  p.read_notes = std::move(notes);
  // The IPv4 prefixes generation makes host addresses in, each once: the given prefixes, or for a
  // host list the /16s of its hosts.
  std::vector<std::string> prefixes;
  if (opt.owners.hosts.empty()) {
    if (opt.owners.prefixes.empty()) prefixes.push_back(format_prefix(kDefaultOwnerPrefix));
    for (const Ipv4Prefix& pr : opt.owners.prefixes) prefixes.push_back(format_prefix(pr));
  } else {
    for (uint32_t h : opt.owners.hosts)
      prefixes.push_back(format_prefix(Ipv4Prefix{h & 0xffff0000u, 16}));
  }
  nlohmann::json owners = nlohmann::json::array();
  for (size_t i = 0; i < prefixes.size(); ++i)
    if (std::find(prefixes.begin(), prefixes.begin() + i, prefixes[i]) == prefixes.begin() + i)
      owners.push_back(prefixes[i]);
  auto& info = p.model.info();
  info["command"] = opt.command;
  info["data"] = data_info;
  if (outliers_dropped > 0) info["time_outliers_dropped"] = outliers_dropped;
  info["owners"] = owners;
  if (!opt.owners.hosts.empty()) info["owner_hosts"] = opt.owners.hosts.size();
  info["seed"] = opt.seed;
  if (opt.split_seed >= 0) info["split_seed"] = opt.split_seed;
  info["train_hosts"] = p.train_hosts;
  info["val_hosts"] = p.val_hosts;
  info["val_fraction"] = opt.val_fraction;
  if (!sweeps.empty())
    info["sweep_flows"] = {
        {"train", swept_train}, {"val", swept_val}, {"sweeps", sweeps.sweeps().size()}};
  info["val_host_ips"] = held;  // whole hosts held back: evaluate generation against these
  info["train_host_ips"] = trained;
  info["train_windows"] = p.train.examples();
  info["val_windows"] = p.val.examples();
  info["created"] = format_time(static_cast<int64_t>(std::time(nullptr))) + " UTC";
  return p;
}

}  // namespace stan
