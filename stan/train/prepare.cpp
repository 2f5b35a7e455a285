#include "stan/train/prepare.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "stan/io/cli_parse.h"

namespace stan {

Prepared prepare_training(const PrepareOptions& opt) {
  STAN_CHECK(!opt.data.empty(), "no training data given");
  FlowTable table;
  nlohmann::json data_info = nlohmann::json::array();
  std::vector<std::string> notes;
  for (const std::string& path : opt.data) {
    ReadStats st;
    FlowTable t = read_flows(path, opt.read, &st);
    if (std::string note = read_summary(path, st); !note.empty()) notes.push_back(note);
    // Re-intern labels into the combined table.
    for (FlowRecord r : t.rows) {
      r.label = table.label_index(t.labels[r.label]);
      table.rows.push_back(r);
    }
    // The file name and its hash identify the data; the folder is the training machine's own.
    data_info.push_back({{"path", std::filesystem::path(path).filename().string()},
                         {"crc64", file_crc64(path)},
                         {"rows", st.rows},
                         {"bad_rows_skipped", st.bad_rows},
                         {"ipv6_rows_skipped", st.ipv6_rows},
                         {"format", st.format}});
  }
  std::vector<HostStream> all = build_host_streams(table, opt.owners), train, val;
  STAN_CHECK(!all.empty(), "no flow of the training data belongs to an owner host (owners: ",
             describe_owners(opt.owners), ")",
             opt.owners.ipv6_only() ? ": IPv6 owners select IPv6 flows, which the model does not "
                                      "cover (they are skipped)"
                                    : "; pass --owners with the internal network's prefix");
  split_hosts(all, opt.val_fraction, opt.seed, &train, &val);
  Encoder enc(opt.encoding);
  enc.fit(table, train);
  ProfileModel profiles;
  if (opt.encoding.profiles) {
    std::vector<std::vector<double>> raw;
    for (const HostStream& s : train) raw.push_back(ProfileModel::raw(s, table, enc.day_start()));
    Generator g(opt.seed, streams::kProfileFit);
    profiles = ProfileModel::fit(raw, opt.encoding.profile_components, g);
  }
  Prepared p{StanModel(opt.config, enc, profiles, opt.seed), {}, {}, 0, 0, 0, {}};
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
  info["owners"] = owners;
  if (!opt.owners.hosts.empty()) info["owner_hosts"] = opt.owners.hosts.size();
  info["seed"] = opt.seed;
  info["train_hosts"] = p.train_hosts;
  info["val_hosts"] = p.val_hosts;
  info["val_fraction"] = opt.val_fraction;
  nlohmann::json held = nlohmann::json::array(), trained = nlohmann::json::array();
  for (const HostStream& s : val) held.push_back(format_ipv4(s.host));
  for (const HostStream& s : train) trained.push_back(format_ipv4(s.host));
  info["val_host_ips"] = held;  // whole hosts held back: evaluate generation against these
  info["train_host_ips"] = trained;
  info["train_windows"] = p.train.examples();
  info["val_windows"] = p.val.examples();
  info["created"] = format_time(static_cast<int64_t>(std::time(nullptr))) + " UTC";
  return p;
}

}  // namespace stan
