// Helpers of the `stan` command-line tests (test_cli*.cpp): run the program, a scratch folder,
// small models trained on the bundled sample. Include after <catch2/catch.hpp>.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_command.h"

namespace stan::testing::cli {

using Run = CommandRun;

inline Run run(const std::string& args) {
  return run_command(std::string(STAN_BINARY) + " " + args);
}

inline std::string temp_dir() {
  std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("stan_cli_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline const char* const kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";

inline void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Trains a 2-batch model on the bundled sample (its hosts.csv) into `model` with `flags`, which
// must succeed, and returns what `stan info` (`--json`) prints about it.
inline std::string train_sample(const std::string& model, const std::string& flags, bool json) {
  const std::string assets = STAN_ASSETS_DIR;
  const Run t =
      run("train --data " + assets + "/sample/flows.csv.xz --owner-hosts @" + assets +
          "/sample/hosts.csv --epochs 1 --max-batches 2 --quiet --out " + model + " " + flags);
  INFO(flags << "\n" << t.output);
  REQUIRE(t.code == 0);
  const Run i = run(std::string("info ") + (json ? "--json " : "") + "--model " + model);
  REQUIRE(i.code == 0);
  return i.output;
}

// `stan train ... flags` on the sample fails, names `option` and writes no model.
inline void check_refused(const std::string& dir, const std::string& flags,
                          const std::string& option) {
  const std::string model = dir + "/refused.safetensors";
  const Run bad = run("train --data " + std::string(STAN_ASSETS_DIR) +
                      "/sample/flows.csv.xz --out " + model + " " + flags);
  INFO(bad.output);
  CHECK(bad.code != 0);
  CHECK_THAT(bad.output, Catch::Contains(option));
  CHECK_FALSE(std::filesystem::exists(model));
}

// `stan generate --model model` writes 3 hosts' flows of 2 hours into dir.
inline void check_generates(const std::string& model, const std::string& dir) {
  const Run g =
      run("generate --model " + model + " --hosts 3 --duration 2h --quiet --out " + dir + "/g.csv");
  INFO(g.output);
  CHECK(g.code == 0);
  CHECK_THAT(g.output, Catch::Contains("synthetic flows of 3 hosts"));
}

}  // namespace stan::testing::cli
