#include "rules/parser.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <unordered_map>
#include <utility>

#include "common/errno_error.h"
#include "common/regular_file.h"
#include "rules/document.h"

namespace cmdgate::rules {
namespace {

// Merges parsed files in load order into one RuleSet.
class RuleSetBuilder {
 public:
  Status add(Document doc, std::string source) {
    if (auto ok = merge(mode_, std::move(doc.mode), "mode"); !ok) {
      return ok;
    }
    if (auto ok = merge(default_action_, std::move(doc.default_action), "default_action"); !ok) {
      return ok;
    }
    if (auto ok = merge(ask_timeout_, std::move(doc.ask_timeout), "ask_timeout"); !ok) {
      return ok;
    }
    if (auto ok = merge(timeout_action_, std::move(doc.timeout_action), "timeout_action"); !ok) {
      return ok;
    }
    if (rules_.size() + doc.rules.size() > kMaxRules) {
      return Error::format("{}: too many rules: {} loaded so far plus {} in this file; at most {}",
                           source, rules_.size(), doc.rules.size(), kMaxRules);
    }
    for (size_t i = 0; i < doc.rules.size(); ++i) {
      Rule& rule = doc.rules[i];
      const SourceLocation& where = doc.id_where[i];
      const auto [first, inserted] = ids_.try_emplace(rule.id, where);
      if (!inserted) {
        return Error::format("{}: rule '{}': key 'id': duplicate rule id (first defined at {})",
                             format_location(where), rule.id, format_location(first->second));
      }
      rules_.push_back(std::move(rule));
    }
    sources_.push_back(std::move(source));
    return {};
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
    // Precedence: priority descending; equal priorities keep load order.
    std::stable_sort(rules_.begin(), rules_.end(),
                     [](const Rule& a, const Rule& b) { return a.priority > b.priority; });
    set.rules = std::move(rules_);
    set.sources = std::move(sources_);
    return set;
  }

 private:
  template <typename T>
  static Status merge(std::optional<Located<T>>& have, std::optional<Located<T>>&& next,
                      std::string_view key) {
    if (!next) {
      return {};
    }
    if (!have) {
      have = std::move(next);
      return {};
    }
    if (have->value != next->value) {
      return Error::format("{}: key '{}': \"{}\" conflicts with \"{}\" set at {}",
                           format_location(next->where), key, next->text, have->text,
                           format_location(have->where));
    }
    return {};
  }

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
Result<RuleSet> parse_all(const std::vector<std::pair<std::string_view, std::string_view>>& docs,
                          const NameResolver& names) {
  std::vector<toml::table> roots;
  roots.reserve(docs.size());
  for (const auto& [origin, text] : docs) {
    if (text.size() > kMaxFileBytes) {
      return Error::format("{}: file is {} bytes; at most {} (64 MiB) are allowed", origin,
                           text.size(), kMaxFileBytes);
    }
    auto root = parse_toml(text, origin);
    if (!root) {
      return root.error();
    }
    roots.push_back(std::move(*root));
  }
  Declarations declared;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (auto s = read_lists(roots[i], docs[i].first, declared); !s) {
      return s.error();
    }
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    if (auto s = read_agents(roots[i], docs[i].first, declared); !s) {
      return s.error();
    }
  }
  RuleSetBuilder builder;
  for (size_t i = 0; i < docs.size(); ++i) {
    auto doc = parse_document(roots[i], docs[i].first, names, declared);
    if (!doc) {
      return doc.error();
    }
    if (auto ok = builder.add(std::move(*doc), std::string(docs[i].first)); !ok) {
      return ok.error();
    }
  }
  RuleSet set = std::move(builder).finish();
  set.agents = std::move(declared.agents);
  return set;
}

}  // namespace

Result<RuleSet> parse_rules(std::string_view toml_text, std::string_view origin,
                            const NameResolver& names) {
  return parse_all({{origin, toml_text}}, names);
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

Result<RuleSet> parse_rules_texts(const std::vector<RulesText>& texts, const NameResolver& names) {
  std::vector<std::pair<std::string_view, std::string_view>> docs;
  docs.reserve(texts.size());
  for (const RulesText& t : texts) {
    docs.emplace_back(t.origin, t.text);
  }
  return parse_all(docs, names);
}

}  // namespace cmdgate::rules
