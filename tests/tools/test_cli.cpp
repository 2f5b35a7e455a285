// The `stan` program on bad input: a clear `error: ...` naming the file, line and field, a
// non-zero exit code, and no output file left behind.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_command.h"

namespace fs = std::filesystem;

namespace {

using Run = stan::testing::CommandRun;

Run run(const std::string& args) {
  return stan::testing::run_command(std::string(STAN_BINARY) + " " + args);
}

std::string temp_dir() {
  fs::path p = fs::temp_directory_path() / ("stan_cli_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

const char* kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";
const char* kGood =
    "2016-04-11 "
    "00:01:38,7.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4,240,background\n";

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("cli: bad training data names file, line and column and writes nothing", "[cli]") {
  const std::string d = temp_dir();
  struct Case {
    std::string name, body, expect;
  };
  const Case cases[] = {
      {"bad_ip.csv",
       std::string(kHeader) + kGood +
           "2016-04-11 "
           "00:01:39,1.0,60.150.71,42.219.159.200,1,80,TCP,....S.,0,0,4,240,background\n",
       "bad_ip.csv:3: column 'sa'"},
      {"neg_bytes.csv",
       std::string(kHeader) + kGood +
           "2016-04-11 "
           "00:01:39,1.0,60.150.71.1,42.219.159.200,1,80,TCP,....S.,0,0,4,-240,background\n",
       "neg_bytes.csv:3: column 'byt'"},
      {"missing_col.csv",
       "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt\n2016-04-11 "
       "00:01:38,7.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4\n",
       "byt"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write(d + "/" + c.name, c.body);
    Run r = run("train --data " + d + "/" + c.name + " --out " + d +
                "/m.safetensors --epochs 1 --quiet");
    INFO(r.output);
    REQUIRE(r.code != 0);
    REQUIRE_THAT(r.output, Catch::Contains("error: ") && Catch::Contains(c.expect));
    REQUIRE_FALSE(fs::exists(d + "/m.safetensors"));
  }
  // A truncated compressed file.
  {
    std::ifstream in(std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz", std::ios::binary);
    std::string bytes(200000, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(d + "/cut.csv.xz", std::ios::binary).write(bytes.data(), in.gcount());
    Run r =
        run("train --data " + d + "/cut.csv.xz --out " + d + "/m.safetensors --epochs 1 --quiet");
    INFO(r.output);
    REQUIRE(r.code != 0);
    REQUIRE_THAT(r.output, Catch::Contains("cut.csv.xz") && Catch::Contains("truncated"));
    REQUIRE_FALSE(fs::exists(d + "/m.safetensors"));
  }
  fs::remove_all(d);
}

TEST_CASE("cli: a wrong model file or flag fails cleanly with no output", "[cli]") {
  const std::string d = temp_dir();
  write(d + "/flows.csv", std::string(kHeader) + kGood);
  Run r = run("generate --model " + d + "/flows.csv --out " + d + "/out.csv --quiet");
  INFO(r.output);
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("error: ") && Catch::Contains("flows.csv"));
  REQUIRE_FALSE(fs::exists(d + "/out.csv"));

  r = run("generate --duration 3x --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("invalid duration '3x'"));
  REQUIRE_FALSE(fs::exists(d + "/out.csv"));

  r = run("generate --device cuda:0 --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("no CUDA device"));

  r = run("info --model " + d + "/nothing.safetensors");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("nothing.safetensors"));
  fs::remove_all(d);
}

TEST_CASE("cli: the bundled model generates with the README's flags", "[cli]") {
  const std::string d = temp_dir();
  Run r =
      run("generate --hosts 3 --duration 10m --start \"2016-04-11 09:00:00\" --seed 7 --batch-size "
          "2 --out " +
          d + "/flows.csv --quiet");
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("synthetic flows of 3 hosts"));
  std::ifstream in(d + "/flows.csv");
  std::string header;
  std::getline(in, header);
  REQUIRE(header == "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label");
  r = run("info");
  REQUIRE(r.code == 0);
  REQUIRE_THAT(r.output,
               Catch::Contains("architecture: mlp") && Catch::Contains("trained with: stan train"));
  // The bundled model names its training files, not the folders of the machine it was made on.
  const size_t at = r.output.find("trained with:");
  const std::string recorded = r.output.substr(at, r.output.find("owner prefixes") - at);
  INFO(recorded);
  REQUIRE(recorded.find('/') == std::string::npos);
  fs::remove_all(d);
}
