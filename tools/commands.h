// Each `stan` subcommand lives in its own tools/cmd_<name>.cpp and registers itself on the app.
// A registered callback throws stan::Error (or std::exception) on failure; main prints it.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace stan::cli {

// The command line this process was started with (recorded in trained models).
const std::string& invocation();
void set_invocation(int argc, char** argv);

// An old spelling of an option, accepted but not shown in --help.
template <typename T>
void add_hidden_alias(CLI::App* c, const std::string& name, T& var) {
  c->add_option(name, var)->group("");
}

// How a command's --max-rows counts records: over all its input files together (train, export)
// or in each input file on its own (eval, baseline).
enum class RowLimit { all_files, per_file };

// --skip-bad-rows, --biflows and --max-rows, the same on every command that reads flows. `note`,
// if given, is added to --max-rows' help (e.g. what a record costs in memory there).
void add_read_options(CLI::App* c, bool& skip_bad, std::string& biflows, int64_t& max_rows,
                      RowLimit counted, const std::string& note = "");

// How a host list is given (parse_host_list accepts these forms everywhere), for help strings.
inline const std::string kHostListForms =
    "a,b,c, @file or a file name (one address per line, or a CSV with the address first, e.g. a "
    "hosts.csv)";

// The default owner network as text, for help strings.
std::string default_owners_text();

// --owners and --owner-hosts, the same on every command that picks owner hosts from flow data.
// `data`: where the default hosts.csv is looked for, e.g. "--data"; `note` is added to --owners'
// help.
void add_owner_options(CLI::App* c, std::vector<std::string>& owners, std::string& owner_hosts,
                       const std::string& data, const std::string& note = "");

void add_train_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_baseline_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_profiles_command(CLI::App& app);

}  // namespace stan::cli
