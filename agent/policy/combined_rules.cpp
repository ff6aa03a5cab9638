#include "policy/combined_rules.h"

#include <algorithm>
#include <set>

namespace cmdgate {
namespace {

template <typename T>
Status same_setting(const char* key, const T& local, const T& pushed, const std::string& label,
                    std::string (*show)(const T&)) {
  if (local == pushed) {
    return {};
  }
  return Error::format(
      "local rule files set '{}' to {}, but the fleet bundles in force ({}) have {}: while a "
      "bundle is in force, its settings govern",
      key, show(local), label, show(pushed));
}

std::string show_action(const rules::Action& a) {
  return rules::to_string(a);
}
std::string show_mode(const rules::Mode& m) {
  return rules::to_string(m);
}
std::string show_ms(const std::chrono::milliseconds& d) {
  return fmt::format("{}ms", d.count());
}

std::string list_actions(const std::vector<rules::Action>& actions) {
  std::string out;
  for (auto a : actions) {
    out += fmt::format("{}{}", out.empty() ? "" : ", ", rules::to_string(a));
  }
  return out;
}

Result<std::vector<rules::RulesText>> local_layer(const PolicySource& source) {
  if (source.local_copy) {
    return *source.local_copy;
  }
  return rules::read_rules_files(source.rule_paths);
}

}  // namespace

bool reads_local_files(const PolicySource& source) {
  return !source.local_copy && (!source.pushed || source.pushed->admit_local);
}

Result<rules::RuleSet> load_policy_rules(const PolicySource& source,
                                         const rules::NameResolver& names,
                                         std::vector<rules::RulesText>* read) {
  if (!source.pushed) {
    auto local = local_layer(source);
    if (!local) {
      return local.error();
    }
    auto set = rules::parse_rules_texts(*local, names);
    if (read != nullptr && reads_local_files(source)) {
      *read = std::move(*local);  // moved: 10,000 rules are about a megabyte of text
    }
    return set;
  }
  const PushedRules& pushed = *source.pushed;
  auto bundle_only = rules::parse_rules_texts(pushed.documents, names);
  if (!bundle_only) {
    return bundle_only.error();
  }
  if (!pushed.admit_local) {
    return bundle_only;
  }

  auto local = local_layer(source);
  if (!local) {
    return local.error();
  }
  if (read != nullptr && reads_local_files(source)) {
    *read = *local;  // a copy: the merge below takes these texts
  }
  std::set<std::string> pushed_origins;
  for (const auto& d : pushed.documents) {
    pushed_origins.insert(d.origin);
  }
  std::vector<rules::RulesText> all = pushed.documents;
  for (auto& t : *local) {
    if (pushed_origins.contains(t.origin)) {
      return Error::format("{}: a local rule file has the name of a pushed one", t.origin);
    }
    all.push_back(std::move(t));
  }
  // One merge over both layers checks rule ids across them and reports a local setting that
  // contradicts an explicit bundle setting with both places named.
  auto merged = rules::parse_rules_texts(all, names);
  if (!merged) {
    return merged.error();
  }
  // A setting the bundles leave at its default is still theirs to decide.
  const rules::RuleSet& b = *bundle_only;
  if (auto s = same_setting("mode", merged->mode, b.mode, pushed.label, show_mode); !s) {
    return s.error();
  }
  if (auto s = same_setting("default_action", merged->default_action, b.default_action,
                            pushed.label, show_action);
      !s) {
    return s.error();
  }
  if (auto s =
          same_setting("ask_timeout", merged->ask_timeout, b.ask_timeout, pushed.label, show_ms);
      !s) {
    return s.error();
  }
  if (auto s = same_setting("timeout_action", merged->timeout_action, b.timeout_action,
                            pushed.label, show_action);
      !s) {
    return s.error();
  }
  // The merge sorted by priority with ties in load order; a stable partition puts the pushed
  // layer first and keeps that order within each layer.
  std::stable_partition(merged->rules.begin(), merged->rules.end(), [&](const rules::Rule& r) {
    return pushed_origins.contains(r.where.file_name());
  });
  if (!pushed.local_actions.empty()) {
    for (const auto& r : merged->rules) {
      if (pushed_origins.contains(r.where.file_name())) {
        continue;
      }
      if (std::find(pushed.local_actions.begin(), pushed.local_actions.end(), r.action) ==
          pushed.local_actions.end()) {
        return Error::format(
            "{}:{}:{}: rule '{}': action \"{}\" is not open to local rules while the fleet "
            "bundles {} are in force (local rules may: {})",
            r.where.file_name(), r.where.line, r.where.column, r.id, rules::to_string(r.action),
            pushed.label, list_actions(pushed.local_actions));
      }
    }
  }
  return merged;
}

}  // namespace cmdgate
