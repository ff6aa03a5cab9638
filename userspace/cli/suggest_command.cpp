// cmdgate suggest --from LOG [--rules PATH...]: allow rules that would let every exec a
// monitor-mode log records as would_deny or would_ask run, one per program and user, as a
// rules file (TOML, written by toml++) with comments saying how many execs each covers.

#include <toml++/toml.h>

#include <climits>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/logged_exec.h"
#include "common/display_text.h"
#include "rules/parser.h"

namespace cmdgate::cli {
namespace {

// Above every rule of the log's policy when --rules does not say what their priorities are.
constexpr int64_t kDefaultPriority = 1000;

struct SuggestOptions {
  std::string log;
  std::vector<std::string> rules;
};

struct Group {
  size_t execs = 0;
  std::map<std::string, size_t> by;  // "would_deny by rule X" -> execs
  std::vector<std::string> example;
};

// What a suggestion cannot name, with how many execs each reason left out.
using Left = std::map<std::string, size_t>;

std::string rule_id(const std::string& exe, uint32_t uid, std::set<std::string>& taken) {
  std::string base = exe.substr(exe.rfind('/') + 1);
  for (char& c : base) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    c = ok ? c : '_';
  }
  base = fmt::format("suggested-allow-{}-uid{}", base.substr(0, 64), uid);
  std::string id = base;
  for (int n = 2; taken.contains(id); ++n) {
    id = fmt::format("{}-{}", base, n);
  }
  taken.insert(id);
  return id;
}

// A `path` value naming exactly this path: glob metacharacters escaped (rules/glob.h), so the
// parser takes it as an exact path, not a glob.
std::string exact_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Why a would_* exec cannot be allowed by a rule on its path and user; "" when it can.
std::string not_nameable(const LoggedExec& e) {
  if (e.script || e.loaded || e.copy_of) {
    return "scripts, loader runs and copies of held tools (the decision also read another file)";
  }
  if (e.file_kinds != 0) {
    return "memfd and deleted files (no path names them)";
  }
  if (!is_utf8(e.exe) || e.exe.empty() || e.exe.front() != '/') {
    return "paths a rules file cannot hold (not absolute UTF-8)";
  }
  return "";
}

int run_suggest(const SuggestOptions& o) {
  int64_t priority = kDefaultPriority;
  std::set<std::string> taken;
  if (!o.rules.empty()) {
    rules::SystemNameResolver names;
    auto set = rules::load_rules(o.rules, names);
    if (!set) {
      std::fprintf(stderr, "%s\n", display_text(set.error().message).c_str());
      return 2;
    }
    int64_t top = INT_MIN;
    for (const rules::Rule& r : set->rules) {
      top = std::max<int64_t>(top, r.priority);
      taken.insert(r.id);
    }
    priority = set->rules.empty() ? 0 : top + 1;
    if (priority > INT32_MAX) {
      std::fprintf(stderr, "cmdgate suggest: a rule already has the highest priority (%d): no "
                           "suggestion could come before it\n", INT32_MAX);
      return 2;
    }
  }
  std::map<std::pair<std::string, uint32_t>, Group> groups;
  Left left;
  size_t total = 0;
  auto read = read_decision_log(o.log, [&](const LoggedExec& e) {
    if (!e.decision || e.mode != rules::Mode::kMonitor || e.action < rules::Action::kAsk) {
      return true;
    }
    ++total;
    if (const std::string why = not_nameable(e); !why.empty()) {
      ++left[why];
      return true;
    }
    Group& g = groups[{e.exe, e.uid}];
    ++g.execs;
    ++g.by[fmt::format("{} by {}", outcome_word(*e.action, *e.mode),
                       e.rule.empty() ? "default_action" : "rule " + e.rule)];
    if (g.example.empty()) {
      g.example = e.argv;
    }
    return true;
  });
  if (!read) {
    std::fprintf(stderr, "cmdgate suggest: %s\n", display_text(read.error().message).c_str());
    return 2;
  }
  size_t covered = total;
  for (const auto& [why, count] : left) {
    covered -= count;
  }
  std::ostringstream out;
  out << "# Suggested by `cmdgate suggest` from " << display_text(o.log) << ": " << total
      << " exec(s) were would_deny or would_ask; the rules below allow " << covered
      << " of them, one rule per program and user.\n"
      << "# Priority " << priority
      << (o.rules.empty() ? " (no --rules given: check it is above the rules that decided)"
                          : " (above every rule of --rules)")
      << ". Review each before loading it: an allow rule lets every run of that program by that "
         "user through, whatever its arguments.\n";
  for (const auto& [why, count] : left) {
    out << "# Not covered: " << count << " exec(s) of " << why << ".\n";
  }
  for (const auto& [key, g] : groups) {
    const auto& [exe, uid] = key;
    out << "\n# Covers " << g.execs << (g.execs == 1 ? " exec: " : " execs: ");
    bool first = true;
    for (const auto& [what, count] : g.by) {
      out << (first ? "" : ", ") << what << " (" << count << ")";
      first = false;
    }
    out << ".\n# e.g. " << display_words(g.example) << "\n";
    toml::table rule{{"id", rule_id(exe, uid, taken)},
                     {"action", "allow"},
                     {"priority", priority},
                     {"path", exact_path(exe)},
                     {"user", int64_t{uid}},
                     {"description", fmt::format("suggested from {} observed exec(s)", g.execs)}};
    toml::table doc{{"rule", toml::array{std::move(rule)}}};
    out << doc << "\n";
  }
  std::fputs(out.str().c_str(), stdout);
  return 0;
}

}  // namespace

Runner add_suggest(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "suggest", "Propose allow rules for what a monitor-mode decision log would have blocked");
  auto o = std::make_shared<SuggestOptions>();
  cmd->add_option("--from", o->log, "The decision log (JSON lines)")->required();
  cmd->add_option("--rules", o->rules,
                  "The rules in force (repeatable): suggestions go above them, with ids of their "
                  "own");
  return [o]() { return run_suggest(*o); };
}

}  // namespace cmdgate::cli
