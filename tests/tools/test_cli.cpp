// The `stan` program on bad input: a clear `error: ...` naming the file, line and field, a
// non-zero exit code, and no output file left behind.
#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "stan/io/nfcapd.h"

namespace fs = std::filesystem;
using namespace stan::testing::cli;

namespace {

const char* kGood =
    "2016-04-11 "
    "00:01:38,7.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4,240,background\n";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The subcommands `stan --help` lists.
std::vector<std::string> stan_commands() {
  const Run r = run("--help");
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::vector<std::string> out;
  bool listing = false;
  for (const std::string& line : lines_of(r.output)) {
    if (line == "Subcommands:" || line == "SUBCOMMANDS:") {
      listing = true;
    } else if (listing) {
      if (line.rfind("  ", 0) != 0) break;
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return out;
}

std::string help_of(const std::string& command) {
  const Run r = run(command + " --help");
  INFO(r.output);
  REQUIRE(r.code == 0);
  return r.output;
}

// The example lines of a command's --help: the lines that start with "  stan ", without the
// indent.
std::vector<std::string> help_examples(const std::string& help) {
  std::vector<std::string> out;
  for (const std::string& line : lines_of(help))
    if (line.rfind("  stan ", 0) == 0) out.push_back(line.substr(2));
  return out;
}

// The files an example line names as its outputs: the values of --out, --to (unless a
// udp:// address), --report and --json, and the target of `>`.
std::vector<std::string> named_outputs(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    const std::string& v = words[i + 1];
    if (w != "--out" && w != "--to" && w != "--report" && w != "--json" && w != ">") continue;
    if (v.empty() || v[0] == '-' || v == "&&" || v.rfind("udp://", 0) == 0) continue;
    out.push_back(v);
  }
  return out;
}

// Whether an example line needs nfdump's programs (a collector, an .nfcapd file, nfdump).
bool needs_nfdump(const std::string& line) {
  return line.find("udp://") != std::string::npos || line.find(".nfcapd") != std::string::npos ||
         line.find("nfdump ") != std::string::npos;
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

  r = run("generate --pair-spread 5 --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("--pair-spread") && Catch::Contains("not in range"));
  REQUIRE_FALSE(fs::exists(d + "/out.csv"));

  r = run("generate --pair-draws 1.5 --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("--pair-draws") && Catch::Contains("not in range"));
  REQUIRE_FALSE(fs::exists(d + "/out.csv"));

  r = run("generate --new-peer-weight -0.5 --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("--new-peer-weight") && Catch::Contains("not in range"));
  REQUIRE_FALSE(fs::exists(d + "/out.csv"));

  r = run("generate --pace -1 --out " + d + "/out.csv --quiet");
  REQUIRE(r.code != 0);
  REQUIRE_THAT(r.output, Catch::Contains("--pace") && Catch::Contains("not in range"));
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

// Every command's --help examples run as printed on the bundled sample and leave the files they
// name. Each command's examples run in order (a later one may read an earlier one's output) with
// bash, in a fresh folder holding `stan/assets` (the source tree's) and with this build's `stan`
// first on PATH, as from the source tree the footers speak of. Three changes to what is printed,
// all made here and nowhere else, to keep the test to seconds: every `stan train` line gets
// `--max-batches 1` (its two full epochs on the sample take about a minute on 2 cores); a
// `stan generate` line's `--duration 24h` becomes `--duration 2h` (a day of the sample's 41
// hosts takes half a minute on 2 cores; eval then compares 2 synthetic hours with the real day,
// which it does as well); and `udp://127.0.0.1:9995` becomes the address of a private nfcapd
// (the help says to start a collector there first; a test cannot own a fixed port).
TEST_CASE("cli: every command's --help examples run as printed", "[cli]") {
  const bool have_nfdump = !stan::find_program("nfcapd").empty();
  const std::vector<std::string> commands = stan_commands();
  REQUIRE(commands.size() >= 6);  // train, generate, info, eval, baseline, export
  const fs::path base = temp_dir();
  for (const std::string& command : commands) {
    const std::vector<std::string> examples = help_examples(help_of(command));
    INFO("stan " << command << " --help");
    CHECK_FALSE(examples.empty());
    const fs::path dir = base / command;
    fs::create_directories(dir / "bin");
    fs::create_directories(dir / "stan");
    fs::create_symlink(STAN_BINARY, dir / "bin" / "stan");
    fs::create_symlink(STAN_ASSETS_DIR, dir / "stan" / "assets");
    std::unique_ptr<stan::NfcapdProcess> collector;
    for (const std::string& example : examples) {
      std::string line = example;
      if (needs_nfdump(line) && !have_nfdump) {
        REQUIRE(std::getenv("STAN_SKIP_NFDUMP_TESTS") != nullptr);
        WARN("SKIPPED: nfdump not installed (STAN_SKIP_NFDUMP_TESTS is set): " << line);
        continue;
      }
      if (line.rfind("stan train ", 0) == 0 && line.find("--max-batches") == std::string::npos)
        line.insert(10, " --max-batches 1");
      if (const size_t at = line.find(" --duration 24h");
          line.rfind("stan generate ", 0) == 0 && at != std::string::npos)
        line.replace(at, 15, " --duration 2h");
      for (size_t at; (at = line.find("udp://127.0.0.1:9995")) != std::string::npos;) {
        if (!collector)
          collector = std::make_unique<stan::NfcapdProcess>((dir / "collector").string());
        line.replace(at, 20, collector->url());
      }
      write((dir / "example.sh").string(), line + "\n");
      const Run r =
          stan::testing::run_command("cd '" + dir.string() + "' && PATH='" +
                                     (dir / "bin").string() + "':\"$PATH\" bash example.sh");
      INFO("example: " << example << "\nran: " << line << "\n" << r.output);
      CHECK(r.code == 0);
      for (const std::string& out : named_outputs(line)) {
        INFO("output: " << out);
        CHECK(fs::exists(dir / out));
        CHECK((fs::exists(dir / out) && fs::file_size(dir / out) > 0));
      }
    }
  }
  fs::remove_all(base);
}

// One vocabulary across commands: option descriptions start with a capital letter, host lists
// are described in one wording, --max-rows says how it counts on every command that has it.
TEST_CASE("cli: every command's help describes its options the same way", "[cli]") {
  for (const std::string& command : stan_commands()) {
    const std::vector<std::string> lines = lines_of(help_of(command));
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (line.rfind("  -", 0) != 0) continue;  // an option's line
      INFO("stan " << command << " --help: " << line);
      // CLI11 puts the description at column 30, or on the next line (indented to column 30)
      // when the option's name and type reach that far.
      const std::string next = i + 1 < lines.size() ? lines[i + 1] : "";
      const bool below = next.size() > 30 && next.find_first_not_of(' ') == 30;
      const std::string desc = below ? next.substr(30) : line.size() > 30 ? line.substr(30) : "";
      REQUIRE_FALSE(desc.empty());
      CHECK(std::isupper(static_cast<unsigned char>(desc[0])));
      if (desc.find("a,b,c") != std::string::npos)
        CHECK_THAT(desc, Catch::Contains("a,b,c, @file or a file name (one address per line, or "
                                         "a CSV with the address first, e.g. a hosts.csv)"));
      if (line.rfind("  --max-rows ", 0) == 0)
        CHECK_THAT(desc, Catch::StartsWith("Refuse input with more flow records than this, "
                                           "counted "));
    }
  }
  // eval's old spelling of --seed stays accepted (a misspelling is not) but out of the help.
  const std::string eval = help_of("eval");
  CHECK_THAT(eval, Catch::Contains("  --seed ") && Catch::Contains("  --threads ") &&
                       !Catch::Contains("--tstr-seed"));
  const std::string d = temp_dir();
  write(d + "/flows.csv", std::string(kHeader) + kGood);
  const std::string eval_args = "eval --real " + d + "/flows.csv --synthetic " + d +
                                "/flows.csv --owner-hosts 60.150.71.237 --no-tstr ";
  const Run old_spelling = run(eval_args + "--tstr-seed 3");
  INFO(old_spelling.output);
  CHECK_THAT(old_spelling.output, !Catch::Contains("--tstr-seed"));
  const Run misspelt = run(eval_args + "--tstr-sead 3");
  INFO(misspelt.output);
  CHECK(misspelt.code != 0);
  CHECK_THAT(misspelt.output, Catch::Contains("--tstr-sead"));
  fs::remove_all(d);
}

TEST_CASE("cli: train averages the weights by default, not with the faithful encoding", "[cli]") {
  const std::string dir = temp_dir();
  struct Case {
    const char* flags;
    const char* ema;  // as `stan info --json` prints the config's field; "" = absent
  };
  for (const Case c : {Case{"", "0.999"}, Case{"--encoding faithful", ""},
                       Case{"--ema 0.99", "0.99"}, Case{"--ema 0", ""}}) {
    const std::string info = train_sample(dir + "/m.safetensors", c.flags, true);
    INFO("flags: " << c.flags);
    if (*c.ema)
      CHECK_THAT(info, Catch::Contains(std::string("\"ema\": ") + c.ema));
    else
      CHECK_THAT(info, !Catch::Contains("\"ema\""));
  }
  check_refused(dir, "--ema 1", "--ema");
  fs::remove_all(dir);
}

TEST_CASE(
    "cli: train --shape-temperature, --port-temperature, --temperature, --octet-temperature and "
    "--new-peer-weight record generate's defaults, which info shows",
    "[cli]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const auto file = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // 40 hosts, 24 hours (enough returns to a peer of the flow's service for a new remote's weight
  // to show on a model of two batches), as `flags` say; the flows written.
  const auto generate = [&](const std::string& flags) {
    const Run g = run("generate --model " + model + " --hosts 40 --duration 24h --seed 4 --quiet " +
                      flags + " --out " + dir + "/g.csv");
    INFO(flags << "\n" << g.output);
    REQUIRE(g.code == 0);
    return file(dir + "/g.csv");
  };
  struct Case {
    const char* flag;      // the flag of both commands
    const char* field;     // the model file's field
    const char* shown;     // what info says of it at 0.6
    const char* recorded;  // the default `stan train` records (nullptr: none, the model's 1)
    const char* refused;   // a value out of range
  };
  for (const Case c :
       {Case{"--shape-temperature", "shape_temperature", "generated at shape temperature 0.6",
             "0.7", "0"},
        Case{"--port-temperature", "port_temperature", "generated at port temperature 0.6", "0.9",
             "0"},
        Case{"--temperature", "temperature", "generated at temperature 0.6", "1.1", "0"},
        Case{"--octet-temperature", "octet_temperature", "generated at octet temperature 0.6",
             nullptr, "0"},
        Case{"--new-peer-weight", "new_peer_weight", "generated with a new remote at weight 0.6",
             "0.5", "1.5"}}) {
    const std::string flag = c.flag, field = std::string("\"") + c.field + "\"";
    INFO(flag);
    const std::string info = train_sample(model, flag + " 0.6", false);
    CHECK_THAT(info, Catch::Contains(c.shown));
    CHECK_THAT(run("info --json --model " + model).output, Catch::Contains(field + ": 0.6"));
    const std::string own = generate("");
    CHECK(generate(flag + " 0.6") == own);
    CHECK(generate(flag + " 1") != own);
    // Without the flag: the default, and with the faithful encoding or at 1 nothing recorded,
    // the model sampled as trained.
    if (c.recorded)
      CHECK_THAT(train_sample(model, "", true), Catch::Contains(field + ": " + c.recorded));
    else
      CHECK_THAT(train_sample(model, "", true), !Catch::Contains(field));
    for (const std::string& flags : {std::string("--encoding faithful"), flag + " 1"}) {
      INFO(flags);
      CHECK_THAT(train_sample(model, flags, true), !Catch::Contains(field));
    }
    CHECK(generate("") == generate(flag + " 1"));
    check_refused(dir, flag + " " + c.refused, flag);
  }
  // A new remote's weight needs a peer cache: without one nothing is recorded, and a weight
  // below 1 is refused.
  CHECK_THAT(train_sample(model, "--peer-cache 0", true), !Catch::Contains("\"new_peer_weight\""));
  check_refused(dir, "--peer-cache 0 --new-peer-weight 0.5", "needs a peer cache");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --peer-match names the peer view the model file records", "[cli]") {
  const std::string dir = temp_dir();
  struct Case {
    const char* flags;
    const char* match;  // as `stan info --json` prints the encoding option
  };
  for (const Case c : {Case{"", "two_services"}, Case{"--peer-match service", "service"},
                       Case{"--peer-match any", "any"}}) {
    const std::string info = train_sample(dir + "/m.safetensors", c.flags, true);
    INFO("flags: " << c.flags);
    CHECK_THAT(info, Catch::Contains(std::string("\"peer_match\": \"") + c.match + "\""));
  }
  check_refused(dir, "--peer-match two", "--peer-match");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --peer-lookup names a lookup of popular remotes only where there are some",
          "[cli]") {
  const std::string dir = temp_dir();
  struct Case {
    const char* flags;
    const char* lookup;  // as `stan info --json` prints the encoding option
  };
  for (const Case c : {Case{"", "popular_own"}, Case{"--peer-lookup popular", "popular_first"},
                       Case{"--popular-peers 0", "cache_first"},
                       Case{"--popular-peers 0 --peer-lookup cache", "cache_first"}}) {
    const std::string info = train_sample(dir + "/m.safetensors", c.flags, true);
    INFO("flags: " << c.flags);
    CHECK_THAT(info, Catch::Contains(std::string("\"peer_lookup\": \"") + c.lookup + "\""));
  }
  check_refused(dir, "--popular-peers 0 --peer-lookup popular-own",
                "--peer-lookup popular-own needs popular remotes");
  fs::remove_all(dir);
}

TEST_CASE(
    "cli: train --port-features, --octet-features, --peer-counts, --peer-repeats, --peer-tos and "
    "--peer-last widen the model's input, --peer-octets fills columns it has",
    "[cli]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  auto columns = [&](const std::string& flags) {
    const std::string info = train_sample(model, flags, false);
    const size_t at = info.find("grid: ");
    REQUIRE(at != std::string::npos);
    return std::stoi(info.substr(at + 6));
  };
  const int base = columns("");
  CHECK(columns("--port-features 8 --octet-features 4") == base + 2 * 8 + 4);
  const Run i = run("info --json --model " + model);
  CHECK_THAT(i.output, Catch::Contains("\"port_features\": 8"));
  CHECK_THAT(i.output, Catch::Contains("\"octet_features\": 4"));
  check_refused(dir, "--port-features 257", "--port-features");
  // Two groups of six buckets (cached peers, popular remotes of the flow's service).
  CHECK(columns("--peer-counts") == base + 12);
  CHECK_THAT(run("info --model " + model).output, Catch::Contains("with counts"));
  CHECK(columns("--no-peer-counts") == base);
  check_refused(dir, "--peer-counts --no-peer-counts", "excludes");
  check_refused(dir, "--peer-counts --peer-match any", "--peer-counts");
  // The repeat class's two columns, and its network.
  CHECK(columns("--peer-repeats") == base + 2);
  CHECK_THAT(run("info --model " + model).output, Catch::Contains("repeat: 3 classes"));
  check_refused(dir, "--peer-repeats --peer-match any", "--peer-repeats");
  // One column per ToS class.
  const int tos_columns = columns("--peer-tos") - base;
  const std::string info = run("info --model " + model).output;
  CHECK_THAT(info, Catch::Contains("with the peer's last ToS"));
  CHECK_THAT(info, Catch::Contains("tos: " + std::to_string(tos_columns) + " classes"));
  CHECK(tos_columns >= 2);
  check_refused(dir, "--peer-tos --no-flags-tos", "--peer-tos");
  check_refused(dir, "--peer-tos --peer-cache 0", "--peer-tos");
  // The last flow's packets, bytes, duration kind, duration and six flag bits.
  CHECK(columns("--peer-last") == base + 10);
  CHECK_THAT(run("info --model " + model).output,
             Catch::Contains("memory of first and last flows"));
  check_refused(dir, "--peer-last --no-peer-memory", "--peer-last needs the peer memory");
  train_sample(model, "--popular-min-hosts 7", false);
  CHECK_THAT(run("info --json --model " + model).output,
             Catch::Contains("\"popular_min_hosts\": 7"));
  check_refused(dir, "--popular-min-hosts 0", "--popular-min-hosts");
  CHECK(columns("--peer-octets") == base);
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"peer_octets\": true"));
  check_refused(dir, "--peer-octets --peer-cache 0 --popular-peers 0", "--peer-octets");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --peer-anchor gives the packets and bytes networks an anchor component",
          "[cli][anchor]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const std::string info = train_sample(model, "--peer-anchor", false);
  CHECK_THAT(info, Catch::Contains("with the anchor component"));
  // The default K (10) plus the anchor, on the two networks; the others keep K.
  for (const char* a : {"pkt", "bytes"})
    CHECK_THAT(info, Catch::Contains(std::string(a) + ": mixture (K=10 + the anchor)"));
  for (const char* a : {"dt", "td"})
    CHECK_THAT(info, Catch::Contains(std::string(a) + ": mixture (K=10)"));
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"peer_anchor\": true"));
  check_generates(model, dir);
  CHECK_THAT(train_sample(model, "", false), !Catch::Contains("anchor"));
  check_refused(dir, "--peer-anchor --no-peer-memory", "--peer-anchor needs the peer memory");
  check_refused(dir, "--peer-anchor --peer-cache 0", "--peer-anchor");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --diurnal-warp stores the hours' rates, which info shows and generate uses",
          "[cli][diurnal]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const std::string info = train_sample(model, "--diurnal-warp", false);
  CHECK_THAT(info, Catch::Contains("diurnal warp, each hour's rate"));
  const std::string json = run("info --json --model " + model).output;
  CHECK_THAT(json, Catch::Contains("\"diurnal_warp\": true"));
  CHECK_THAT(json, Catch::Contains("\"diurnal_rates\""));
  CHECK_THAT(info, !Catch::Contains("hour rates"));  // its clock has them already
  check_generates(model, dir);
  CHECK_THAT(train_sample(model, "--no-diurnal-warp", false), !Catch::Contains("diurnal warp"));
  check_refused(dir, "--diurnal-warp --no-diurnal-warp", "excludes");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --calibrate-hours rewrites the hour rates and records what it measured",
          "[cli][diurnal]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const auto j = nlohmann::json::parse(train_sample(model, "--calibrate-hours 40", true));
  const auto& cal = j.at("info").at("hour_calibration");
  CHECK(cal.at("hosts") == 40);
  CHECK(cal.at("seeds") == nlohmann::json({1, 2, 3}));
  CHECK(cal.at("flows").get<int64_t>() > 0);
  const auto before = cal.at("rates_before").get<std::vector<double>>();
  const auto after = j.at("encoding").at("hour_rates").get<std::vector<double>>();
  REQUIRE(before.size() == 24);
  REQUIRE(after.size() == 24);
  CHECK(before != after);
  double mean = 0;
  for (double r : after) mean += r / 24;
  CHECK(mean == Approx(1.0));
  check_generates(model, dir);
  check_refused(dir, "--calibrate-hours 5 --diurnal-warp", "--calibrate-hours");
  check_refused(dir, "--calibrate-hours -1", "--calibrate-hours");
  fs::remove_all(dir);
}

TEST_CASE(
    "cli: a model on the wall clock stores its hour rates, which generate steps hosts on "
    "unless --no-hour-rates",
    "[cli][diurnal]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  CHECK_THAT(train_sample(model, "", false), Catch::Contains("hour rates, generation's clock"));
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"hour_rates\""));
  auto generated = [&](const std::string& flags) {
    const std::string out = dir + "/g.csv";
    const Run g = run("generate --model " + model + " --hosts 4 --duration 6h --seed 2 --quiet " +
                      flags + " --out " + out);
    INFO(g.output);
    CHECK(g.code == 0);
    CHECK((g.output.find("hour rates") != std::string::npos) == flags.empty());
    std::ifstream in(out);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string on = generated(""), off = generated("--no-hour-rates");
  CHECK(on.size() > 1000);
  CHECK(off.size() > 1000);
  CHECK(on != off);
  CHECK(generated("") == on);
  CHECK_THAT(run("generate --help").output, Catch::Contains("--no-hour-rates"));
  fs::remove_all(dir);
}

TEST_CASE(
    "cli: train --peer-shares and --peer-uses give the peer network its peers' shares and "
    "uses, which generate uses",
    "[cli][peers]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const std::string info = train_sample(model, "--peer-shares", false);
  CHECK_THAT(info, Catch::Contains("(with the first peers' shares of uses)"));
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"peer_shares\": true"));
  check_generates(model, dir);
  CHECK_THAT(train_sample(model, "--no-peer-shares", false), !Catch::Contains("shares of uses"));
  check_refused(dir, "--peer-shares --peer-cache 0", "--peer-shares");
  check_refused(dir, "--peer-shares --no-peer-shares", "excludes");
  const std::string uses = train_sample(model, "--peer-shares --peer-uses", false);
  CHECK_THAT(uses, Catch::Contains("(with their uses, to the peer network)"));
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"peer_uses\": true"));
  check_generates(model, dir);
  check_refused(dir, "--peer-uses --peer-cache 0", "--peer-uses");
  check_refused(dir, "--peer-uses --arch cnn", "mlp architecture");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --popular-rank flows ranks the popular remotes by their flows",
          "[cli][peers]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  const std::string info = train_sample(model, "--popular-rank flows", false);
  CHECK_THAT(info, Catch::Contains(" (by flows) "));
  CHECK_THAT(info, Catch::Contains("--popular-rank flows"));  // the command as run
  CHECK_THAT(run("info --json --model " + model).output,
             Catch::Contains("\"popular_rank\": \"flows\""));
  check_generates(model, dir);
  CHECK_THAT(train_sample(model, "--popular-rank hosts", false), !Catch::Contains("(by flows)"));
  check_refused(dir, "--popular-rank bytes", "--popular-rank");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --lr-softmax and --lr-mixture set the learning rates the model records",
          "[cli]") {
  const std::string dir = temp_dir();
  const std::string defaults = train_sample(dir + "/m.safetensors", "", true);
  CHECK_THAT(defaults, Catch::Contains("\"lr_softmax\": 0.01"));
  CHECK_THAT(defaults, Catch::Contains("\"lr_mixture\": 0.001"));
  const std::string set =
      train_sample(dir + "/m.safetensors", "--lr-softmax 0.003 --lr-mixture 0.0005", true);
  CHECK_THAT(set, Catch::Contains("\"lr_softmax\": 0.003"));
  CHECK_THAT(set, Catch::Contains("\"lr_mixture\": 0.0005"));
  check_refused(dir, "--lr-softmax 0", "--lr-softmax");
  fs::remove_all(dir);
}

TEST_CASE("cli: train --conversations keeps heavy pairs, which info shows and busy hosts copy",
          "[cli][conversations]") {
  const std::string dir = temp_dir(), model = dir + "/m.safetensors";
  // Every host busy enough (0 flows a day) and every one drawing one, so that 3 hosts copy.
  const std::string info = train_sample(
      model, "--conversations 20 --conversation-busy 0 --conversation-chance 1", false);
  CHECK_THAT(info, Catch::Contains("host-day pairs of 20 flows or more") &&
                       Catch::Contains("a host expecting 0 flows a day or more gets one at 1"));
  CHECK_THAT(run("info --json --model " + model).output, Catch::Contains("\"conversations\""));
  auto generate = [&](const std::string& flags) {
    const Run g = run("generate --model " + model + " --hosts 3 --duration 2h --seed 2 --out " +
                      dir + "/g.csv " + flags);
    INFO(g.output);
    CHECK(g.code == 0);
    return g.output;
  };
  CHECK_THAT(generate(""), Catch::Contains("3 hosts copied a heavy conversation"));
  CHECK_THAT(generate("--no-conversations"), !Catch::Contains("heavy conversation"));
  CHECK_THAT(train_sample(model, "--conversations 0", false), !Catch::Contains("conversations:"));
  check_refused(dir, "--conversations -1", "--conversations");
  check_refused(dir, "--conversations 20 --conversation-chance 2", "--conversation-chance");
  check_refused(dir, "--conversations 20 --conversation-templates 0", "--conversation-templates");
  fs::remove_all(dir);
}
