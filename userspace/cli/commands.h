#pragma once
// Subcommands of the cmdgate CLI. Each registers its options on a CLI11 subcommand and returns
// the process exit status when run. Exit statuses: docs/cli.md.

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cmdgate::cli {

using Runner = std::function<int()>;

Runner add_check(CLI::App& app);
// pending, approve, deny, status, reload, watch
void add_daemon_commands(CLI::App& app, std::map<std::string, Runner>& runners);
Runner add_prompt(CLI::App& app);
// command: everything after the first "--" on the command line.
Runner add_explain(CLI::App& app, std::vector<std::string> command);
// Fleet rule push (docs/fleet.md): bundle keygen|sign|verify|show, push, fleet status.
Runner add_bundle(CLI::App& app);
Runner add_push(CLI::App& app);
Runner add_fleet(CLI::App& app);
// Decision logs (docs/cli.md): replay --rules --from, suggest --from [--rules].
Runner add_replay(CLI::App& app);
Runner add_suggest(CLI::App& app);

}  // namespace cmdgate::cli
