// End to end: train a small model on the bundled sample, generate, read the output back;
// determinism (seed, batch size), resume, encoding round trips, bad model files.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nn/checkpoint.h"
#include "stan/cli_parse.h"
#include "stan/flow_io.h"
#include "stan/pipeline.h"
#include "stan/sampler.h"
#include "stan/trainer.h"

#include <unistd.h>
#include <cstring>

namespace fs = std::filesystem;
using namespace stan;

namespace {

std::string sample_path() {
  return std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
}

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("stan_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Five real hosts of the sample (busy and quiet ones), a tiny network, a few batches.
PrepareOptions small_options() {
  PrepareOptions p;
  p.data = {sample_path()};
  for (const char* h : {"42.219.155.190", "42.219.147.211", "42.219.146.76", "42.219.20.253",
                        "42.219.156.132", "42.219.151.98"}) {
    uint32_t ip = 0;
    REQUIRE(parse_ipv4(h, &ip));
    p.owners.hosts.push_back(ip);
  }
  p.config.hidden = 16;
  p.config.k = 3;
  p.config.window = 3;
  p.val_fraction = 0.2;
  p.seed = 5;
  return p;
}

TrainOptions small_train(const std::string& out, int epochs) {
  TrainOptions t;
  t.epochs = epochs;
  t.batch = 64;
  t.max_batches = 12;
  t.seed = 5;
  t.out = out;
  t.progress = false;
  return t;
}

std::string generate_to(StanModel& m, const std::string& path, int64_t batch, uint64_t seed) {
  GenerateOptions g;
  g.hosts = 6;
  g.duration = 3 * 3600;
  g.start = m.encoder().day_start() + 8 * 3600;
  g.seed = seed;
  g.batch = batch;
  FlowWriter w(path);
  generate_flows(m, g, [&](const FlowRecord& r) { w.write(r); });
  w.commit();
  return slurp(path);
}

}  // namespace

TEST_CASE("stan e2e: train on the sample, generate, read back", "[stan][e2e]") {
  const std::string dir = temp_dir("e2e");
  Prepared p = prepare_training(small_options());
  REQUIRE(p.train_hosts + p.val_hosts == 6);
  REQUIRE(p.train_hosts >= 1);
  REQUIRE(p.val_hosts >= 1);
  auto reports = train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 2));
  REQUIRE(reports.size() == 2);
  for (double l : reports.back().train_loss) REQUIRE(std::isfinite(l));
  // Training lowered the loss of the discrete heads (they start near log(classes)).
  const auto first = reports.front().train_loss, last = reports.back().train_loss;
  double f = 0, l = 0;
  for (size_t i = 0; i < first.size(); ++i) f += first[i], l += last[i];
  REQUIRE(l < f);

  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE(m.info()["epochs_done"] == 2);
  REQUIRE(m.info()["data"][0]["crc64"].get<std::string>().size() == 16);
  generate_to(m, dir + "/gen.csv", 64, 11);
  ReadStats st;
  FlowTable t = read_flows(dir + "/gen.csv", {}, &st);
  REQUIRE(st.rows > 0);
  const int64_t start = m.encoder().day_start() + 8 * 3600;
  int64_t prev = 0;
  for (const FlowRecord& r : t.rows) {
    REQUIRE(r.te >= start);
    REQUIRE(r.te < start + 3 * 3600);
    REQUIRE(r.te >= prev);  // sorted by time
    prev = r.te;
    REQUIRE(r.pkt >= 1);
    // Rules by construction.
    const int64_t lo = min_bytes_per_packet(r.pr);
    REQUIRE(r.byt >= lo * r.pkt);
    REQUIRE(r.byt <= 65535 * r.pkt);
    if (r.pr == proto::icmp) REQUIRE(r.sp == 0);
    if (m.encoder().one_packet_zero_duration() && r.pkt == 1) REQUIRE(r.td == 0);
    REQUIRE(r.td >= 0);
    // Every flow has exactly one side in the owner prefix (made-up hosts are 42.219/16).
    REQUIRE(((r.sa >> 16) == ((42u << 8) | 219u) || (r.da >> 16) == ((42u << 8) | 219u)));
  }
  fs::remove_all(dir);
}

TEST_CASE("stan e2e: same seed gives the same file, whatever the batch size",
          "[stan][determinism]") {
  const std::string dir = temp_dir("det");
  Prepared p = prepare_training(small_options());
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  const std::string b = generate_to(m, dir + "/b.csv", 64, 3);
  const std::string c = generate_to(m, dir + "/c.csv", 1, 3);
  const std::string d = generate_to(m, dir + "/d.csv", 64, 4);
  REQUIRE(a.size() > 200);  // more than a header
  REQUIRE(a == b);
  REQUIRE(a == c);
  REQUIRE(a != d);
  fs::remove_all(dir);
}

TEST_CASE("stan e2e: resuming an interrupted run equals the uninterrupted run", "[stan][resume]") {
  const std::string dir = temp_dir("resume");
  {
    Prepared p = prepare_training(small_options());
    train_model(p.model, p.train, p.val, small_train(dir + "/full.safetensors", 3));
  }
  {
    Prepared p = prepare_training(small_options());
    train_model(p.model, p.train, p.val,
                small_train(dir + "/part.safetensors", 1));  // "interrupted"
  }
  {
    Prepared p = prepare_training(small_options());
    TrainOptions t = small_train(dir + "/part.safetensors", 3);
    t.resume = true;
    auto reps = train_model(p.model, p.train, p.val, t);
    REQUIRE(reps.size() == 2);
    REQUIRE(reps.front().epoch == 2);
  }
  nn::Checkpoint a = nn::load_checkpoint(dir + "/full.safetensors");
  nn::Checkpoint b = nn::load_checkpoint(dir + "/part.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    REQUIRE(a.tensors[i].first == b.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    REQUIRE(std::memcmp(x.raw_data(), b.tensors[i].second.raw_data(),
                        x.numel() * dtype_size(x.dtype())) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("stan encoding: encode then decode gives the record back", "[stan][encoding]") {
  FlowTable table = read_flows(sample_path(), ReadOptions{false, 20000});
  OwnerSelector owners;
  auto streams = build_host_streams(table, owners);
  Encoder enc;
  enc.fit(table, streams);
  int64_t checked = 0;
  for (const HostStream& s : streams) {
    std::vector<uint32_t> peers;
    double clock = 0;
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = table.rows[f.row];
      RowValues row = enc.encode(r, f, clock, peers);
      Generator g(1);
      FlowRecord back = enc.decode(row, s.host, peers, g);
      back.te = r.te;  // the sampler sets the time from its clock
      INFO(format_ipv4(r.sa) << " -> " << format_ipv4(r.da) << " " << r.sp << " " << r.dp);
      REQUIRE(back.sa == r.sa);
      REQUIRE(back.da == r.da);  // octet order kept, peers restored from the cache
      REQUIRE(back.pr == r.pr);
      REQUIRE(back.flg == (r.flg & 63));
      REQUIRE(back.stos == r.stos);
      REQUIRE(back.pkt == r.pkt);
      if (r.byt >= min_bytes_per_packet(r.pr) * r.pkt) REQUIRE(back.byt == r.byt);
      if (!(enc.one_packet_zero_duration() && r.pkt == 1))
        REQUIRE(back.td == Approx(r.td).margin(1e-3));
      // Ports: exact below 1024, within the 100-port class above; ICMP source port 0.
      const uint16_t lp = f.outgoing ? back.sp : back.dp, rp = f.outgoing ? back.dp : back.sp;
      REQUIRE(port_class(lp) == port_class(f.local_port));
      REQUIRE(port_class(rp) == port_class(f.remote_port));
      if (f.remote_port < 1024) REQUIRE(rp == f.remote_port);
      // dt reconstructs the time.
      REQUIRE(row.time - clock == Approx(std::max(0.0, row.time - clock)));
      clock = row.time;
      enc.update_peers(peers, f.remote_ip);
      ++checked;
    }
  }
  REQUIRE(checked > 10000);
  // The fitted encoding survives a JSON round trip.
  Encoder again = Encoder::from_json(enc.to_json());
  REQUIRE(again.to_json() == enc.to_json());
  REQUIRE(again.columns() == enc.columns());
}

TEST_CASE("stan model: a file that is not a model is a clear error", "[stan][errors]") {
  const std::string dir = temp_dir("badmodel");
  std::ofstream(dir + "/notmodel.safetensors") << "te,td,sa\n1,2,3\n";
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/notmodel.safetensors"),
                      Catch::Contains("notmodel.safetensors"));
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/missing.safetensors"),
                      Catch::Contains("cannot open"));
  // A safetensors file that is not a stan model.
  nn::save_checkpoint(dir + "/other.safetensors", {{"w", zeros({2})}});
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/other.safetensors"), Catch::Contains("config"));
  fs::remove_all(dir);
}

TEST_CASE("stan cli: parse_duration and host lists", "[stan][cli]") {
  REQUIRE(parse_duration("90s") == 90);
  REQUIRE(parse_duration("30m") == 1800);
  REQUIRE(parse_duration("24h") == 86400);
  REQUIRE(parse_duration("2d") == 172800);
  REQUIRE(parse_duration("15") == 15);
  REQUIRE_THROWS_WITH(parse_duration("1w"), Catch::Contains("invalid duration '1w'"));
  REQUIRE_THROWS_WITH(parse_duration("-5m"), Catch::Contains("invalid duration"));
  auto ips = parse_host_list("42.219.0.1,42.219.0.2");
  REQUIRE(ips.size() == 2);
  REQUIRE_THROWS_WITH(parse_host_list("42.219.0.300"),
                      Catch::Contains("invalid host address '42.219.0.300'"));
  auto from_csv = parse_host_list(std::string("@") + STAN_ASSETS_DIR + "/sample/hosts.csv");
  REQUIRE(from_csv.size() == 41);
  REQUIRE_THROWS_WITH(parse_device_checked("gpu"), Catch::Contains("unknown device 'gpu'"));
}

TEST_CASE("stan e2e: training gives the same model for any thread count", "[stan][determinism]") {
  const std::string dir = temp_dir("threads");
  for (int threads : {1, 2}) {
    Prepared p = prepare_training(small_options());
    TrainOptions t = small_train(dir + "/t" + std::to_string(threads) + ".safetensors", 1);
    t.threads = threads;
    train_model(p.model, p.train, p.val, t);
  }
  nn::Checkpoint a = nn::load_checkpoint(dir + "/t1.safetensors");
  nn::Checkpoint b = nn::load_checkpoint(dir + "/t2.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    REQUIRE(std::memcmp(x.raw_data(), b.tensors[i].second.raw_data(),
                        x.numel() * dtype_size(x.dtype())) == 0);
  }
  fs::remove_all(dir);
}
