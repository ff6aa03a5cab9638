#include "rules/document.h"

#include <re2/re2.h>
#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "common/hex.h"
#include "rules/duration.h"
#include "rules/glob.h"
#include "rules/regex_options.h"
#include "rules/toml_support.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxIdLength = 128;   // [A-Za-z0-9][A-Za-z0-9._:-]{0,127}
constexpr size_t kMaxMessage = 1000;   // one line on the caller's stderr

constexpr std::string_view kTopLevelKeys =
    "mode, default_action, ask_timeout, timeout_action, lists, agent, rule";
constexpr std::string_view kRuleKeys =
    "id, description, message, url, action, mode, priority, timeout, timeout_action, path, "
    "sha256, args, cmdline, user, group, parent, ancestor, tty, cgroup, file, agent";

template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

constexpr Choice<Action> kActions[] = {{"allow", Action::kAllow},
                                       {"audit", Action::kAudit},
                                       {"deny", Action::kDeny},
                                       {"ask", Action::kAsk}};
constexpr Choice<Action> kTimeoutActions[] = {{"allow", Action::kAllow}, {"deny", Action::kDeny}};
constexpr Choice<Mode> kModes[] = {{"enforce", Mode::kEnforce}, {"monitor", Mode::kMonitor}};
constexpr Choice<uint8_t> kFileKinds[] = {{"memfd", kFileMemfd}, {"deleted", kFileDeleted}};

template <typename T, size_t N>
Result<T> get_choice(const Scope& scope, std::string_view key, const toml::node& node,
                     const Choice<T> (&choices)[N]) {
  std::string names;
  for (const auto& c : choices) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", c.name);
  }
  auto text = get_string(scope, key, node, fmt::format("one of {}", names));
  if (!text) {
    return text.error();
  }
  for (const auto& c : choices) {
    if (c.name == *text) {
      return c.value;
    }
  }
  return scope.key_error(node, key, fmt::format("expected one of {}; got {}", names, show(*text)));
}

Result<std::chrono::milliseconds> get_duration(const Scope& scope, std::string_view key,
                                               const toml::node& node) {
  auto text = get_string(scope, key, node, "a duration string such as \"30s\"");
  if (!text) {
    return text.error();
  }
  auto duration = parse_duration(*text);
  if (!duration) {
    return scope.key_error(node, key, duration.error().message);
  }
  return *duration;
}

// ---- Match keys: each element of a single value or an array goes through an ElementParser. ----

struct Element {
  const Scope& scope;
  std::string_view key;
  const NameResolver& names;
  const Declarations& declared;
  const toml::node& node;

  Error fail(std::string_view what) const { return scope.key_error(node, key, what); }
  Error wrong_type(std::string_view expected) const {
    return scope.wrong_type(node, key, expected);
  }
  // A non-empty string without NUL bytes.
  Result<std::string_view> string(std::string_view expected) const {
    auto text = get_string(scope, key, node, expected);
    if (!text) {
      return text;
    }
    if (text->empty()) {
      return fail("empty string");
    }
    if (text->find('\0') != std::string_view::npos) {
      return fail(fmt::format("{} contains a NUL character", show(*text)));
    }
    return text;
  }
};

using ElementParser = Status (*)(const Element&, Match&);

Status check_glob(const Element& e, std::string_view text) {
  auto regex = glob_to_regex(text);
  if (!regex) {
    return e.fail(regex.error().message);
  }
  return {};
}

Result<std::string_view> absolute_glob(const Element& e, std::string_view expected) {
  auto text = e.string(expected);
  if (!text) {
    return text;
  }
  if (text->front() != '/') {
    return e.fail(fmt::format("{} does not start with '/'", show(*text)));
  }
  if (auto ok = check_glob(e, *text); !ok) {
    return ok.error();
  }
  return text;
}

Status parse_path(const Element& e, Match& m) {
  auto text = absolute_glob(e, "an absolute path string");
  if (!text) {
    return text.error();
  }
  if (is_glob(*text)) {
    m.path_globs.emplace_back(*text);
  } else {
    m.paths.push_back(glob_literal_prefix(*text));  // removes '\' escapes
  }
  return {};
}


Status parse_sha256(const Element& e, Match& m) {
  auto text = e.string("a SHA-256 digest string (64 hexadecimal digits)");
  if (!text) {
    return text.error();
  }
  if (text->size() != 2 * Sha256().size()) {
    return e.fail(fmt::format("{} is not a SHA-256 digest: expected 64 hexadecimal digits, got {}",
                              show(*text), text->size()));
  }
  Sha256 digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    const int hi = hex_value((*text)[2 * i]);
    const int lo = hex_value((*text)[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return e.fail(
          fmt::format("{} is not a SHA-256 digest: non-hexadecimal character at offset {}",
                      show(*text), hi < 0 ? 2 * i : 2 * i + 1));
    }
    digest[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  m.sha256.push_back(digest);
  return {};
}

Status parse_regex(const Element& e, std::vector<std::string>& out) {
  auto text = e.string("a regular expression string");
  if (!text) {
    return text.error();
  }
  if (text->size() > kMaxRegexBytes) {
    return e.fail(fmt::format("regular expression {} is {} bytes long; at most {} are allowed",
                              show(*text), text->size(), kMaxRegexBytes));
  }
  // Validated exactly as the policy compiles it (bytes, not UTF-8: see regex_options.h).
  const RE2 regex(*text, re2_options(PatternFlavor::kRegex));
  if (!regex.ok()) {
    return e.fail(fmt::format("invalid regular expression {}: {}", show(*text), regex.error()));
  }
  out.emplace_back(*text);
  return {};
}

Status parse_args(const Element& e, Match& m) {
  return parse_regex(e, m.args);
}
Status parse_cmdline(const Element& e, Match& m) {
  return parse_regex(e, m.cmdline);
}

Result<uint32_t> account_id(const Element& e, bool user) {
  const std::string_view kind = user ? "user" : "group";
  if (const auto* integer = e.node.as_integer()) {
    const int64_t id = integer->get();
    // (uid_t)-1 means "no id" to the kernel; no process runs as it.
    if (id < 0 || id >= int64_t{std::numeric_limits<uint32_t>::max()}) {
      return e.fail(fmt::format("{} id {} is out of range (0 to 4294967294)", kind, id));
    }
    return static_cast<uint32_t>(id);
  }
  if (!e.node.is_string()) {
    return e.wrong_type(user ? "a user name or a numeric uid" : "a group name or a numeric gid");
  }
  auto name = e.string("a string");
  if (!name) {
    return name.error();
  }
  const std::string owned(*name);
  const auto id = user ? e.names.uid(owned) : e.names.gid(owned);
  if (!id) {
    const bool numeric =
        std::all_of(owned.begin(), owned.end(), [](char c) { return c >= '0' && c <= '9'; });
    return e.fail(fmt::format(
        "unknown {} {}{}", kind, show(owned),
        numeric ? fmt::format(" (write numeric ids as integers: {} = {})", e.key, owned) : ""));
  }
  return *id;
}

Status parse_user(const Element& e, Match& m) {
  auto id = account_id(e, true);
  if (!id) {
    return id.error();
  }
  m.uids.push_back(*id);
  return {};
}

Status parse_group(const Element& e, Match& m) {
  auto id = account_id(e, false);
  if (!id) {
    return id.error();
  }
  m.gids.push_back(*id);
  return {};
}

Result<ProcessPattern> process_pattern(const Element& e) {
  auto text = e.string("an executable path or command name string");
  if (!text) {
    return text.error();
  }
  if (auto ok = check_glob(e, *text); !ok) {
    return ok.error();
  }
  if (text->front() == '/') {
    return ProcessPattern{std::string(*text), true};
  }
  if (!is_glob(*text) && glob_literal_prefix(*text).size() > kMaxCommLength) {
    return e.fail(fmt::format(
        "command name {} is longer than {} characters and can never match (the kernel keeps "
        "only the first {}); use an executable path starting with '/' or a shorter name",
        show(*text), kMaxCommLength, kMaxCommLength));
  }
  return ProcessPattern{std::string(*text), false};
}

Status parse_parent(const Element& e, Match& m) {
  auto pattern = process_pattern(e);
  if (!pattern) {
    return pattern.error();
  }
  m.parent.push_back(std::move(*pattern));
  return {};
}

Status parse_ancestor(const Element& e, Match& m) {
  auto pattern = process_pattern(e);
  if (!pattern) {
    return pattern.error();
  }
  m.ancestor.push_back(std::move(*pattern));
  return {};
}

Status parse_cgroup(const Element& e, Match& m) {
  auto text = absolute_glob(e, "a cgroup path string");
  if (!text) {
    return text.error();
  }
  m.cgroup_globs.emplace_back(*text);
  return {};
}

Status parse_file_kind(const Element& e, Match& m) {
  auto kind = get_choice(e.scope, e.key, e.node, kFileKinds);
  if (!kind) {
    return kind.error();
  }
  m.file_kinds |= *kind;
  return {};
}

// "*": every declared agent, in any loaded file.
Status parse_agent(const Element& e, Match& m) {
  auto text = e.string("an agent name string, or \"*\" for any declared agent");
  if (!text) {
    return text.error();
  }
  const auto& agents = e.declared.agents;
  if (agents.empty()) {
    return e.fail("no [[agent]] is declared in the loaded files");
  }
  const auto add = [&m](const std::string& name) {
    if (std::find(m.agents.begin(), m.agents.end(), name) == m.agents.end()) {
      m.agents.push_back(name);
    }
  };
  if (*text == "*") {
    for (const AgentDecl& a : agents) {
      add(a.name);
    }
    return {};
  }
  const auto it = std::find_if(agents.begin(), agents.end(),
                               [&](const AgentDecl& a) { return a.name == *text; });
  if (it == agents.end()) {
    std::string names;
    for (const AgentDecl& a : agents) {
      names += fmt::format("{}'{}'", names.empty() ? "" : ", ", a.name);
    }
    return e.fail(fmt::format("unknown agent {} (declared agents: {})", show(*text), names));
  }
  add(it->name);
  return {};
}

struct MatchKey {
  std::string_view name;
  ElementParser parse;
};

constexpr MatchKey kMatchKeys[] = {
    {"path", parse_path},       {"sha256", parse_sha256},     {"args", parse_args},
    {"cmdline", parse_cmdline}, {"user", parse_user},         {"group", parse_group},
    {"parent", parse_parent},   {"ancestor", parse_ancestor}, {"cgroup", parse_cgroup},
    {"file", parse_file_kind},  {"agent", parse_agent},
};

Status parse_list(const Scope& scope, std::string_view key, const NameResolver& names,
                  const Declarations& declared, const toml::node& value, ElementParser parse,
                  Match& m) {
  std::vector<const toml::node*> elements;
  if (auto s = expand_values(scope, key, value, declared, elements); !s) {
    return s;
  }
  for (const toml::node* element : elements) {
    if (auto ok = parse(Element{scope, key, names, declared, *element}, m); !ok) {
      return ok;
    }
  }
  return {};
}

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

// ---- Rules ----

struct RuleState {
  Rule rule;
  bool has_action = false;
  const toml::node* timeout = nullptr;
  const toml::node* timeout_action = nullptr;
};

class DocumentParser {
 public:
  DocumentParser(std::string_view origin, const NameResolver& names, const Declarations& declared)
      : origin_(origin), names_(names), declared_(declared) {}

  Result<Document> run(const toml::table& root);

 private:
  Status top_level_key(const Scope& scope, const toml::key& key, const toml::node& value);
  Status rules(const Scope& scope, const toml::node& value);
  Status rule(const toml::node& node, size_t number);
  Status rule_key(const Scope& scope, const toml::key& key, const toml::node& value,
                  RuleState& state) const;

  template <typename T>
  static Status set(const Scope& scope, std::optional<Located<T>>& slot, const toml::node& value,
                    Result<T> parsed) {
    if (!parsed) {
      return parsed.error();
    }
    slot = Located<T>{*parsed, std::string(value.as_string()->get()), scope.where(value.source())};
    return {};
  }

  std::string_view origin_;
  const NameResolver& names_;
  const Declarations& declared_;
  Document doc_;
};

Result<Document> DocumentParser::run(const toml::table& root) {
  const Scope scope(origin_, "");
  for (const auto& [key, value] : in_file_order(root)) {
    if (auto ok = top_level_key(scope, *key, *value); !ok) {
      return ok.error();
    }
  }
  return std::move(doc_);
}

Status DocumentParser::top_level_key(const Scope& scope, const toml::key& key,
                                     const toml::node& value) {
  const std::string_view k = key.str();
  if (k == "mode") {
    return set(scope, doc_.mode, value, get_choice(scope, k, value, kModes));
  }
  if (k == "default_action") {
    return set(scope, doc_.default_action, value, get_choice(scope, k, value, kActions));
  }
  if (k == "ask_timeout") {
    return set(scope, doc_.ask_timeout, value, get_duration(scope, k, value));
  }
  if (k == "timeout_action") {
    return set(scope, doc_.timeout_action, value, get_choice(scope, k, value, kTimeoutActions));
  }
  if (k == "rule") {
    return rules(scope, value);
  }
  if (k == "lists" || k == "agent") {
    return {};  // read before any document's rules (read_lists, read_agents)
  }
  return scope.at(key.source(),
                  fmt::format("unknown top-level key {} (valid keys: {})", show(k), kTopLevelKeys));
}

Status DocumentParser::rules(const Scope& scope, const toml::node& value) {
  const auto* array = value.as_array();
  if (array == nullptr) {
    return scope.wrong_type(value, "rule", "an array of tables ([[rule]])");
  }
  if (array->size() > kMaxRules) {
    return scope.key_error(
        value, "rule", fmt::format("{} rules; at most {} are allowed", array->size(), kMaxRules));
  }
  doc_.rules.reserve(array->size());
  doc_.id_where.reserve(array->size());
  size_t number = 0;
  for (const toml::node& node : *array) {
    if (auto ok = rule(node, ++number); !ok) {
      return ok;
    }
  }
  return {};
}

Status DocumentParser::rule(const toml::node& node, size_t number) {
  Scope scope(origin_, fmt::format("rule #{}: ", number));
  const auto* table = node.as_table();
  if (table == nullptr) {
    return scope.at(node.source(),
                    fmt::format("expected a table ([[rule]]), got {}", type_name(node.type())));
  }
  RuleState state;
  Rule& r = state.rule;
  r.where = scope.where(table->source());

  const toml::node* id = table->get("id");
  if (id == nullptr) {
    return scope.at(table->source(), "missing required key 'id'");
  }
  auto id_text = get_string(scope, "id", *id, "a string");
  if (!id_text) {
    return id_text.error();
  }
  if (!valid_id(*id_text)) {
    return scope.key_error(*id, "id",
                           fmt::format("{} is not a valid rule id (1 to 128 characters from "
                                       "A-Z a-z 0-9 . _ : -, starting with a letter or digit)",
                                       show(*id_text)));
  }
  r.id = *id_text;
  scope.set_prefix(fmt::format("rule '{}': ", r.id));

  for (const auto& [key, value] : in_file_order(*table)) {
    if (auto ok = rule_key(scope, *key, *value, state); !ok) {
      return ok;
    }
  }
  if (!state.has_action) {
    return scope.at(table->source(), "missing required key 'action'");
  }
  if (r.action != Action::kAsk) {
    const auto* misplaced = state.timeout != nullptr ? state.timeout : state.timeout_action;
    if (misplaced != nullptr) {
      return scope.key_error(*misplaced, state.timeout != nullptr ? "timeout" : "timeout_action",
                             fmt::format("only valid when action = \"ask\" (this rule's action "
                                         "is \"{}\")",
                                         to_string(r.action)));
    }
  }
  doc_.id_where.push_back(scope.where(id->source()));
  doc_.rules.push_back(std::move(r));
  return {};
}

Status DocumentParser::rule_key(const Scope& scope, const toml::key& key, const toml::node& value,
                                RuleState& state) const {
  Rule& r = state.rule;
  const std::string_view k = key.str();
  if (k == "id") {
    return {};  // already parsed
  }
  if (k == "description") {
    auto text = get_string(scope, k, value, "a string");
    if (!text) {
      return text.error();
    }
    r.description = *text;
    return {};
  }
  if (k == "message") {
    auto text = get_string(scope, k, value, "a string");
    if (!text) {
      return text.error();
    }
    if (text->size() > kMaxMessage) {
      return scope.key_error(value, k, fmt::format("is {} bytes; at most {} are shown to the caller",
                                                   text->size(), kMaxMessage));
    }
    r.message = *text;
    return {};
  }
  if (k == "url") {
    auto text = get_string(scope, k, value, "a string");
    if (!text) {
      return text.error();
    }
    const bool web = text->starts_with("https://") || text->starts_with("http://");
    const bool plain = std::none_of(text->begin(), text->end(), [](char c) {
      return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
    });
    if (!web || !plain || text->size() > kMaxMessage) {
      return scope.key_error(value, k, "expected an http:// or https:// address without spaces");
    }
    r.url = *text;
    return {};
  }
  if (k == "action") {
    auto action = get_choice(scope, k, value, kActions);
    if (!action) {
      return action.error();
    }
    r.action = *action;
    state.has_action = true;
    return {};
  }
  if (k == "mode") {
    auto mode = get_choice(scope, k, value, kModes);
    if (!mode) {
      return mode.error();
    }
    r.mode = *mode;
    return {};
  }
  if (k == "priority") {
    const auto* integer = value.as_integer();
    if (integer == nullptr) {
      return scope.wrong_type(value, k, "an integer");
    }
    const int64_t priority = integer->get();
    if (priority < std::numeric_limits<int32_t>::min() ||
        priority > std::numeric_limits<int32_t>::max()) {
      return scope.key_error(
          value, k, fmt::format("{} is out of range (-2147483648 to 2147483647)", priority));
    }
    r.priority = static_cast<int32_t>(priority);
    return {};
  }
  if (k == "timeout") {
    auto timeout = get_duration(scope, k, value);
    if (!timeout) {
      return timeout.error();
    }
    r.ask_timeout = *timeout;
    state.timeout = &value;
    return {};
  }
  if (k == "timeout_action") {
    auto action = get_choice(scope, k, value, kTimeoutActions);
    if (!action) {
      return action.error();
    }
    r.timeout_action = *action;
    state.timeout_action = &value;
    return {};
  }
  if (k == "tty") {
    const auto* boolean = value.as_boolean();
    if (boolean == nullptr) {
      return scope.wrong_type(value, k, "a boolean (true or false)");
    }
    r.match.tty = boolean->get();
    return {};
  }
  for (const auto& match_key : kMatchKeys) {
    if (match_key.name == k) {
      return parse_list(scope, k, names_, declared_, value, match_key.parse, r.match);
    }
  }
  return scope.at(key.source(), fmt::format("unknown key {} (valid keys: {})", show(k), kRuleKeys));
}

}  // namespace

std::string format_location(const SourceLocation& where) {
  return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

Result<Document> parse_document(const toml::table& root, std::string_view origin,
                                const NameResolver& names, const Declarations& declared) {
  return DocumentParser(origin, names, declared).run(root);
}

}  // namespace cmdgate::rules
