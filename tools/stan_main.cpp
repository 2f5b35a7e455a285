// `stan`: train, generate, inspect and evaluate synthetic NetFlow models.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <new>
#include <string>

#include "stan/io/hosts.h"
#include "tools/commands.h"

namespace stan::cli {
namespace {
std::string g_invocation;
}
const std::string& invocation() {
  return g_invocation;
}
void set_invocation(int argc, char** argv) {
  g_invocation.clear();
  for (int i = 0; i < argc; ++i) {
    std::string a = i == 0 ? std::string("stan") : std::string(argv[i]);
    // Files by name only (a model records names and hashes, not the machine's folders).
    const bool at = !a.empty() && a[0] == '@';
    const std::filesystem::path p(at ? a.substr(1) : a);
    if (i > 0 && p.has_parent_path() &&
        (std::filesystem::exists(p) || std::filesystem::is_directory(p.parent_path())))
      a = (at ? "@" : "") + p.filename().string();
    const bool quote = a.find_first_of(" \t\"'") != std::string::npos;
    g_invocation += (i ? " " : "") + (quote ? "'" + a + "'" : a);
  }
}
void add_read_options(CLI::App* c, bool& skip_bad, std::string& biflows, int64_t& max_rows,
                      RowLimit counted, const std::string& note) {
  c->add_flag("--skip-bad-rows", skip_bad,
              "Skip malformed rows (counted and reported, with the first error) instead of "
              "stopping");
  c->add_option("--biflows", biflows,
                "Bidirectional nfdump records (-b/-B): split (both directions become flows) or "
                "forward (the forward direction only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"split", "forward"}));
  c->add_option("--max-rows", max_rows,
                std::string("Refuse input with more flow records than this, counted ") +
                    (counted == RowLimit::all_files ? "over all input files together"
                                                    : "in each input file on its own") +
                    note)
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
}
std::string default_owners_text() {
  return format_prefix(kDefaultOwnerPrefix);
}
void add_owner_options(CLI::App* c, std::vector<std::string>& owners, std::string& owner_hosts,
                       const std::string& data, const std::string& note) {
  c->add_option("--owners", owners,
                "Owner host prefixes (default: the hosts.csv next to " + data +
                    " if there is one, else " + default_owners_text() + ")" + note)
      ->delimiter(',');
  c->add_option("--owner-hosts", owner_hosts,
                "Owner hosts instead of prefixes: " + kHostListForms + "; replaces --owners");
}

// Where the bundled model and sample are: $STAN_ASSETS_DIR if set; else the assets installed
// next to this program (PREFIX/share/stan/assets for PREFIX/bin/stan, by cmake --install); else
// the source tree this program was built from (the library's compiled-in default).
void locate_assets() {
  if (std::getenv("STAN_ASSETS_DIR")) return;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return;
  const std::filesystem::path installed = exe.parent_path() / STAN_INSTALL_ASSETS_RELATIVE;
  if (std::filesystem::is_regular_file(installed / "model" / "stan-ugr16.safetensors", ec))
    setenv("STAN_ASSETS_DIR", installed.lexically_normal().c_str(), 1);
}
}  // namespace stan::cli

int main(int argc, char** argv) {
  stan::cli::set_invocation(argc, argv);
  stan::cli::locate_assets();
  CLI::App app{
      "stan: synthetic NetFlow generation (STAN) -- train, generate, info, eval, baseline, export, "
      "profiles"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stan 0.1.0");
  stan::cli::add_generate_command(app);
  stan::cli::add_train_command(app);
  stan::cli::add_info_command(app);
  stan::cli::add_eval_command(app);
  stan::cli::add_baseline_command(app);
  stan::cli::add_export_command(app);
  stan::cli::add_profiles_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "error: out of memory (for large inputs, lower --max-rows or split the data)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
