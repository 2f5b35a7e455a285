// bench_flow_io: single-thread throughput of the flow reader (plain, gzip, xz) and writer.
//   bench_flow_io [PATH] [--reps N] [--write-rows N]
// PATH (default: the bundled sample) is decompressed into a temporary folder, and .gz (level 6)
// / .xz (preset 1) copies are made from it (an input that already is .gz / .xz is used as is). Each
// variant is read --reps times; the best time counts (warm page cache). MB/s is of the CSV text
// (decompressed bytes); "file MB/s" of the bytes on disk.
#include <lzma.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "tensor/atomic_file.h"

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

void print_machine(const std::string& input) {
  utsname u{};
  uname(&u);
  std::printf("machine: %s; %u hardware threads (bench uses 1); %s %s\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), u.sysname, u.release);
  std::printf("build:   g++ %s, %s; zlib %s; liblzma %s\n", __VERSION__,
#ifdef NDEBUG
              "NDEBUG (release)",
#else
              "assertions on (not a release build)",
#endif
              zlibVersion(), lzma_version_string());
  std::string load = "?";
  std::ifstream("/proc/loadavg") >> load;
  std::printf("load:    %s (1-min load average at start; other work on the cores slows timings)\n",
              load.c_str());
  std::printf("input:   %s\n", input.c_str());
}

// Copies the (decompressed) bytes of `src` to `dst` with compression `c`.
void convert(const std::string& src, const std::string& dst, stan::Compression c, int level) {
  stan::ByteSource in(src);
  stan::ByteSink out(dst, c, level);
  std::vector<char> buf(size_t{1} << 20);
  while (size_t n = in.read(buf.data(), buf.size())) out.write(buf.data(), n);
  out.commit();
}

struct Result {
  int64_t rows = 0;
  double best = 1e300;
};

Result time_read(const std::string& path, int reps) {
  Result res;
  for (int i = 0; i < reps; ++i) {
    stan::FlowTable table;
    int64_t checksum = 0;
    auto t0 = std::chrono::steady_clock::now();
    stan::ReadStats st = stan::for_each_flow(
        path, table, [&](const stan::FlowRecord& r) { checksum += r.byt + r.te; });
    double dt = seconds_since(t0);
    res.best = std::min(res.best, dt);
    res.rows = st.rows;
    if (checksum == 42) std::printf(" ");  // keeps the sum alive
  }
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_flow_io: flow reader/writer throughput, one thread"};
  std::string input = std::string(STAN_ASSETS_DIR) + "/sample/flows.csv.xz";
  int reps = 3;
  int64_t write_rows = 300000;
  app.add_option("path", input, "flow file (plain, .gz or .xz; default: the bundled sample)");
  app.add_option("--reps", reps, "timed reads per variant (best counts)")
      ->check(CLI::PositiveNumber);
  app.add_option("--write-rows", write_rows, "rows for the writer benchmark (0: skip it)");
  CLI11_PARSE(app, argc, argv);

  fs::path tmp = fs::temp_directory_path() / ("bench_flow_io." + std::to_string(::getpid()));
  try {
    print_machine(input);
    fs::create_directories(tmp);
    const stan::Compression in_c = stan::ByteSource(input).compression();
    const std::string plain = (tmp / "flows.csv").string();
    auto t0 = std::chrono::steady_clock::now();
    convert(input, plain, stan::Compression::none, -1);
    std::printf("prepare: plain copy %.1fs", seconds_since(t0));
    std::string gz = in_c == stan::Compression::gzip ? input : (tmp / "flows.csv.gz").string();
    std::string xz = in_c == stan::Compression::xz ? input : (tmp / "flows.csv.xz").string();
    if (gz != input) {
      t0 = std::chrono::steady_clock::now();
      convert(plain, gz, stan::Compression::gzip, 6);
      std::printf(", gzip -6 %.1fs", seconds_since(t0));
    }
    if (xz != input) {
      t0 = std::chrono::steady_clock::now();
      convert(plain, xz, stan::Compression::xz, 1);     // -6 takes minutes on 139 MB; decoding
      std::printf(", xz -1 %.1fs", seconds_since(t0));  // speed barely depends on the preset
    }
    std::printf("\n\n");

    const double text_mb = static_cast<double>(fs::file_size(plain)) / 1e6;
    std::printf("read (for_each_flow, best of %d)\n", reps);
    std::printf("%-6s %10s %10s %10s %8s %12s %10s %11s\n", "format", "file MB", "text MB", "rows",
                "best s", "rows/s", "MB/s", "file MB/s");
    for (auto [name, path] :
         {std::pair<const char*, std::string>{"plain", plain}, {"gzip", gz}, {"xz", xz}}) {
      const double file_mb = static_cast<double>(fs::file_size(path)) / 1e6;
      Result r = time_read(path, reps);
      std::printf("%-6s %10.1f %10.1f %10lld %8.3f %12.0f %10.1f %11.1f\n", name, file_mb, text_mb,
                  static_cast<long long>(r.rows), r.best, static_cast<double>(r.rows) / r.best,
                  text_mb / r.best, file_mb / r.best);
    }

    if (write_rows > 0) {
      stan::ReadOptions opt;
      opt.max_rows = write_rows;
      stan::FlowTable table = stan::read_flows(plain, opt);
      std::printf("\nwrite (write_flows of %zu rows, incl. fsync + rename)\n", table.rows.size());
      std::printf("%-6s %10s %10s %8s %12s %10s\n", "format", "file MB", "text MB", "s", "rows/s",
                  "MB/s");
      double out_text_mb = 0;
      for (auto [label, name] : {std::pair<const char*, const char*>{"plain", "out.csv"},
                                 {"gzip", "out.csv.gz"},
                                 {"xz", "out.csv.xz"}}) {
        const std::string path = (tmp / name).string();
        t0 = std::chrono::steady_clock::now();
        stan::write_flows(path, table);
        const double dt = seconds_since(t0);
        const double file_mb = static_cast<double>(fs::file_size(path)) / 1e6;
        if (out_text_mb == 0) out_text_mb = file_mb;
        std::printf("%-6s %10.1f %10.1f %8.3f %12.0f %10.1f\n", label, file_mb, out_text_mb, dt,
                    static_cast<double>(table.rows.size()) / dt, out_text_mb / dt);
      }
      std::printf("(writer defaults: gzip level 6, xz preset 1)\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return 1;
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}
