// cmdgate replay --rules PATH... --from LOG [--mode M]: every policy decision of a decision log
// judged again under other rules, and what would change. Exit status 0: nothing changes and
// every decision could be judged; 1: some decision changes or cannot be judged; 2: error.

#include <cstdio>

#include "cli/commands.h"
#include "cli/logged_exec.h"
#include "common/display_text.h"
#include "rules/mode_override.h"
#include "rules/parser.h"

namespace cmdgate::cli {
namespace {

struct ReplayOptions {
  std::vector<std::string> rules;
  std::string log;
  std::optional<std::string> mode;
};

std::string rule_text(const std::string& id) {
  return id.empty() ? "default_action" : "rule " + display_text(id);
}

int run_replay(const ReplayOptions& o) {
  std::optional<rules::Mode> mode;
  if (o.mode) {
    auto m = rules::kModeWords.read(*o.mode);
    if (!m) {
      std::fprintf(stderr, "cmdgate replay: --mode: %s\n", display_text(m.error().message).c_str());
      return 2;
    }
    mode = *m;
  }
  rules::SystemNameResolver names;
  auto set = rules::load_rules(o.rules, names);
  if (!set) {
    std::fprintf(stderr, "%s\n", display_text(set.error().message).c_str());
    return 2;
  }
  if (mode) {
    rules::override_mode(*set, *mode);
  }
  const rules::SystemFileResolver files;
  auto compiled = rules::Policy::compile(std::move(*set), files);
  if (!compiled) {
    std::fprintf(stderr, "%s\n", display_text(compiled.error().message).c_str());
    return 2;
  }
  const rules::Policy& policy = **compiled;
  size_t judged = 0, changed = 0, unknown = 0, other = 0;
  const std::string where = display_text(o.log);
  auto read = read_decision_log(o.log, [&](const LoggedExec& e) {
    if (!e.decision) {
      ++other;
      return true;
    }
    const std::string before = outcome_word(*e.action, *e.mode);
    const Rejudged r = rejudge(policy, files, e);
    if (!r.decision) {
      ++unknown;
      std::string why;
      for (const std::string& m : r.missing) {
        why += (why.empty() ? "" : "; ") + m;
      }
      std::printf("%s:%zu: cannot judge: missing %s: %s (was %s by %s)\n", where.c_str(), e.line,
                  why.c_str(), display_words(e.argv).c_str(), before.c_str(),
                  rule_text(e.rule).c_str());
      return true;
    }
    ++judged;
    const std::string after = outcome_word(r.decision->action, r.decision->mode);
    const std::string rule = r.decision->rule != nullptr ? r.decision->rule->id : "";
    if (after != before) {
      ++changed;
      std::printf("%s:%zu: %s (%s) -> %s (%s): %s\n", where.c_str(), e.line, before.c_str(),
                  rule_text(e.rule).c_str(), after.c_str(), rule_text(rule).c_str(),
                  display_words(e.argv).c_str());
    }
    return true;
  });
  if (!read) {
    std::fprintf(stderr, "cmdgate replay: %s\n", display_text(read.error().message).c_str());
    return 2;
  }
  std::printf("%zu decisions replayed: %zu change, %zu unchanged, %zu cannot be judged; %zu other "
              "lines (no policy decision)\n",
              judged + unknown, changed, judged - changed, unknown, other);
  return changed > 0 || unknown > 0 ? 1 : 0;
}

}  // namespace

Runner add_replay(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "replay", "Judge a decision log again under other rules and show what would change");
  auto o = std::make_shared<ReplayOptions>();
  cmd->add_option("--rules", o->rules, "Rules file or directory (repeatable)")->required();
  cmd->add_option("--from", o->log, "The decision log (JSON lines)")->required();
  cmd->add_option("--mode", o->mode,
                  "Every rule in this mode, as the daemon's `mode` setting does: monitor | enforce");
  return [o]() { return run_replay(*o); };
}

}  // namespace cmdgate::cli
