#pragma once
// Rules files (TOML) to a validated RuleSet. Schema, loading order and semantics: docs/rules.md.
//
// Every error is returned as an Error whose message starts with "<file>:<line>:<column>: " and
// names the offending key; nothing throws. The loaders report the first error found;
// check_rules_texts reports all of them (up to kMaxReportedErrors).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rules/model.h"

namespace cmdgate::rules {

// Limits; exceeding one is an error, never a truncation.
inline constexpr size_t kMaxRules = 1'000'000;              // in total, over all loaded files
inline constexpr size_t kMaxFileBytes = 64u * 1024 * 1024;  // per file (and per parse_rules text)
inline constexpr size_t kMaxListElements = 10'000;          // per match key
inline constexpr size_t kMaxRegexBytes = 4096;              // per args/cmdline pattern
inline constexpr size_t kMaxReportedErrors = 50;  // by check_rules_texts; more are counted

// Seam for user/group name lookup so tests need no real accounts.
class NameResolver {
 public:
  virtual ~NameResolver() = default;
  virtual std::optional<uint32_t> uid(const std::string& name) const = 0;
  virtual std::optional<uint32_t> gid(const std::string& name) const = 0;
};

// The system's user and group databases (getpwnam_r / getgrnam_r, so NSS applies).
class SystemNameResolver final : public NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string& name) const override;
  std::optional<uint32_t> gid(const std::string& name) const override;
};

// Parse one TOML document. `origin` is the file name used in error messages and the only entry
// of RuleSet::sources. Rules come back in precedence order (see RuleSet::rules).
Result<RuleSet> parse_rules(std::string_view toml_text, std::string_view origin,
                            const NameResolver& names);

// Load files and/or directories in the order given; a directory contributes its "*.toml" files
// (not recursive, names starting with '.' skipped) sorted by name, byte-wise. Top-level settings
// may be repeated across files only with equal values; rule ids must be unique across all files.
// The merged rules are stable-sorted by priority, highest first, so ties keep load order.
// A path that does not exist, a directory without *.toml files, or an empty `paths` is an error.
Result<RuleSet> load_rules(const std::vector<std::string>& paths, const NameResolver& names);

// A rules document held in memory (a file of a pushed bundle, or a file read ahead of time);
// `origin` names it in locations and messages and in RuleSet::sources.
struct RulesText {
  std::string origin;
  std::string text;
  friend bool operator==(const RulesText&, const RulesText&) = default;
};
// The files load_rules would load for `paths`, in the same order, read with the same checks.
Result<std::vector<RulesText>> read_rules_files(const std::vector<std::string>& paths);
// What check_rules_texts finds. With errors, `set` is not a policy: it holds only the rules read
// without error (none when a file's syntax or a declaration was wrong), for lint.
struct RulesCheck {
  RuleSet set;
  std::vector<Error> errors;  // in the order parse_rules_texts meets them: errors.front() is its
  size_t unreported = 0;      // errors found beyond kMaxReportedErrors
};
// parse_rules_texts reading on past errors, for a linter. Syntax and declaration errors are
// collected per file, setting and rule errors per key and per rule; later stages are not run
// once a stage has failed (docs/rules.md, "Errors").
RulesCheck check_rules_texts(const std::vector<RulesText>& texts, const NameResolver& names);

// load_rules over documents already in memory, merged by the same rules. An empty list is valid
// and yields a RuleSet with no rules and default settings.
Result<RuleSet> parse_rules_texts(const std::vector<RulesText>& texts, const NameResolver& names);

}  // namespace cmdgate::rules
