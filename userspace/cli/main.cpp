// cmdgate: the operator's command-line client. Exit statuses: 0 success, 1 the operation failed
// (invalid rules, refused request, ...), 2 usage error. Details: docs/cli.md.

#include <CLI/CLI.hpp>

#include <map>
#include <string_view>

#include "cli/commands.h"
#include "common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"cmdgate: check and explain rules, approve parked commands"};
  app.set_version_flag("--version", std::string("cmdgate ") + cmdgate::kVersion);
  app.require_subcommand(1);
  std::map<std::string, cmdgate::cli::Runner> runners;
  runners["check"] = cmdgate::cli::add_check(app);
  runners["bundle"] = cmdgate::cli::add_bundle(app);
  runners["push"] = cmdgate::cli::add_push(app);
  runners["fleet"] = cmdgate::cli::add_fleet(app);
  runners["replay"] = cmdgate::cli::add_replay(app);
  runners["suggest"] = cmdgate::cli::add_suggest(app);
  // Arguments after "--" belong to the command being explained, never to cmdgate.
  int own = argc;
  std::vector<std::string> trailing;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own = i;
      trailing.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  runners["explain"] = cmdgate::cli::add_explain(app, trailing);
  cmdgate::cli::add_daemon_commands(app, runners);
  runners["prompt"] = cmdgate::cli::add_prompt(app);
  try {
    app.parse(own, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto* sub : app.get_subcommands()) {
    return runners.at(sub->get_name())();
  }
  return 2;
}
