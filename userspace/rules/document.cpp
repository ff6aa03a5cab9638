#include "rules/document.h"

#include <re2/re2.h>
#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "rules/duration.h"
#include "rules/glob.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxShown = 64;       // bytes of a value quoted in a message
constexpr size_t kMaxIdLength = 128;   // [A-Za-z0-9][A-Za-z0-9._:-]{0,127}
constexpr size_t kMaxCommLength = 15;  // TASK_COMM_LEN - 1
constexpr size_t kMaxMessage = 1000;   // one line on the caller's stderr

constexpr std::string_view kTopLevelKeys =
    "mode, default_action, ask_timeout, timeout_action, rule";
constexpr std::string_view kRuleKeys =
    "id, description, message, url, action, mode, priority, timeout, timeout_action, path, "
    "sha256, args, cmdline, user, group, parent, ancestor, tty, cgroup, file";

// A value quoted for a message: control bytes escaped, long values cut (on a UTF-8 boundary).
std::string show(std::string_view text) {
  size_t end = std::min(text.size(), kMaxShown);
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  std::string out = "'";
  for (const char c : text.substr(0, end)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  out += end < text.size() ? "'..." : "'";
  return out;
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

// Where errors happen: the file, and the rule being parsed (message prefix).
class Scope {
 public:
  Scope(std::string_view origin, std::string prefix)
      : origin_(origin), prefix_(std::move(prefix)) {}

  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

  SourceLocation where(const toml::source_region& region) const {
    return {std::string(origin_), region.begin.line, region.begin.column};
  }
  Error at(const toml::source_region& region, std::string_view what) const {
    return Error::format("{}:{}:{}: {}{}", origin_, region.begin.line, region.begin.column, prefix_,
                         what);
  }
  Error key_error(const toml::node& node, std::string_view key, std::string_view what) const {
    return at(node.source(), fmt::format("key '{}': {}", key, what));
  }
  Error wrong_type(const toml::node& node, std::string_view key, std::string_view expected) const {
    return key_error(node, key,
                     fmt::format("expected {}, got {}", expected, type_name(node.type())));
  }

 private:
  std::string_view origin_;
  std::string prefix_;
};

// A table's entries in the order they appear in the file (toml::table is ordered by key), so
// that the first error reported is the first one in the file.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  out.reserve(t.size());
  for (const auto& [key, value] : t) {
    out.emplace_back(&key, &value);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
  });
  return out;
}

Result<std::string_view> get_string(const Scope& scope, std::string_view key,
                                    const toml::node& node, std::string_view expected) {
  if (const auto* s = node.as_string()) {
    return std::string_view(s->get());
  }
  return scope.wrong_type(node, key, expected);
}

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
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

struct MatchKey {
  std::string_view name;
  ElementParser parse;
};

constexpr MatchKey kMatchKeys[] = {
    {"path", parse_path},       {"sha256", parse_sha256},     {"args", parse_args},
    {"cmdline", parse_cmdline}, {"user", parse_user},         {"group", parse_group},
    {"parent", parse_parent},   {"ancestor", parse_ancestor}, {"cgroup", parse_cgroup},
    {"file", parse_file_kind},
};

Status parse_list(const Scope& scope, std::string_view key, const NameResolver& names,
                  const toml::node& value, ElementParser parse, Match& m) {
  if (const auto* array = value.as_array()) {
    if (array->empty()) {
      return scope.key_error(value, key, "empty list; omit the key to match any value");
    }
    if (array->size() > kMaxListElements) {
      return scope.key_error(
          value, key,
          fmt::format("{} elements; at most {} are allowed", array->size(), kMaxListElements));
    }
    for (const toml::node& element : *array) {
      if (auto ok = parse(Element{scope, key, names, element}, m); !ok) {
        return ok;
      }
    }
    return {};
  }
  return parse(Element{scope, key, names, value}, m);
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
  DocumentParser(std::string_view origin, const NameResolver& names)
      : origin_(origin), names_(names) {}

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
      return parse_list(scope, k, names_, value, match_key.parse, r.match);
    }
  }
  return scope.at(key.source(), fmt::format("unknown key {} (valid keys: {})", show(k), kRuleKeys));
}

}  // namespace

std::string format_location(const SourceLocation& where) {
  return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

Result<Document> parse_document(std::string_view toml_text, std::string_view origin,
                                const NameResolver& names) {
  if (toml_text.size() > kMaxFileBytes) {
    return Error::format("{}: file is {} bytes; at most {} (64 MiB) are allowed", origin,
                         toml_text.size(), kMaxFileBytes);
  }
  toml::parse_result parsed = toml::parse(toml_text, origin);
  if (!parsed) {
    const auto& error = parsed.error();
    return Error::format("{}:{}:{}: TOML syntax error: {}", origin, error.source().begin.line,
                         error.source().begin.column, error.description());
  }
  return DocumentParser(origin, names).run(parsed.table());
}

}  // namespace cmdgate::rules
