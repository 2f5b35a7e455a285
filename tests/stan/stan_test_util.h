// Helpers shared by the stan tests: the bundled sample, temporary folders, a small model.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "stan/generate/generate.h"
#include "stan/io/flow_io.h"
#include "stan/train/prepare.h"
#include "stan/train/trainer.h"

namespace stan::testing {

// A handful of hand-made flows, their owner hosts and the hosts' streams.
struct FlowNet {
  FlowTable table;
  OwnerSelector owners;
  std::vector<HostStream> streams;
};

// A flow of the given addresses, ports and protocol at te: a TCP SYN of one 44-byte packet, 0.25 s.
inline FlowRecord make_flow(int64_t te, uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp,
                            uint8_t pr) {
  FlowRecord r;
  r.te = te;
  r.td = 0.25;
  r.sa = sa;
  r.da = da;
  r.sp = sp;
  r.dp = dp;
  r.pr = pr;
  r.flg = tcp_flag::syn;
  r.pkt = 1;
  r.byt = 44;
  return r;
}

// A one-packet outgoing flow from host:sp at te: to remote's TCP 443 (web) or UDP 53.
inline FlowRecord web_or_dns(int64_t te, uint32_t host, uint32_t remote, bool web,
                             uint16_t sp = 40000) {
  FlowRecord r;
  r.te = te;
  r.sa = host;
  r.da = remote;
  r.sp = sp;
  r.dp = web ? 443 : 53;
  r.pr = web ? proto::tcp : proto::udp;
  r.pkt = 1;
  r.byt = 80;
  return r;
}

// Appends to `t` a web (TCP 443, web = true) or DNS (UDP 53) flow from `host` to each remote of
// `seq`, one a second after `te` (default 2016-04-11 00:00:00); returns the last flow's time.
inline int64_t add_web_or_dns(FlowTable& t, uint32_t host,
                              const std::vector<std::pair<uint32_t, bool>>& seq,
                              int64_t te = 1460332800) {
  for (auto [remote, web] : seq) t.rows.push_back(web_or_dns(++te, host, remote, web));
  return te;
}

inline std::string sample_path() {
  return std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
}

// A fresh, empty folder under the system's temporary directory.
inline std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path p = fs::temp_directory_path() / ("stan_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Six real hosts of the sample (busy and quiet ones), a tiny network, a few batches.
inline PrepareOptions small_options() {
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

inline TrainOptions small_train(const std::string& out, int epochs) {
  TrainOptions t;
  t.epochs = epochs;
  t.batch = 64;
  t.max_batches = 12;
  t.seed = 5;
  t.out = out;
  t.progress = false;
  return t;
}

// Generates the flows `g` asks for into `path`.
inline void write_generated(StanModel& m, const GenerateOptions& g, const std::string& path) {
  FlowWriter w(path);
  generate_flows(m, g, [&](const FlowRecord& r) { w.write(r); });
  w.commit();
}

// Generates 6 hosts x 3 hours from 08:00 of the model's day into `path`; returns the file.
inline std::string generate_to(StanModel& m, const std::string& path, int64_t batch,
                               uint64_t seed) {
  GenerateOptions g;
  g.hosts = 6;
  g.duration = 3 * 3600;
  g.start = m.encoder().day_start() + 8 * 3600;
  g.seed = seed;
  g.batch = batch;
  write_generated(m, g, path);
  return slurp(path);
}

}  // namespace stan::testing
