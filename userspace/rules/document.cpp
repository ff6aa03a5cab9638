#include "rules/document.h"

#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "rules/match_keys.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxIdLength = 128;  // [A-Za-z0-9][A-Za-z0-9._:-]{0,127}
constexpr size_t kMaxMessage = 1000;  // one line on the caller's stderr

constexpr std::string_view kTopLevelKeys =
    "mode, default_action, ask_timeout, timeout_action, lists, agent, rule";
constexpr std::string_view kRuleKeys =
    "id, description, message, url, action, mode, priority, timeout, timeout_action, path, "
    "sha256, args, cmdline, user, group, parent, ancestor, tty, cgroup, file, agent, trust";

bool valid_id(std::string_view id) {
  const auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (id.empty() || id.size() > kMaxIdLength || !alnum(id.front())) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [&](char c) {
    return alnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

struct RuleState {
  Rule rule;
  bool has_action = false;
  const toml::node* timeout = nullptr;
  const toml::node* timeout_action = nullptr;
};

Result<int32_t> priority(int64_t value) {
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) {
    return Error::format("{} is out of range (-2147483648 to 2147483647)", value);
  }
  return static_cast<int32_t>(value);
}

// Reads on past an error to the next top-level key, the next rule and the next key of a rule,
// where the rest does not depend on what failed. A rule with an error is left out of the
// document, and the checks that need all of a rule's keys (a required key, timeout without ask)
// are skipped for it: they would only repeat the error.
class DocumentParser {
 public:
  DocumentParser(std::string_view origin, const NameResolver& names, const Declarations& declared,
                 ErrorList& errors)
      : origin_(origin), names_(names), declared_(declared), errors_(errors) {}

  Document run(const toml::table& root);

 private:
  Status top_level_key(const TomlReader& reader, const toml::key& key, const toml::node& value);
  Status rules(const TomlValue& value);
  void rule(const toml::node& node, size_t number);
  Status rule_key(const TomlReader& reader, const toml::key& key, const toml::node& node,
                  RuleState& state) const;

  template <typename T>
  static Status set(std::optional<Located<T>>& slot, const TomlValue& value, Result<T> parsed) {
    if (!parsed) {
      return parsed.error();
    }
    slot = Located<T>{*parsed, std::string(value.node().as_string()->get()), value.where()};
    return {};
  }

  std::string_view origin_;
  const NameResolver& names_;
  const Declarations& declared_;
  ErrorList& errors_;
  Document doc_;
};

Document DocumentParser::run(const toml::table& root) {
  const TomlReader reader(origin_);
  for (const auto& [key, value] : in_file_order(root)) {
    errors_.failed(top_level_key(reader, *key, *value));
  }
  return std::move(doc_);
}

Status DocumentParser::top_level_key(const TomlReader& reader, const toml::key& key,
                                     const toml::node& node) {
  const TomlValue value = reader.value(key.str(), node);
  const std::string_view k = key.str();
  if (k == "mode") {
    return set(doc_.mode, value, value.word(kModeWords));
  }
  if (k == "default_action") {
    return set(doc_.default_action, value, value.word(kActionWords));
  }
  if (k == "ask_timeout") {
    return set(doc_.ask_timeout, value, value.duration());
  }
  if (k == "timeout_action") {
    return set(doc_.timeout_action, value, value.word(kTimeoutActionWords));
  }
  if (k == "rule") {
    return rules(value);
  }
  if (k == "lists" || k == "agent") {
    return {};  // read before any document's rules (read_lists, read_agents)
  }
  return reader.unknown_key(key, kTopLevelKeys);
}

Status DocumentParser::rules(const TomlValue& value) {
  const auto* array = value.node().as_array();
  if (array == nullptr) {
    return value.wrong_type("an array of tables ([[rule]])");
  }
  if (array->size() > kMaxRules) {
    return value.error(fmt::format("{} rules; at most {} are allowed", array->size(), kMaxRules));
  }
  doc_.rules.reserve(array->size());
  doc_.id_where.reserve(array->size());
  size_t number = 0;
  for (const toml::node& node : *array) {
    rule(node, ++number);
  }
  return {};
}

void DocumentParser::rule(const toml::node& node, size_t number) {
  TomlReader reader(origin_, fmt::format("rule #{}: ", number));
  const auto* table = node.as_table();
  if (table == nullptr) {
    errors_.add(reader.at(
        node.source(), fmt::format("expected a table ([[rule]]), got {}", type_name(node.type()))));
    return;
  }
  RuleState state;
  Rule& r = state.rule;
  r.where = reader.where(table->source());

  const toml::node* id_node = table->get("id");
  if (id_node == nullptr) {
    errors_.add(reader.at(table->source(), "missing required key 'id'"));
    return;
  }
  const TomlValue id = reader.value("id", *id_node);
  auto id_text = id.string();
  if (!id_text) {
    errors_.add(id_text.error());
    return;
  }
  if (!valid_id(*id_text)) {
    errors_.add(id.error(
        fmt::format("{} is not a valid rule id (1 to 128 characters from A-Z a-z 0-9 "
                    ". _ : -, starting with a letter or digit)",
                    quoted_value(*id_text))));
    return;
  }
  r.id = *id_text;
  reader.set_context(fmt::format("rule '{}': ", r.id));

  bool failed = false;
  for (const auto& [key, value] : in_file_order(*table)) {
    failed |= errors_.failed(rule_key(reader, *key, *value, state));
  }
  if (failed) {
    return;
  }
  if (!state.has_action) {
    errors_.add(reader.at(table->source(), "missing required key 'action'"));
    return;
  }
  if (r.action != Action::kAsk && (state.timeout != nullptr || state.timeout_action != nullptr)) {
    const TomlValue misplaced = state.timeout != nullptr
                                    ? reader.value("timeout", *state.timeout)
                                    : reader.value("timeout_action", *state.timeout_action);
    errors_.add(misplaced.error(fmt::format(
        "only valid when action = \"ask\" (this rule's action is \"{}\")", to_string(r.action))));
    return;
  }
  doc_.id_where.push_back(id.where());
  doc_.rules.push_back(std::move(r));
}

Status DocumentParser::rule_key(const TomlReader& reader, const toml::key& key,
                                const toml::node& node, RuleState& state) const {
  Rule& r = state.rule;
  const TomlValue value = reader.value(key.str(), node);
  const std::string_view k = key.str();
  if (k == "id") {
    return {};  // already parsed
  }
  if (k == "description") {
    auto text = value.string();
    if (!text) {
      return text.error();
    }
    r.description = std::string(*text);
    return {};
  }
  if (k == "message") {
    auto text = value.string();
    if (!text) {
      return text.error();
    }
    if (text->size() > kMaxMessage) {
      return value.error(fmt::format("is {} bytes; at most {} are shown to the caller",
                                     text->size(), kMaxMessage));
    }
    r.message = std::optional<std::string>(*text);
    return {};
  }
  if (k == "url") {
    auto text = value.string();
    if (!text) {
      return text.error();
    }
    const bool web = text->starts_with("https://") || text->starts_with("http://");
    const bool plain = std::none_of(text->begin(), text->end(), [](char c) {
      return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
    });
    if (!web || !plain || text->size() > kMaxMessage) {
      return value.error("expected an http:// or https:// address without spaces");
    }
    r.url = std::string(*text);
    return {};
  }
  if (k == "action") {
    auto action = value.word(kActionWords);
    if (!action) {
      return action.error();
    }
    r.action = *action;
    state.has_action = true;
    return {};
  }
  if (k == "mode") {
    auto mode = value.word(kModeWords);
    if (!mode) {
      return mode.error();
    }
    r.mode = *mode;
    return {};
  }
  if (k == "priority") {
    auto p = value.integer(priority);
    if (!p) {
      return p.error();
    }
    r.priority = *p;
    return {};
  }
  if (k == "timeout") {
    auto timeout = value.duration();
    if (!timeout) {
      return timeout.error();
    }
    r.ask_timeout = *timeout;
    state.timeout = &node;
    return {};
  }
  if (k == "timeout_action") {
    auto action = value.word(kTimeoutActionWords);
    if (!action) {
      return action.error();
    }
    r.timeout_action = *action;
    state.timeout_action = &node;
    return {};
  }
  if (k == "tty") {
    const auto* boolean = node.as_boolean();
    if (boolean == nullptr) {
      return value.wrong_type("a boolean (true or false)");
    }
    r.match.tty = boolean->get();
    return {};
  }
  if (is_match_key(k)) {
    return read_match_key(value, names_, declared_, r.match);
  }
  return reader.unknown_key(key, kRuleKeys);
}

}  // namespace

Document parse_document(const toml::table& root, std::string_view origin,
                        const NameResolver& names, const Declarations& declared,
                        ErrorList& errors) {
  return DocumentParser(origin, names, declared, errors).run(root);
}

}  // namespace cmdgate::rules
