// Child processes of nfdump's tools (fork and exec, no shell) and the nfcapd file writer.
#include "stan/io/nfcapd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

extern char** environ;

namespace stan {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts argv[0] (a full path) with stdout and stderr into `log` (or /dev/null); returns its pid.
// The child is killed when stan ends, however it ends (PR_SET_PDEATHSIG): no collector is left
// running after a crash or kill -9. Between fork and exec only async-signal-safe calls.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string out = log.empty() ? "/dev/null" : log;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  STAN_CHECK(pid >= 0, "cannot start ", argv[0], ": ", std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // stan ended before the line above
    const int in = ::open("/dev/null", O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(o, 2) < 0) ::_exit(127);
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  return pid;
}

// Runs a program to completion; returns its exit status (-1 if killed) and its output.
int run_program(const std::vector<std::string>& argv, std::string* output) {
  char tmpl[] = "/tmp/stan_run_XXXXXX";
  const int fd = mkstemp(tmpl);
  STAN_CHECK(fd >= 0, "cannot create a temporary file: ", std::strerror(errno));
  ::close(fd);
  const pid_t pid = spawn(argv, tmpl);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  *output = read_text(tmpl);
  ::unlink(tmpl);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool wait_exit(pid_t pid, double seconds, int* status) {
  const auto t0 = Clock::now();
  while (true) {
    const pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (std::chrono::duration<double>(Clock::now() - t0).count() > seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string nfdump_program() {
  const std::string p = find_program("nfdump");
  STAN_CHECK(!p.empty(),
             "nfdump is not installed (Debian: apt-get install nfdump; tools/setup.sh does it)");
  return p;
}

}  // namespace

std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream ss(path);
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    const std::string full = dir + "/" + name;
    if (::access(full.c_str(), X_OK) == 0 && fs::is_regular_file(full)) return full;
  }
  return "";
}

uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  STAN_CHECK(fd >= 0, "cannot open a UDP socket: ", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  STAN_CHECK(ok, "cannot find a free UDP port on 127.0.0.1: ", std::strerror(errno));
  return ntohs(a.sin_port);
}

NfcapdProcess::NfcapdProcess(const std::string& dir, const std::vector<std::string>& extra_args) {
  const std::string prog = find_program("nfcapd");
  STAN_CHECK(!prog.empty(),
             "nfcapd is not installed (Debian: apt-get install nfdump; tools/setup.sh does it)");
  // Flow files in DIR/flows, nfcapd's log next to them (nfdump -R reads every file in a folder).
  log_path_ = (fs::path(dir) / "nfcapd.log").string();
  dir_ = (fs::path(dir) / "flows").string();
  fs::create_directories(dir_);
  // A free port can be taken between the probe and nfcapd's bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_udp_port();
    std::vector<std::string> argv = {
        prog, "-w", dir_, "-b", "127.0.0.1", "-p", std::to_string(port_), "-t", "3600"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn(argv, log_path_);
    const auto t0 = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - t0).count() < 10) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      int64_t q = 0, drops = 0;
      if (local_udp_socket_state(port_, &q, &drops)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {  // neither bound nor exited in 10 s
      ::kill(pid_, SIGKILL);
      int status = 0;
      wait_exit(pid_, 5, &status);
      pid_ = -1;
    }
  }
  throw Error("nfcapd did not start on 127.0.0.1: " + log());
}

NfcapdProcess::~NfcapdProcess() {
  try {
    stop();
  } catch (...) {
  }
}

std::string NfcapdProcess::url() const {
  return "udp://127.0.0.1:" + std::to_string(port_);
}

std::string NfcapdProcess::log() const {
  return read_text(log_path_);
}

std::vector<std::string> NfcapdProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (!wait_exit(pid_, 30, &status)) {
      ::kill(pid_, SIGKILL);
      wait_exit(pid_, 5, &status);
    }
    pid_ = -1;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      // Closed files are nfcapd.YYYYMMDDhhmm; nfcapd.current.PID is one still being written.
      if (name.rfind("nfcapd.", 0) == 0 && name.find("current") == std::string::npos)
        files_.push_back(e.path().string());
    }
    std::sort(files_.begin(), files_.end());
  }
  return files_;
}

int64_t nfdump_flow_count(const std::string& path) {
  std::string out;
  const int rc = run_program({nfdump_program(), "-r", path, "-I"}, &out);
  STAN_CHECK(rc == 0, "nfdump -r ", path, " -I failed: ", out);
  const size_t at = out.find("\nFlows: ");
  STAN_CHECK(at != std::string::npos, "nfdump -r ", path, " -I: no flow count in: ", out);
  return std::strtoll(out.c_str() + at + 8, nullptr, 10);
}

NfcapdFileWriter::NfcapdFileWriter(const std::string& path, const std::string& compression,
                                   bool labels_in_interface)
    : path_(path) {
  std::vector<std::string> args;
  if (compression == "lz4") {
    args = {"-y"};
  } else if (compression == "lzo") {
    args = {"-z"};
  } else if (compression == "bz2") {
    args = {"-j"};
  } else {
    STAN_CHECK(compression.empty() || compression == "none", "unknown nfcapd compression '",
               compression, "' (expected lz4, lzo, bz2 or none)");
  }
  const fs::path parent = fs::path(path).parent_path();
  STAN_CHECK(parent.empty() || fs::is_directory(parent), "cannot write '", path, "': folder '",
             parent.string(), "' does not exist");
  // A fresh folder of our own next to the target (mkdtemp: a new name, mode 0700, never an
  // existing folder or a planted link), removed when done.
  std::string tmpl = path + ".tmp.XXXXXX";
  STAN_CHECK(::mkdtemp(tmpl.data()) != nullptr, "cannot write '", path,
             "': cannot create a temporary folder next to it: ", std::strerror(errno));
  tmp_dir_ = tmpl;
  // Removed on SIGINT / SIGTERM / SIGHUP too, nfcapd killed first (tensor/atomic_file.h).
  signal_slot_ = register_temp_folder(tmp_dir_, -1);
  try {
    nfcapd_ = std::make_unique<NfcapdProcess>(tmp_dir_, args);
    unregister_temp_folder(signal_slot_);
    signal_slot_ = register_temp_folder(tmp_dir_, nfcapd_->pid());
    ExportOptions o;
    o.to = nfcapd_->url();
    // v9, not IPFIX: nfcapd 1.7.1 keeps forwardingStatus (89) from v9 but not from IPFIX.
    o.format = ExportFormat::v9;
    o.labels_in_interface = labels_in_interface;
    exporter_ = std::make_unique<FlowExporter>(o);
  } catch (...) {
    nfcapd_.reset();
    remove_tmp_dir();
    throw;
  }
}

NfcapdFileWriter::~NfcapdFileWriter() {
  exporter_.reset();
  nfcapd_.reset();
  remove_tmp_dir();
}

void NfcapdFileWriter::remove_tmp_dir() noexcept {
  unregister_temp_folder(std::exchange(signal_slot_, -1));
  std::error_code ec;
  fs::remove_all(tmp_dir_, ec);
}

void NfcapdFileWriter::write(const FlowRecord& r, const Ip6Pair* ip6) {
  STAN_CHECK(!committed_, "[NfcapdFileWriter] ", path_, ": write after commit");
  exporter_->send(r, ip6);
}

int64_t NfcapdFileWriter::rows() const {
  return exporter_->stats().flows;
}

void NfcapdFileWriter::commit() {
  STAN_CHECK(!committed_, "[NfcapdFileWriter] ", path_, ": commit called twice");
  exporter_->finish();
  const int64_t sent = exporter_->stats().flows;
  const std::vector<std::string> files = nfcapd_->stop();
  STAN_CHECK(!files.empty(), "nfcapd wrote no file: ", nfcapd_->log());
  std::string src = files.front();
  if (files.size() > 1) {  // the export crossed nfcapd's hourly rotation: merge the files
    src = (fs::path(tmp_dir_) / "merged").string();
    std::string out;
    const int rc = run_program(
        {nfdump_program(), "-R", fs::path(files.front()).parent_path().string(), "-w", src}, &out);
    STAN_CHECK(rc == 0 && fs::exists(src), "nfdump could not merge nfcapd's files: ", out);
  }
  const int64_t got = nfdump_flow_count(src);
  STAN_CHECK(got == sent, "nfcapd stored ", got, " of the ", sent,
             " flows sent (collector log: ", nfcapd_->log(), ")");
  fs::rename(src, path_);
  committed_ = true;
  remove_tmp_dir();
}

}  // namespace stan
