// `stan profiles`: real hosts' profiles in a model's fields, as a CSV that `stan generate
// --profiles` reads, so that generated hosts can be steered to look like chosen real ones.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/io/time_check.h"
#include "stan/model/model.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct ProfilesArgs {
  std::string model, data, out, owner_hosts, hosts, biflows = "split";
  std::vector<std::string> owners;
  int64_t max_rows = kDefaultMaxRows;
  bool skip_bad = false;
};

// A number as the CSV holds it: short, and read back to within 1e-9 of its value.
std::string number_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void run_profiles(const ProfilesArgs& a) {
  const std::string model_path = a.model.empty() ? bundled_model_path() : a.model;
  check_output_not_input(a.out, "--out", {{"--data", a.data}, {"--model", model_path}});
  StanModel m = StanModel::load(model_path);
  const ProfileModel& prof = m.profiles();
  STAN_CHECK(prof.enabled(), model_path, ": this model was trained without profiles");
  std::string owners_note;
  const OwnerSelector owners = owners_from_flags(a.owners, a.owner_hosts, a.data, &owners_note);
  std::fprintf(stderr, "%s\n", owners_note.c_str());
  ReadOptions ro;
  ro.skip_bad_rows = a.skip_bad;
  ro.biflows = parse_biflows(a.biflows);
  ro.row_limit = a.max_rows;
  ReadStats st;
  FlowTable table = read_flows(a.data, ro, &st);
  const std::string note = read_summary(a.data, st);
  if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  drop_time_outliers(table, a.skip_bad, a.data + ": ",
                     "they would move the day the hours count from");
  std::vector<HostStream> streams = build_host_streams(table, owners);
  if (!a.hosts.empty()) {
    const std::vector<uint32_t> keep = parse_host_list(a.hosts);  // sorted
    std::erase_if(streams, [&](const HostStream& s) {
      return !std::binary_search(keep.begin(), keep.end(), s.host);
    });
  }
  STAN_CHECK(!streams.empty(), a.data, ": no flow of ",
             a.hosts.empty() ? "an owner host" : "the --hosts hosts",
             " (owners: ", describe_owners(owners), ")");
  const int64_t day_start = first_day_start(streams);  // as in training (Encoder::fit)
  // The model's sweeps and probes are not the hosts' own flows: its profiles were fitted without
  // them (training takes them out first). A host left with none of its own gets log_flows 0 and
  // empty cells (drawn by generate).
  std::vector<uint32_t> hosts;
  for (const HostStream& s : streams) hosts.push_back(s.host);
  const int64_t swept = m.sweeps().remove_from(streams, table, owners);
  const std::vector<std::string>& names = prof.field_names();
  std::string csv = "host";
  for (const std::string& n : names) csv.append(",").append(n);
  csv += "\n";
  size_t next = 0, bare = 0;
  for (uint32_t h : hosts) {
    csv += format_ipv4(h);
    if (next < streams.size() && streams[next].host == h) {
      for (double v : prof.raw_of(streams[next++], table, day_start))
        csv.append(",").append(number_text(v));
    } else {
      ++bare;
      for (const std::string& n : names) csv.append(n == "log_flows" ? ",0" : ",");
    }
    csv += "\n";
  }
  if (swept > 0)
    std::fprintf(stderr, "left out %lld flows of the model's sweeps and probes%s\n",
                 static_cast<long long>(swept),
                 bare == 0 ? ""
                           : (" (" + std::to_string(bare) +
                              " hosts had nothing else: log_flows 0, the rest drawn)")
                                 .c_str());
  AtomicFile out(a.out);
  out.write(csv);
  out.commit();
  std::fprintf(stderr, "wrote %zu hosts' profiles (%d fields, day from %s) to %s\n", hosts.size(),
               prof.dim(), format_time(day_start).c_str(), a.out.c_str());
}

}  // namespace

void add_profiles_command(CLI::App& app) {
  auto a = std::make_shared<ProfilesArgs>();
  CLI::App* c = app.add_subcommand(
      "profiles",
      "Write real hosts' profiles (activity, protocol mix, peers, services, hours) in a model's "
      "fields, one host per row, for generate --profiles");
  c->add_option("--data", a->data, "Real flows (UGR'16 or nfdump CSV, plain/xz/gz)")->required();
  c->add_option("--out", a->out, "Profile CSV to write (a first column 'host' names each row)")
      ->required();
  c->add_option("--model", a->model,
                "Model whose profile fields to use (default: the bundled one)");
  c->add_option("--hosts", a->hosts, "Only these hosts: " + kHostListForms);
  add_owner_options(c, a->owners, a->owner_hosts, "--data");
  add_read_options(c, a->skip_bad, a->biflows, a->max_rows, RowLimit::all_files);
  c->footer(
      "Hours (first, last, active) count from midnight UTC of the day of the first flow. "
      "generate --profiles makes a host per row (with --hosts N, host i gets row i modulo the "
      "row count; with --host-ips, each host the row the 'host' column names); empty cells are "
      "drawn from the model. Example (from the source tree): generated twins of the sample's "
      "hosts\n"
      "  stan profiles --data stan/assets/sample/flows.csv.xz --out profiles.csv\n"
      "  stan generate --profiles profiles.csv --duration 24h --out twins.csv");
  c->callback([a]() { run_profiles(*a); });
}

}  // namespace stan::cli
