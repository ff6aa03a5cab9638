#include "rules/parser.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "common/errno_error.h"
#include "common/error_list.h"
#include "common/regular_file.h"
#include "rules/document.h"

namespace cmdgate::rules {
namespace {

// Merges parsed files in load order into one RuleSet. Each conflict goes to `errors` and merging
// goes on with the next setting or rule.
class RuleSetBuilder {
 public:
  explicit RuleSetBuilder(ErrorList& errors) : errors_(errors) {}

  void add(Document doc, std::string source) {
    merge(mode_, std::move(doc.mode), "mode");
    merge(default_action_, std::move(doc.default_action), "default_action");
    merge(ask_timeout_, std::move(doc.ask_timeout), "ask_timeout");
    merge(timeout_action_, std::move(doc.timeout_action), "timeout_action");
    sources_.push_back(source);
    if (rules_.size() + doc.rules.size() > kMaxRules) {
      errors_.add(
          Error::format("{}: too many rules: {} loaded so far plus {} in this file; at most {}",
                        source, rules_.size(), doc.rules.size(), kMaxRules));
      return;
    }
    // Moved, not copied, and without a second array of rules: 10,000 rules are megabytes, and
    // at start every new page of them is a page fault.
    const size_t first_new = rules_.size();
    ids_.reserve(first_new + doc.rules.size());
    if (rules_.empty()) {
      rules_ = std::move(doc.rules);
    } else {
      rules_.insert(rules_.end(), std::make_move_iterator(doc.rules.begin()),
                    std::make_move_iterator(doc.rules.end()));
    }
    size_t kept = first_new;
    for (size_t i = first_new; i < rules_.size(); ++i) {
      SourceLocation& where = doc.id_where[i - first_new];
      const auto found = ids_.find(rules_[i].id);
      if (found != ids_.end()) {
        errors_.add(
            Error::format("{}: rule '{}': key 'id': duplicate rule id (first defined at {})",
                          format_location(where), rules_[i].id, format_location(found->second)));
        continue;
      }
      ids_.emplace(rules_[i].id, std::move(where));
      if (kept != i) {
        rules_[kept] = std::move(rules_[i]);
      }
      ++kept;
    }
    rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(kept), rules_.end());
  }

  RuleSet finish() && {
    RuleSet set;
    if (mode_) {
      set.mode = mode_->value;
    }
    if (default_action_) {
      set.default_action = default_action_->value;
    }
    if (ask_timeout_) {
      set.ask_timeout = ask_timeout_->value;
    }
    if (timeout_action_) {
      set.timeout_action = timeout_action_->value;
    }
    // Precedence: priority descending; equal priorities keep load order. Most rule sets set no
    // priority, and the sort's buffer would be another copy of every rule.
    const auto before = [](const Rule& a, const Rule& b) { return a.priority > b.priority; };
    if (!std::is_sorted(rules_.begin(), rules_.end(), before)) {
      std::stable_sort(rules_.begin(), rules_.end(), before);
    }
    set.rules = std::move(rules_);
    set.sources = std::move(sources_);
    return set;
  }

 private:
  template <typename T>
  void merge(std::optional<Located<T>>& have, std::optional<Located<T>>&& next,
             std::string_view key) {
    if (!next) {
      return;
    }
    if (!have) {
      have = std::move(next);
      return;
    }
    if (have->value != next->value) {
      errors_.add(Error::format("{}: key '{}': \"{}\" conflicts with \"{}\" set at {}",
                                format_location(next->where), key, next->text, have->text,
                                format_location(have->where)));
    }
  }

  ErrorList& errors_;
  std::optional<Located<Mode>> mode_;
  std::optional<Located<Action>> default_action_;
  std::optional<Located<std::chrono::milliseconds>> ask_timeout_;
  std::optional<Located<Action>> timeout_action_;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, SourceLocation> ids_;
  std::vector<std::string> sources_;
};

bool is_rules_file_name(const std::string& name) {
  constexpr std::string_view kSuffix = ".toml";
  return name.size() > kSuffix.size() && name.front() != '.' &&
         std::string_view(name).substr(name.size() - kSuffix.size()) == kSuffix;
}

// The files to load, in load order: each path as given, or a directory's *.toml entries sorted
// by name. Entries are not filtered by type: a *.toml that is not a regular file fails to load
// instead of being skipped silently.
Result<std::vector<std::string>> expand(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  if (paths.empty()) {
    return Error{"no rules files or directories given"};
  }
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return errno_error(path);
    }
    if (!S_ISDIR(st.st_mode)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(path, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (is_rules_file_name(name)) {
        names.push_back(std::move(name));
      }
    }
    if (ec) {
      return Error::format("{}: cannot list directory: {}", path, ec.message());
    }
    if (names.empty()) {
      return Error::format("{}: directory contains no *.toml files", path);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      files.push_back((fs::path(path) / name).string());
    }
  }
  return files;
}

// Every document's declarations first, then every document's rules, merged in load order.
// Within a phase every error is collected (per file for syntax and declarations; per key and
// rule for settings and rules); a phase with errors ends the run, since what follows it would
// read declarations that are missing and report errors that are only echoes.
RulesCheck parse_all(const std::vector<std::pair<std::string_view, std::string_view>>& docs,
                     const NameResolver& names) {
  RulesCheck out;
  ErrorList errors(kMaxReportedErrors);
  const auto finish = [&] {
    out.errors = errors.kept();
    out.unreported = errors.unreported();
    return std::move(out);
  };
  std::vector<toml::table> roots;
  roots.reserve(docs.size());
  for (const auto& [origin, text] : docs) {
    if (text.size() > kMaxFileBytes) {
      errors.add(Error::format("{}: file is {} bytes; at most {} (64 MiB) are allowed", origin,
                               text.size(), kMaxFileBytes));
      continue;
    }
    auto root = parse_toml(text, origin);
    if (!root) {
      errors.add(root.error());
      continue;
    }
    roots.push_back(std::move(*root));
  }
  if (!errors.empty()) {
    return finish();
  }
  Declarations declared;
  for (size_t i = 0; i < docs.size(); ++i) {
    errors.failed(read_lists(roots[i], docs[i].first, declared));
  }
  if (!errors.empty()) {
    return finish();
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    errors.failed(read_agents(roots[i], docs[i].first, declared));
  }
  if (!errors.empty()) {
    return finish();
  }
  RuleSetBuilder builder(errors);
  for (size_t i = 0; i < docs.size(); ++i) {
    builder.add(parse_document(roots[i], docs[i].first, names, declared, errors),
                std::string(docs[i].first));
  }
  out.set = std::move(builder).finish();
  out.set.agents = std::move(declared.agents);
  return finish();
}

// The first error, as the loaders report it.
Result<RuleSet> first_error(RulesCheck&& check) {
  if (!check.errors.empty()) {
    return check.errors.front();
  }
  return std::move(check.set);
}

}  // namespace

Result<RuleSet> parse_rules(std::string_view toml_text, std::string_view origin,
                            const NameResolver& names) {
  return first_error(parse_all({{origin, toml_text}}, names));
}

Result<RuleSet> load_rules(const std::vector<std::string>& paths, const NameResolver& names) {
  auto texts = read_rules_files(paths);
  if (!texts) {
    return texts.error();
  }
  return parse_rules_texts(*texts, names);
}

Result<std::vector<RulesText>> read_rules_files(const std::vector<std::string>& paths) {
  auto files = expand(paths);
  if (!files) {
    return files.error();
  }
  std::vector<RulesText> out;
  for (std::string& file : *files) {
    auto text = read_regular_file(file, kMaxFileBytes);
    if (!text) {
      return text.error();
    }
    out.push_back({std::move(file), std::move(*text)});
  }
  return out;
}

RulesCheck check_rules_texts(const std::vector<RulesText>& texts, const NameResolver& names) {
  std::vector<std::pair<std::string_view, std::string_view>> docs;
  docs.reserve(texts.size());
  for (const RulesText& t : texts) {
    docs.emplace_back(t.origin, t.text);
  }
  return parse_all(docs, names);
}

Result<RuleSet> parse_rules_texts(const std::vector<RulesText>& texts, const NameResolver& names) {
  return first_error(check_rules_texts(texts, names));
}

}  // namespace cmdgate::rules
