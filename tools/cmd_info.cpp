// stan info: what a model is, how it was trained, how well it fits, which hosts it never saw.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/model/model.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct InfoArgs {
  std::string model, hosts, only_in;
  bool json = false;
};

// The model's held-back ("held-back") or training ("trained") hosts, optionally only those in a
// host list, sorted by address.
std::vector<uint32_t> model_hosts(const nlohmann::json& info, const std::string& which,
                                  const std::string& only_in) {
  const char* key = which == "held-back" ? "val_host_ips" : "train_host_ips";
  STAN_CHECK(info.contains(key), "this model does not record its ", which,
             " hosts (trained before stan recorded them)");
  STAN_CHECK(info[key].is_array(), "model info: '", key, "' is not a list of host addresses");
  std::vector<uint32_t> out;
  for (const auto& h : info[key]) {
    uint32_t ip = 0;
    STAN_CHECK(h.is_string() && parse_ipv4(h.get<std::string>(), &ip),
               "model info: bad host address ", h.dump());
    out.push_back(ip);
  }
  std::sort(out.begin(), out.end());
  if (!only_in.empty()) {
    const std::vector<uint32_t> keep = parse_host_list(only_in);  // sorted
    std::erase_if(out,
                  [&](uint32_t ip) { return !std::binary_search(keep.begin(), keep.end(), ip); });
  }
  return out;
}

void run_info(const InfoArgs& a) {
  const std::string path = a.model.empty() ? bundled_model_path() : a.model;
  StanModel m = StanModel::load(path);
  const auto& info = m.info();
  if (!a.hosts.empty()) {
    for (uint32_t ip : model_hosts(info, a.hosts, a.only_in))
      std::printf("%s\n", format_ipv4(ip).c_str());
    return;
  }
  STAN_CHECK(a.only_in.empty(), "--only-in goes with --list-hosts");
  if (a.json) {
    nlohmann::json j{{"config", m.config().to_json()},
                     {"encoding", m.encoder().to_json()},
                     {"profiles", m.profiles().to_json()},
                     {"info", info},
                     {"parameters", m.parameter_count()}};
    if (!m.sweeps().empty()) j["sweeps"] = m.sweeps().to_json();
    if (!m.conversations().empty()) j["conversations"] = m.conversations().to_json();
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("model: %s\n%s%s", path.c_str(), m.summary().c_str(), m.encoder().describe().c_str());
  if (m.profiles().enabled()) {
    std::printf("profiles: %d fields, mixture of %d Gaussians:", m.profiles().dim(),
                m.profiles().gmm().k);
    for (const auto& n : m.profiles().field_names()) std::printf(" %s", n.c_str());
    std::printf("\n");
  }
  // The training record is free-form JSON: print what has the expected shape, skip the rest.
  auto text = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto integer = [](const nlohmann::json& o, const char* key) -> long long {
    auto it = o.find(key);
    return it != o.end() && it->is_number_integer() ? it->get<long long>() : 0;
  };
  auto number = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : NAN;
  };
  if (info.contains("command")) std::printf("trained with: %s\n", text(info, "command").c_str());
  if (info.contains("data") && info["data"].is_array())
    for (const auto& d : info["data"])
      if (d.is_object())
        std::printf("  data: %s (%lld rows, crc64 %s)\n", text(d, "path").c_str(),
                    integer(d, "rows"), text(d, "crc64").c_str());
  if (info.contains("owners") && info["owners"].is_array()) {
    std::string owners;
    for (const auto& o : info["owners"])
      if (o.is_string()) owners += (owners.empty() ? "" : ", ") + o.get<std::string>();
    std::printf("  owner prefixes (where generated hosts get addresses): %s\n", owners.c_str());
  }
  if (info.contains("train_hosts"))
    std::printf(
        "  hosts: %lld training, %lld held back for validation%s; epochs: %lld\n",
        integer(info, "train_hosts"), integer(info, "val_hosts"),
        info.contains("val_host_ips") ? " (stan info --list-hosts held-back lists them)" : "",
        integer(info, "epochs_done"));
  if (info.contains("losses") && info["losses"].is_object()) {
    // The losses of the epoch the file holds (the best one with a validation split).
    std::printf("loss per attribute (the epoch kept):\n  %-8s %10s %10s\n", "attr", "train", "val");
    for (auto it = info["losses"].begin(); it != info["losses"].end(); ++it) {
      if (!it.value().is_object()) continue;
      std::printf("  %-8s %10.4f %10.4f\n", it.key().c_str(), number(it.value(), "train"),
                  number(it.value(), "val"));
    }
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto a = std::make_shared<InfoArgs>();
  CLI::App* c = app.add_subcommand("info",
                                   "Describe a model: architecture, parameters, scalers, "
                                   "training data and command, validation losses, held-back hosts");
  c->add_option("--model", a->model, "Model file (default: the bundled UGR'16 model)");
  c->add_flag("--json", a->json, "Print the model's metadata as JSON");
  c->add_option("--list-hosts", a->hosts,
                "Print the model's held-back (never trained on) or trained hosts, one per line "
                "(for generate --host-ips and eval --owner-hosts)")
      ->check(CLI::IsMember({"held-back", "trained"}));
  c->add_option("--only-in", a->only_in,
                "With --list-hosts: only the hosts also in this list: " + kHostListForms);
  c->footer(
      "Evaluating the bundled model honestly, on real hosts it never saw (from the source tree):\n"
      "  stan info --list-hosts held-back --only-in stan/assets/sample/hosts.csv > held_back.txt\n"
      "  stan info --list-hosts trained --only-in stan/assets/sample/hosts.csv > trained.txt\n"
      "  stan generate --host-ips @held_back.txt --duration 24h --start 2016-04-11T00:00:00Z "
      "--out held_back_synthetic.csv\n"
      "  stan eval --real stan/assets/sample/flows.csv.xz --owner-hosts held_back.txt "
      "--synthetic held_back_synthetic.csv --floor stan/assets/sample/flows.csv.xz "
      "--floor-owner-hosts trained.txt --report report.html");
  c->callback([a]() { run_info(*a); });
}

}  // namespace stan::cli
