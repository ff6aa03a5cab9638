// cmdgate check PATH...: validates rules files as the daemon would load them.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate::cli {

Runner add_check(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Validate rules files or directories");
  auto paths = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("paths", *paths, "Rules files or directories")->required();
  cmd->add_flag("--json", *json, "Machine-readable output");
  return [paths, json]() {
    rules::SystemNameResolver names;
    auto set = rules::load_rules(*paths, names);
    Result<std::shared_ptr<const rules::Policy>> policy =
        set ? rules::Policy::compile(*set, rules::SystemFileResolver())
            : Result<std::shared_ptr<const rules::Policy>>(set.error());
    if (*json) {
      nlohmann::json out = {{"ok", policy.ok()}};
      if (policy) {
        out["rules"] = (*policy)->rule_set().rules.size();
        out["sources"] = (*policy)->rule_set().sources;
      } else {
        out["error"] = policy.error().message;
      }
      std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (policy) {
      std::printf("ok: %zu rules from %zu file(s)\n", (*policy)->rule_set().rules.size(),
                  (*policy)->rule_set().sources.size());
    } else {
      std::fprintf(stderr, "%s\n", policy.error().message.c_str());
    }
    return policy ? 0 : 1;
  };
}

}  // namespace cmdgate::cli
