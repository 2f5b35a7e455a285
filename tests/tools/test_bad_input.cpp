// The `stan` program against a table of bad inputs: flow files (CSV and compressed), model files
// (crafted metadata, non-finite weights, hostile shapes) and flags. Every case must end with the
// expected exit code and a message naming the problem, and must leave the folder exactly as it
// was: no output file, no temporary file, no input overwritten.
#include <catch2/catch.hpp>

#include <lzma.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "compress_text.h"
#include "run_command.h"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

using stan::testing::gzip;
using stan::testing::xz;

using Run = stan::testing::CommandRun;

Run run(const std::string& args) {
  return stan::testing::run_command(std::string(STAN_BINARY) + " " + args);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every entry under `dir` (recursively) with its content: what "nothing changed" compares.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> s;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    s[rel] = e.is_regular_file() ? read_file(e.path().string()) : std::string("<dir>");
  }
  return s;
}

std::string xz_huge_dictionary(const std::string& text) {
  std::string f = xz(text);
  const size_t h = 12;  // after the stream header: the block header
  const size_t size = (static_cast<uint8_t>(f[h]) + 1) * 4;
  const size_t filter = f.find(std::string("\x21\x01", 2), h);
  REQUIRE(filter != std::string::npos);
  REQUIRE(filter + 2 < h + size - 4);
  f[filter + 2] = 40;
  const uint32_t crc = lzma_crc32(reinterpret_cast<const uint8_t*>(f.data() + h), size - 4, 0);
  for (int i = 0; i < 4; ++i) f[h + size - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return f;
}

// A safetensors file as (header JSON, data block), and back.
struct Safetensors {
  ordered_json header;
  std::string data;
  explicit Safetensors(const std::string& bytes) {
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
      n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    header = ordered_json::parse(bytes.substr(8, n));
    data = bytes.substr(8 + n);
  }
  std::string bytes() const {
    std::string h = header.dump();
    while ((8 + h.size()) % 8) h += ' ';
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
    return out + h + data;
  }
  // Edits one metadata document (config, encoding, profiles, info) in place.
  Safetensors& meta(const std::string& key, const std::function<void(ordered_json&)>& edit) {
    ordered_json m = ordered_json::parse(header["__metadata__"][key].get<std::string>());
    edit(m);
    header["__metadata__"][key] = m.dump();
    return *this;
  }
  // Overwrites the first float of a tensor.
  Safetensors& poke_float(const std::string& tensor, float value) {
    const uint64_t off = header[tensor]["data_offsets"][0].get<uint64_t>();
    std::memcpy(data.data() + off, &value, sizeof value);
    return *this;
  }
};

const char* kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";
std::string row(const std::string& te, const std::string& sa = "60.150.71.237",
                const std::string& byt = "240", const std::string& sp = "32864") {
  return te + ",7.0," + sa + ",42.219.159.200," + sp + ",80,TCP,....S.,0,0,4," + byt +
         ",background\n";
}

struct Case {
  std::string what;     // the bad input
  std::string args;     // the command; {d} stands for the folder of inputs
  int code;             // expected exit status
  std::string message;  // expected fragment of the output
};

}  // namespace

TEST_CASE("bad input: every case fails cleanly, names the problem, leaves no file", "[cli]") {
  const fs::path dir = fs::temp_directory_path() / ("stan_bad_input_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "folder");
  fs::create_directories(dir / "folder.csv");  // a folder with an output file's name
  const std::string d = dir.string();
  auto put = [&](const std::string& name, const std::string& bytes) {
    write_file(d + "/" + name, bytes);
  };

  // ---- inputs ---------------------------------------------------------------------------
  // Real flows: the first rows of the bundled sample (owner hosts included).
  std::string good = kHeader;
  {
    std::istringstream sample(
        read_file(std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/ugr16_header.csv"));
    std::string line;
    std::getline(sample, line);
    while (std::getline(sample, line)) good += line + "\n";
  }
  put("good.csv", good);
  put("empty.csv", "");
  put("header_only.csv", kHeader);
  put("bad_ip.csv",
      std::string(kHeader) + row("2016-04-11 00:01:38") + row("2016-04-11 00:01:39", "60.150.71"));
  put("neg_bytes.csv", std::string(kHeader) + row("2016-04-11 00:01:38", "1.2.3.4", "-240"));
  put("bad_port.csv", std::string(kHeader) + row("2016-04-11 00:01:38", "1.2.3.4", "1", "70000"));
  put("missing_col.csv", "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt\n");
  put("dup_col.csv", "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,byt\n");
  put("short_row.csv", std::string(kHeader) + row("2016-04-11 00:01:38") +
                           "2016-04-11 00:01:39,7.0,1.2.3.4,42.219.159.200,1,80,TCP\n");
  put("bad_proto.csv",
      std::string(kHeader) +
          "2016-04-11 00:01:38,7.0,1.2.3.4,42.219.159.200,1,80,FOO,....S.,0,0,4,240,x\n");
  put("bad_td.csv",
      std::string(kHeader) +
          "2016-04-11 00:01:38,nan,1.2.3.4,42.219.159.200,1,80,TCP,....S.,0,0,4,240,x\n");
  put("huge_pkt.csv", std::string(kHeader) +
                          "2016-04-11 00:01:38,7.0,1.2.3.4,42.219.159.200,1,80,TCP,....S.,0,0,"
                          "99999999999999999999,240,x\n");
  put("year1.csv", std::string(kHeader) + row("0001-01-01 00:00:00"));
  put("year9999.csv", std::string(kHeader) + row("9999-12-31 23:59:59"));
  put("outlier.csv", good + row("1971-06-01 00:00:00", "42.219.159.200"));
  put("binary.csv", std::string("\x7f"
                                "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0",
                                20));
  put("many.csv", good + good.substr(std::strlen(kHeader)));
  put("cut.csv.xz", xz(good).substr(0, 40));
  put("cut.csv.gz", gzip(good).substr(0, 40));
  {
    std::string gz = gzip(good);
    for (size_t i = 20; i < 40 && i < gz.size(); ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
    put("corrupt.csv.gz", gz);
  }
  put("garbage.csv.gz", gzip("hello,world\n1,2\n"));
  put("bomb.csv.xz", xz_huge_dictionary(good));
  {
    // 200,000 valid rows in a small .gz: bounded by the row limit, not by memory.
    std::string big = kHeader;
    const std::string body = good.substr(std::strlen(kHeader));
    while (big.size() < (size_t{16} << 20)) big += body;
    put("big.csv.gz", gzip(big));
  }
  put("profiles_bad.csv", "log_flows,tcp_share\n2.0,abc\n");
  // nfdump -o csv with IPv6 addresses (read by export), one row dated 9999.
  put("v6_year9999.csv",
      "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt\n"
      "2016-04-11 00:01:31,2016-04-11 00:01:38,7.000,2001:db8::1,2001:db8::2,1,80,TCP,....S.,0,0,"
      "4,240,0,0\n"
      "9999-12-31 23:59:50,9999-12-31 23:59:59,9.000,2001:db8::1,2001:db8::2,1,80,TCP,....S.,0,0,"
      "4,240,0,0\n");
  put("v6_only.csv",
      "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt\n"
      "2016-04-11 00:01:31,2016-04-11 00:01:38,7.000,2001:db8::1,2001:db8::2,1,80,TCP,....S.,0,0,"
      "4,240,0,0\n");
  // Data with its host list next to it (the owners by default).
  fs::create_directories(dir / "with_hosts");
  put("with_hosts/flows.csv", good);
  put("with_hosts/hosts.csv", "42.219.159.200\n");

  // Models: the bundled one, and copies with one thing broken each.
  const std::string bundled =
      read_file(std::string(STAN_ASSETS_DIR) + "/model/stan-ugr16.safetensors");
  put("model.safetensors", bundled);
  auto model = [&](const std::string& name, const std::function<void(Safetensors&)>& edit) {
    Safetensors st(bundled);
    edit(st);
    put(name, st.bytes());
  };
  put("truncated.safetensors", bundled.substr(0, 4096));
  model("gmm_k0.safetensors", [](Safetensors& s) {
    s.meta("profiles", [](ordered_json& p) {
      p["gmm"]["k"] = 0;
      p["gmm"]["weights"] = ordered_json::array();
      p["gmm"]["means"] = ordered_json::array();
      p["gmm"]["variances"] = ordered_json::array();
    });
  });
  model("gmm_weights.safetensors", [](Safetensors& s) {
    s.meta("profiles", [](ordered_json& p) { p["gmm"]["weights"][0] = 5.0; });
  });
  model("gmm_variance.safetensors", [](Safetensors& s) {
    s.meta("profiles", [](ordered_json& p) { p["gmm"]["variances"][3] = -1.0; });
  });
  model("std_zero.safetensors",
        [](Safetensors& s) { s.meta("profiles", [](ordered_json& p) { p["std"][2] = 0.0; }); });
  model("nan_weight.safetensors",
        [](Safetensors& s) { s.poke_float("net.rport.head.weight", std::nanf("")); });
  model("inf_weight.safetensors", [](Safetensors& s) {
    s.poke_float("net.dt.hidden.bias", std::numeric_limits<float>::infinity());
  });
  model("window_max.safetensors", [](Safetensors& s) {
    s.meta("config", [](ordered_json& c) { c["window"] = 2147483647; });
  });
  model("k_float.safetensors",
        [](Safetensors& s) { s.meta("config", [](ordered_json& c) { c["k"] = 1e300; }); });
  model("arch.safetensors",
        [](Safetensors& s) { s.meta("config", [](ordered_json& c) { c["arch"] = "rnn"; }); });
  model("hidden_big.safetensors",
        [](Safetensors& s) { s.meta("config", [](ordered_json& c) { c["hidden"] = 8192; }); });
  model("peer_cache.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["options"]["peer_cache"] = 2147483647; });
  });
  model("scaler_order.safetensors",
        [](Safetensors& s) { s.meta("encoding", [](ordered_json& e) { e["dt"]["lo"] = 20.0; }); });
  model("scaler_huge.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["pkt"]["hi"] = 1000.0; });
  });
  model("scaler_null.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["td"]["hi"] = nullptr; });  // how JSON writes inf
  });
  model("protocol_300.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["protocols"][0] = 300; });
  });
  model("flags_count.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["default_flags"].erase(0); });
  });
  model("port_class.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["port_classes"][0]["class"] = 5000; });
  });
  model("day_start.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["day_start"] = -62135596800LL; });
  });
  model("profiles_off.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) {
      e["options"]["profiles"] = false;
      e["options"]["profile_services"] = 0;
    });
  });
  model("services_no_profiles.safetensors", [](Safetensors& s) {
    s.meta("encoding", [](ordered_json& e) { e["options"]["profiles"] = false; });
  });
  model("owners.safetensors", [](Safetensors& s) {
    s.meta("info", [](ordered_json& i) { i["owners"] = {"42.219.0.0/40"}; });
  });
  model("info_losses.safetensors", [](Safetensors& s) {
    s.meta("info", [](ordered_json& i) { i["losses"] = {{"dt", 3}}; });  // printed, never a crash
  });
  model("config_json.safetensors",
        [](Safetensors& s) { s.header["__metadata__"]["config"] = "{\"arch\": \"mlp\","; });
  model("version.safetensors",
        [](Safetensors& s) { s.header["__metadata__"]["format_version"] = "2"; });
  model("shape_overflow.safetensors", [](Safetensors& s) {
    s.header["net.dt.hidden.bias"]["shape"] = {0, 4611686018427387904LL, 4611686018427387904LL};
  });
  model("shape_mismatch.safetensors", [](Safetensors& s) {
    auto& t = s.header["net.proto.head.bias"];
    t["shape"] = {1, t["shape"][0].get<int64_t>()};
  });

  // ---- the table --------------------------------------------------------------------------
  const std::string train = "train --quiet --epochs 1 --out {d}/m.safetensors --data ";
  const std::string gen = "generate --quiet --hosts 2 --duration 10m --out {d}/out.csv ";
  const std::string gen_out = "generate --quiet --hosts 2 --out {d}/out.csv ";  // own --duration
  const std::vector<Case> cases = {
      // CSV
      {"empty file", train + "{d}/empty.csv", 1, "empty.csv: no flow records"},
      {"header only", train + "{d}/header_only.csv", 1, "header_only.csv: no flow records"},
      {"bad address", train + "{d}/bad_ip.csv", 1, "bad_ip.csv:3: column 'sa'"},
      {"negative bytes", train + "{d}/neg_bytes.csv", 1, "neg_bytes.csv:2: column 'byt'"},
      {"port over 65535", train + "{d}/bad_port.csv", 1, "column 'sp': '70000' is not a port"},
      {"missing column", train + "{d}/missing_col.csv", 1, "header has no column 'byt'"},
      {"duplicate column", train + "{d}/dup_col.csv", 1, "duplicate column 'byt'"},
      {"short row", train + "{d}/short_row.csv", 1, "short_row.csv:3: expected 13 columns, got 7"},
      {"unknown protocol", train + "{d}/bad_proto.csv", 1, "unknown protocol 'FOO'"},
      {"duration nan", train + "{d}/bad_td.csv", 1, "column 'td': 'nan' is not a number"},
      {"packets beyond int64", train + "{d}/huge_pkt.csv", 1, "column 'pkt'"},
      {"year 0001", train + "{d}/year1.csv", 1, "'0001-01-01 00:00:00' is outside the supported"},
      {"year 9999", train + "{d}/year9999.csv", 1, "is outside the supported years 1970-2099"},
      {"one record decades away", train + "{d}/outlier.csv", 1,
       "1 of 8 records lie far from the others in time (e.g. 1971-06-01"},
      {"binary file", train + "{d}/binary.csv", 1, "binary.csv:1: column 'te'"},
      {"a folder as data", train + "{d}/folder", 1, "folder': is a folder"},
      {"missing file", train + "{d}/nothing.csv", 1, "cannot open '" + d + "/nothing.csv'"},
      {"row limit", train + "{d}/many.csv --max-rows 12", 1, "more than 12 flow records"},
      {"row limit 0", train + "{d}/good.csv --max-rows 0", 105, "--max-rows"},
      // compressed
      {"truncated xz", train + "{d}/cut.csv.xz", 1, "cut.csv.xz: truncated or corrupt xz"},
      {"truncated gzip", train + "{d}/cut.csv.gz", 1, "cut.csv.gz: truncated or corrupt gzip"},
      {"corrupt gzip", train + "{d}/corrupt.csv.gz", 1,
       "corrupt.csv.gz: truncated or corrupt gzip"},
      {"gzip of garbage", train + "{d}/garbage.csv.gz", 1, "garbage.csv.gz:1: column 'te'"},
      {"xz asking for 4 GiB", train + "{d}/bomb.csv.xz", 1, "needs more than 256 MiB"},
      {"16 MiB of rows in a small gzip", train + "{d}/big.csv.gz --max-rows 100000", 1,
       "more than 100000 flow records"},
      // model files
      {"a folder as model", gen + "--model {d}/folder", 1, "folder: is a folder, not a model"},
      {"a CSV as model", gen + "--model {d}/good.csv", 1, "good.csv: not a safetensors file"},
      {"truncated model", gen + "--model {d}/truncated.safetensors", 1, "truncated"},
      {"mixture k = 0", gen + "--model {d}/gmm_k0.safetensors", 1,
       "gmm_k0.safetensors: bad model metadata: model profiles: mixture: 'k' is 0 (expected "
       "1..1024)"},
      {"mixture weights", gen + "--model {d}/gmm_weights.safetensors", 1, "'weights'[0] is 5.0"},
      {"negative variance", gen + "--model {d}/gmm_variance.safetensors", 1,
       "'variances'[3] is -1.0"},
      {"zero spread", gen + "--model {d}/std_zero.safetensors", 1,
       "model profiles: 'std'[2] is 0.0"},
      {"NaN weight", gen + "--model {d}/nan_weight.safetensors", 1,
       "tensor 'net.rport.head.weight' holds a non-finite value (nan at element 0"},
      {"Inf weight", "info --model {d}/inf_weight.safetensors", 1,
       "tensor 'net.dt.hidden.bias' holds a non-finite value (inf"},
      {"window 2^31-1", gen + "--model {d}/window_max.safetensors", 1,
       "model config: 'window' is 2147483647 (expected 1..64)"},
      {"k = 1e300", "info --model {d}/k_float.safetensors", 1,
       "'k' is 1e+300 (expected an integer"},
      {"unknown architecture", gen + "--model {d}/arch.safetensors", 1,
       "unknown architecture 'rnn'"},
      {"metadata bigger than the weights", "info --model {d}/hidden_big.safetensors", 1,
       "the metadata describes a model of at least"},
      {"peer cache 2^31-1", gen + "--model {d}/peer_cache.safetensors", 1,
       "'peer_cache' is 2147483647 (expected 0..1024)"},
      {"scaler lo above hi", gen + "--model {d}/scaler_order.safetensors", 1,
       "model encoding: dt: 'lo' 20 is not below 'hi'"},
      {"scaler beyond int64", gen + "--model {d}/scaler_huge.safetensors", 1,
       "model encoding: pkt: 'hi' is 1000.0"},
      {"scaler infinite", gen + "--model {d}/scaler_null.safetensors", 1,
       "model encoding: td: 'hi' is null (expected a number)"},
      {"protocol 300", gen + "--model {d}/protocol_300.safetensors", 1,
       "'protocols'[0] is 300 (expected 0..255)"},
      {"flags per protocol", gen + "--model {d}/flags_count.safetensors", 1,
       "7 protocols but 6 default flags"},
      {"port class 5000", gen + "--model {d}/port_class.safetensors", 1,
       "'class' is 5000 (expected 1024..1669)"},
      {"day in year 1", gen + "--model {d}/day_start.safetensors", 1,
       "'day_start' is -62135596800"},
      {"profiles on and off", gen + "--model {d}/profiles_off.safetensors", 1,
       "the encoding says profiles are off but the model has"},
      {"services without profiles", gen + "--model {d}/services_no_profiles.safetensors", 1,
       "'profile_services' needs 'profiles'"},
      {"owner prefix /40", gen + "--model {d}/owners.safetensors", 1,
       "bad address prefix '42.219.0.0/40'"},
      {"metadata not JSON", "info --model {d}/config_json.safetensors", 1,
       "metadata 'config' is not valid JSON"},
      {"format version 2", gen + "--model {d}/version.safetensors", 1,
       "format version 2 is not supported"},
      {"shape [0, 2^62, 2^62]", gen + "--model {d}/shape_overflow.safetensors", 1,
       "tensor 'net.dt.hidden.bias' of shape [0,4611686018427387904,4611686018427387904] is "
       "larger"},
      {"shape that does not fit the model", gen + "--model {d}/shape_mismatch.safetensors", 1,
       "tensor 'net.proto.head.bias': file has float32[1,7], model expects float32[7]"},
      // flags
      {"duration overflow", gen_out + "--duration 106751991167300d", 1,
       "invalid duration '106751991167300d' (at most"},
      {"duration 0", gen_out + "--duration 0s", 1, "invalid duration '0s'"},
      {"start before 1970", gen + "--start \"1960-01-01 00:00:00\"", 1,
       "invalid --start '1960-01-01 00:00:00' (flow times must lie in the years 1970-2099)"},
      {"end after 2099", gen_out + "--start \"2099-12-31 00:00:00\" --duration 2d", 1,
       "ends after 2099"},
      {"max flows per host 0", gen + "--max-flows-per-host 0", 105, "--max-flows-per-host"},
      {"max flows per host -1", gen + "--max-flows-per-host -1", 105, "--max-flows-per-host"},
      {"hosts 0", gen + "--hosts 0", 105, "--hosts"},
      {"batch size 0", gen + "--batch-size 0", 105, "--batch-size"},
      {"threads -4", train + "{d}/good.csv --threads -4", 105, "--threads"},
      {"max batches -5", train + "{d}/good.csv --max-batches -5", 105, "--max-batches"},
      {"peer cache flag 2^31-1", train + "{d}/good.csv --peer-cache 2147483647", 105,
       "--peer-cache"},
      {"generate over its model",
       "generate --quiet --model {d}/model.safetensors --out {d}/model.safetensors", 1,
       "--out '" + d + "/model.safetensors' is the input given with --model"},
      {"train over its data", "train --quiet --data {d}/good.csv --out {d}/./good.csv", 1,
       "is the input given with --data"},
      {"train state over its data", "train --quiet --data {d}/good.csv.state --out {d}/good.csv", 1,
       "state file '" + d + "/good.csv.state' is the input given with --data"},
      {"baseline over its data", "baseline --real {d}/good.csv --out {d}/good.csv", 1,
       "is the input given with --real"},
      {"eval JSON over its input",
       "eval --no-tstr --real {d}/good.csv --synthetic {d}/many.csv --json {d}/many.csv", 1,
       "--json '" + d + "/many.csv' is the input given with --synthetic"},
      {"baseline over the host list next to its data",
       "baseline --real {d}/with_hosts/flows.csv --out {d}/with_hosts/hosts.csv", 1,
       "is the input given with the host list next to --real"},
      {"an nfcapd file as input",
       "export --in " + std::string(STAN_TEST_DATA_DIR) +
           "/stan/fixtures/nfdump_source.nfcapd --out {d}/out.csv",
       1, "it is an nfcapd file (nfdump's binary format); stan reads flows as CSV: convert it"},
      {"IPv6 owners for generate", gen + "--owners 2001:db8::/64", 1,
       "address prefix '2001:db8::/64' is IPv6: hosts here are IPv4"},
      {"an IPv6 host for generate", gen + "--host-ips 42.219.1.2,2001:db8::1", 1,
       "host address '2001:db8::1' is IPv6: hosts here are IPv4"},
      {"eval report not HTML",
       "eval --no-tstr --real {d}/good.csv --synthetic {d}/many.csv --report {d}/r.pdf", 1,
       "--report '" + d + "/r.pdf': the report is one HTML page; name it .html"},
      {"baseline output of no known form", "baseline --real {d}/good.csv --out {d}/b.txt", 1,
       "cannot write '" + d + "/b.txt': expected .csv, .csv.gz, .csv.xz"},
      {"export over its input", "export --in {d}/good.csv --out {d}/./good.csv", 1,
       "--out '" + d + "/./good.csv' is the input given with --in"},
      {"export row limit", "export --in {d}/many.csv --out {d}/out.csv --max-rows 3", 1,
       "more than 3 flow records, the row limit (--max-rows raises it)"},
      {"export IPv6 row dated 9999", "export --in {d}/v6_year9999.csv --out {d}/out.csv", 1,
       "v6_year9999.csv:3: column 'te': '9999-12-31 23:59:59' is outside the supported years"},
      {"training data with IPv6 rows only", train + "{d}/v6_only.csv", 1,
       "v6_only.csv: no flow records of IPv4 (its IPv6 rows are skipped"},
      {"generate threads -4", gen + "--threads -4", 105, "--threads"},
      {"start with a zone after 2099", gen + "--start 2099-12-31T23:00:00-05:00", 1,
       "invalid --start '2099-12-31T23:00:00-05:00' (flow times must lie in the years "
       "1970-2099)"},
      {"output is a folder", "generate --quiet --out {d}/folder.csv", 1,
       "folder.csv': it is a folder"},
      {"output folder missing", "generate --quiet --out {d}/no/such/out.csv", 1,
       "cannot write '" + d + "/no/such/out.csv'"},
      {"bad profile file", gen + "--profiles {d}/profiles_bad.csv", 1,
       "profiles_bad.csv:2: column 'tcp_share': 'abc' is not a number"},
      {"profiles of unreadable data", "profiles --data {d}/bad_port.csv --out {d}/out.csv", 1,
       "bad_port.csv:"},
  };
  REQUIRE(cases.size() >= 40);
  // The state-file case needs an input under that name.
  put("good.csv.state", "not a state");

  const auto before = snapshot(d);
  int passed = 0;
  for (const Case& c : cases) {
    std::string args = c.args;
    for (size_t at; (at = args.find("{d}")) != std::string::npos;) args.replace(at, 3, d);
    const Run r = run(args);
    INFO("case: " << c.what << "\ncommand: stan " << args << "\noutput:\n" << r.output);
    CHECK(r.code == c.code);
    CHECK_THAT(r.output, Catch::Contains(c.message));
    if (c.code == 1)
      CHECK_THAT(r.output, Catch::StartsWith("error: ") || Catch::Contains("\nerror: "));
    CHECK(snapshot(d) == before);  // no output, no temporary file, no input touched
    passed += r.code == c.code && r.output.find(c.message) != std::string::npos;
  }
  CHECK(passed == static_cast<int>(cases.size()));
  // The valid inputs really are valid: the failures above came from what was broken.
  {
    const Run r = run("info --model " + d + "/info_losses.safetensors");
    INFO(r.output);
    CHECK(r.code == 0);
    const Run g = run("generate --quiet --hosts 2 --duration 10m --model " + d +
                      "/model.safetensors --out " + d + "/ok.csv");
    INFO(g.output);
    CHECK(g.code == 0);
    CHECK(fs::exists(d + "/ok.csv"));
  }
  fs::remove_all(dir);
}

TEST_CASE("bad input: SIGINT or SIGTERM during a run leaves no file", "[cli]") {
  const fs::path dir = fs::temp_directory_path() / ("stan_interrupt_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (int sig : {SIGINT, SIGTERM}) {
    INFO("signal " << sig);
    const std::string out = (dir / "flows.csv").string();
    const pid_t pid = stan::testing::start_long_generate(out);
    // Wait until it has its (temporary) output open in the folder, then interrupt.
    bool open = false;
    for (int i = 0; i < 1200 && !open; ++i) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = fs::read_symlink(e.path(), ec).string();
        if (target.rfind(dir.string(), 0) == 0) open = true;
      }
      if (!open) ::usleep(50 * 1000);
    }
    CHECK(open);
    ::kill(pid, sig);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));  // interrupted, not finished
    CHECK(fs::is_empty(dir));    // no output and no temporary file
  }
  fs::remove_all(dir);
}
