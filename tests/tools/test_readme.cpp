// Every command the README shows runs as printed on the bundled sample, in README order: each
// line of an indented block that starts with `build/bin/stan` or `TZ=UTC nfdump` (with its
// continuation lines) runs with bash in a fresh folder that holds `build/bin/stan` (this build)
// and `stan/assets` (the source tree's), as a fresh clone after `bash tools/setup.sh` would.
// Two things differ: the collector the README starts by hand (`nfcapd ... -p 9995 &`) is a
// private nfcapd on a free port, so `udp://127.0.0.1:9995` is replaced by its address; and
// setup/test/demo scripts and `cmake --install` are not run here (test_cli_toolchain.cpp
// covers the install).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "stan/io/nfcapd.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> readme_commands() {
  std::ifstream in(std::string(STAN_TEST_DATA_DIR) + "/../README.md");
  REQUIRE(in);
  std::vector<std::string> cmds;
  std::string line;
  bool open = false;
  while (std::getline(in, line)) {
    if (open) {
      std::string part = line;
      part.erase(0, part.find_first_not_of(' '));
      cmds.back() += " " + part;
    } else if (line.rfind("    build/bin/stan ", 0) == 0 ||
               line.rfind("    TZ=UTC nfdump ", 0) == 0) {
      cmds.push_back(line.substr(4));
    } else {
      continue;
    }
    open = !cmds.back().empty() && cmds.back().back() == '\\';
    if (open) cmds.back().pop_back();
  }
  return cmds;
}

int run(const std::string& dir, const std::string& cmd, std::string* out) {
  const std::string full = "cd '" + dir + "' && bash -c '" + cmd + "' 2>&1";
  FILE* p = popen(full.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  size_t n = 0;
  out->clear();
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("readme: every command runs as printed on the bundled sample", "[readme]") {
  if (stan::find_program("nfcapd").empty() && std::getenv("STAN_SKIP_NFDUMP_TESTS")) {
    WARN("SKIPPED: nfdump not installed (STAN_SKIP_NFDUMP_TESTS is set)");
    return;
  }
  const std::vector<std::string> cmds = readme_commands();
  REQUIRE(cmds.size() >= 18);  // the README's commands, not a parsing accident
  const fs::path dir = fs::temp_directory_path() / ("stan_readme_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "build" / "bin");
  fs::create_directories(dir / "stan");
  fs::create_symlink(STAN_BINARY, dir / "build" / "bin" / "stan");
  fs::create_symlink(STAN_ASSETS_DIR, dir / "stan" / "assets");
  stan::NfcapdProcess nfcapd((dir / "collector").string());
  for (std::string cmd : cmds) {
    REQUIRE(cmd.find('\'') == std::string::npos);  // the command goes inside bash -c '...'
    for (size_t at; (at = cmd.find("udp://127.0.0.1:9995")) != std::string::npos;)
      cmd.replace(at, 20, nfcapd.url());
    std::string out;
    const int code = run(dir.string(), cmd, &out);
    INFO("README command: " << cmd << "\n" << out);
    CHECK(code == 0);
  }
  // The collector received the flows the README sent it.
  nfcapd.stop();
  CHECK_THAT(nfcapd.log(), Catch::Contains("Sequence Errors: 0"));
  CHECK_FALSE(fs::exists(dir / "flows.txt"));
  CHECK(fs::file_size(dir / "held_back_report.html") > 10000);
  fs::remove_all(dir);
}
