// `stan`: train, generate, inspect and evaluate synthetic NetFlow models.
#include <cstdio>
#include <exception>
#include <string>

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
    const bool quote = a.find_first_of(" \t\"'") != std::string::npos;
    g_invocation += (i ? " " : "") + (quote ? "'" + a + "'" : a);
  }
}
}  // namespace stan::cli

int main(int argc, char** argv) {
  stan::cli::set_invocation(argc, argv);
  CLI::App app{
      "stan: synthetic NetFlow generation (STAN) -- train, generate, info, eval, baseline"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stan 0.1.0");
  stan::cli::add_generate_command(app);
  stan::cli::add_train_command(app);
  stan::cli::add_info_command(app);
  stan::cli::add_eval_command(app);
  stan::cli::add_baseline_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
