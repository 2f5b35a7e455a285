// stan info: what a model is, how it was trained, how well it fits.
#include <cmath>
#include <cstdio>
#include <memory>

#include "stan/model/model.h"
#include "tools/commands.h"

namespace stan::cli {

void add_info_command(CLI::App& app) {
  auto model_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* c = app.add_subcommand("info",
                                   "Describe a model: architecture, parameters, scalers, "
                                   "training data and command, validation losses");
  c->add_option("--model", *model_path, "Model file (default: the bundled UGR'16 model)");
  c->add_flag("--json", *json, "Print the model's metadata as JSON");
  c->callback([model_path, json]() {
    const std::string path = model_path->empty() ? bundled_model_path() : *model_path;
    StanModel m = StanModel::load(path);
    if (*json) {
      nlohmann::json j{{"config", m.config().to_json()},
                       {"encoding", m.encoder().to_json()},
                       {"profiles", m.profiles().to_json()},
                       {"info", m.info()},
                       {"parameters", m.parameter_count()}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model: %s\n%s%s", path.c_str(), m.summary().c_str(),
                m.encoder().describe().c_str());
    if (m.profiles().enabled()) {
      std::printf("profiles: %d fields, mixture of %d Gaussians:", m.profiles().dim(),
                  m.profiles().gmm().k);
      for (const auto& n : ProfileModel::names()) std::printf(" %s", n.c_str());
      std::printf("\n");
    }
    const auto& info = m.info();
    if (info.contains("command"))
      std::printf("trained with: %s\n", info["command"].get<std::string>().c_str());
    if (info.contains("data"))
      for (const auto& d : info["data"])
        std::printf("  data: %s (%lld rows, crc64 %s)\n", d.value("path", "").c_str(),
                    static_cast<long long>(d.value("rows", 0)), d.value("crc64", "").c_str());
    if (info.contains("train_hosts"))
      std::printf("  hosts: %lld training, %lld validation; epochs: %lld\n",
                  static_cast<long long>(info.value("train_hosts", 0)),
                  static_cast<long long>(info.value("val_hosts", 0)),
                  static_cast<long long>(info.value("epochs_done", 0)));
    if (info.contains("losses")) {
      std::printf("loss per attribute (last epoch):\n  %-8s %10s %10s\n", "attr", "train", "val");
      for (auto it = info["losses"].begin(); it != info["losses"].end(); ++it) {
        auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; };
        std::printf("  %-8s %10.4f %10.4f\n", it.key().c_str(), num(it.value()["train"]),
                    num(it.value()["val"]));
      }
    }
  });
}

}  // namespace stan::cli
