// cmdgate check PATH...: validates rules files as the daemon would load them, reporting every
// error (up to rules::kMaxReportedErrors) and warning about rules a rule above them shadows.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/display_text.h"
#include "common/source_location.h"
#include "rules/parser.h"
#include "rules/policy.h"
#include "rules/shadowing.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

std::string shadow_text(const rules::RuleSet& set, const rules::Shadowed& s) {
  const rules::Rule& rule = set.rules[s.rule];
  const rules::Rule& by = set.rules[s.by];
  return fmt::format("{}: rule '{}' {}: rule '{}' ({}) comes before it and matches every exec it "
                     "matches",
                     format_location(rule.where), rule.id,
                     s.decides_when_unknown
                         ? "decides only when a fact cmdgate needs is unknown (it is stricter)"
                         : "can never decide",
                     by.id, format_location(by.where));
}

struct CheckOutcome {
  std::vector<std::string> errors;
  size_t unreported = 0;
  std::vector<std::string> warnings;
  size_t rules = 0;
  std::vector<std::string> sources;
};

CheckOutcome check(const std::vector<std::string>& paths) {
  CheckOutcome out;
  auto texts = rules::read_rules_files(paths);
  if (!texts) {
    out.errors.push_back(texts.error().message);
    return out;
  }
  rules::SystemNameResolver names;
  rules::RulesCheck found = rules::check_rules_texts(*texts, names);
  for (const Error& e : found.errors) {
    out.errors.push_back(e.message);
  }
  out.unreported = found.unreported;
  if (found.set.rules.size() > rules::kMaxShadowCheckedRules) {
    out.warnings.push_back(fmt::format(
        "{} rules: more than {}, so shadowed rules were not looked for", found.set.rules.size(),
        rules::kMaxShadowCheckedRules));
  }
  for (const rules::Shadowed& s : rules::find_shadowed(found.set)) {
    out.warnings.push_back(shadow_text(found.set, s));
  }
  if (!found.errors.empty()) {
    return out;
  }
  auto policy = rules::Policy::compile(std::move(found.set), rules::SystemFileResolver());
  if (!policy) {
    out.errors.push_back(policy.error().message);
    return out;
  }
  out.rules = (*policy)->rule_set().rules.size();
  out.sources = (*policy)->rule_set().sources;
  return out;
}

}  // namespace

Runner add_check(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Validate rules files or directories");
  auto paths = std::make_shared<std::vector<std::string>>();
  auto json_out = std::make_shared<bool>(false);
  cmd->add_option("paths", *paths, "Rules files or directories")->required();
  cmd->add_flag("--json", *json_out, "Machine-readable output");
  return [paths, json_out]() {
    const CheckOutcome c = check(*paths);
    const bool ok = c.errors.empty();
    if (*json_out) {
      json out = {{"ok", ok},
                  {"errors", c.errors},
                  {"unreported_errors", c.unreported},
                  {"warnings", c.warnings}};
      if (ok) {
        out["rules"] = c.rules;
        out["sources"] = c.sources;
      }
      std::puts(out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      return ok ? 0 : 1;
    }
    for (const std::string& e : c.errors) {
      std::fprintf(stderr, "%s\n", display_text(e).c_str());
    }
    if (c.unreported > 0) {
      std::fprintf(stderr, "... and %zu more error(s)\n", c.unreported);
    }
    for (const std::string& w : c.warnings) {
      std::fprintf(stderr, "warning: %s\n", display_text(w).c_str());
    }
    if (ok) {
      std::printf("ok: %zu rules from %zu file(s)%s\n", c.rules, c.sources.size(),
                  c.warnings.empty() ? "" : fmt::format(", {} warning(s)", c.warnings.size()).c_str());
    } else {
      std::fprintf(stderr, "%zu error(s)\n", c.errors.size() + c.unreported);
    }
    return ok ? 0 : 1;
  };
}

}  // namespace cmdgate::cli
