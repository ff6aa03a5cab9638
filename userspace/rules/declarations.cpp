// [lists] and [[agent]]: read from every loaded file before any rule, since a rule may use what
// another file declares.

#include <toml++/toml.h>

#include <algorithm>

#include "rules/document.h"
#include "rules/glob.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxListName = 64;
constexpr size_t kMaxAgentName = 31;  // CG_AGENT_NAME_MAX - 1
constexpr size_t kMaxAgents = 64;     // CG_AGENT_BITS
constexpr size_t kMaxUnitLength = 63;  // CG_UNIT_NAME_MAX - 1
constexpr std::string_view kAgentKeys = "name, description, path, comm, unit";

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool valid_name(std::string_view name, size_t max) {
  return !name.empty() && name.size() <= max && name.front() != '.' && name.front() != '-' &&
         std::all_of(name.begin(), name.end(), name_char);
}

std::string names_of(const auto& map_or_agents) {
  std::string out;
  for (const auto& entry : map_or_agents) {
    if constexpr (requires { entry.first; }) {
      out += (out.empty() ? "'" : ", '") + entry.first + "'";
    } else {
      out += (out.empty() ? "'" : ", '") + entry.name + "'";
    }
  }
  return out;
}

// A string element, non-empty and without NUL.
Result<std::string_view> element_string(const Scope& scope, std::string_view key,
                                        const toml::node& node, std::string_view expected) {
  auto text = get_string(scope, key, node, expected);
  if (!text) {
    return text;
  }
  if (text->empty()) {
    return scope.key_error(node, key, "empty string");
  }
  if (text->find('\0') != std::string_view::npos) {
    return scope.key_error(node, key, fmt::format("{} contains a NUL character", show(*text)));
  }
  return text;
}

// "name" or "prefix*": what the kernel can match by hash or longest prefix.
Status name_pattern(const Scope& scope, std::string_view key, const toml::node& node,
                    size_t max, std::vector<std::string>& out) {
  auto text = element_string(scope, key, node, "a name string");
  if (!text) {
    return text.error();
  }
  std::string_view literal = *text;
  if (literal.ends_with('*')) {
    literal.remove_suffix(1);
  }
  if (literal.empty() || literal.find_first_of("*?[]\\") != std::string_view::npos) {
    return scope.key_error(node, key,
                           fmt::format("{}: the kernel matches a name exactly or by its start: "
                                       "write 'name' or 'prefix*' (a non-empty prefix)",
                                       show(*text)));
  }
  if (literal.size() > max) {
    return scope.key_error(node, key,
                           fmt::format("{} is longer than {} characters and can never match (the "
                                       "kernel keeps only the first {})",
                                       show(*text), max, max));
  }
  out.emplace_back(*text);
  return {};
}

Status agent_path(const Scope& scope, std::string_view key, const toml::node& node,
                  AgentDecl& a) {
  auto text = element_string(scope, key, node, "an absolute path string");
  if (!text) {
    return text.error();
  }
  if (text->front() != '/') {
    return scope.key_error(node, key, fmt::format("{} does not start with '/'", show(*text)));
  }
  if (auto re = glob_to_regex(*text); !re) {
    return scope.key_error(node, key, re.error().message);
  }
  if (!is_glob(*text)) {
    a.paths.push_back(glob_literal_prefix(*text));
    return {};
  }
  if (text->find("**") != std::string_view::npos) {
    return scope.key_error(
        node, key,
        fmt::format("{}: agent paths are expanded when the rules are loaded, and '**' would "
                    "search whole trees; name the directories (e.g. '/opt/*/bin/agent', or "
                    "'/opt/agent/versions/*' for every file in a directory)",
                    show(*text)));
  }
  a.path_globs.emplace_back(*text);
  return {};
}

Status agent(const toml::node& node, size_t number, std::string_view origin,
             Declarations& d) {
  Scope scope(origin, fmt::format("agent #{}: ", number));
  const auto* table = node.as_table();
  if (table == nullptr) {
    return scope.at(node.source(), fmt::format("expected a table ([[agent]]), got {}",
                                               type_name(node.type())));
  }
  AgentDecl a;
  a.where = scope.where(table->source());
  const toml::node* name = table->get("name");
  if (name == nullptr) {
    return scope.at(table->source(), "missing required key 'name'");
  }
  auto name_text = get_string(scope, "name", *name, "a string");
  if (!name_text) {
    return name_text.error();
  }
  if (!valid_name(*name_text, kMaxAgentName)) {
    return scope.key_error(*name, "name",
                           fmt::format("{} is not a valid agent name (1 to {} characters from "
                                       "A-Z a-z 0-9 . _ -, starting with a letter or digit)",
                                       show(*name_text), kMaxAgentName));
  }
  a.name = *name_text;
  for (const AgentDecl& other : d.agents) {
    if (other.name == a.name) {
      return scope.key_error(*name, "name",
                             fmt::format("agent '{}' is already declared at {}", a.name,
                                         format_location(other.where)));
    }
  }
  scope.set_prefix(fmt::format("agent '{}': ", a.name));
  for (const auto& [key, value] : in_file_order(*table)) {
    const std::string_view k = key->str();
    if (k == "name") {
      continue;
    }
    if (k == "description") {
      auto text = get_string(scope, k, *value, "a string");
      if (!text) {
        return text.error();
      }
      a.description = *text;
      continue;
    }
    if (k != "path" && k != "comm" && k != "unit") {
      return scope.at(key->source(),
                      fmt::format("unknown key {} (valid keys: {})", show(k), kAgentKeys));
    }
    std::vector<const toml::node*> elements;
    if (auto s = expand_values(scope, k, *value, d, elements); !s) {
      return s;
    }
    for (const toml::node* e : elements) {
      Status s = k == "path"   ? agent_path(scope, k, *e, a)
                 : k == "comm" ? name_pattern(scope, k, *e, kMaxCommLength, a.comms)
                               : name_pattern(scope, k, *e, kMaxUnitLength, a.units);
      if (!s) {
        return s;
      }
    }
  }
  if (a.paths.empty() && a.path_globs.empty() && a.comms.empty() && a.units.empty()) {
    return scope.at(table->source(),
                    "says nothing that marks a process as this agent: give a path, comm or unit");
  }
  if (d.agents.size() == kMaxAgents) {
    return scope.at(table->source(),
                    fmt::format("more than {} agents are declared", kMaxAgents));
  }
  a.bit = static_cast<uint32_t>(d.agents.size());
  d.agents.push_back(std::move(a));
  return {};
}

}  // namespace

Result<toml::table> parse_toml(std::string_view toml_text, std::string_view origin) {
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
  return std::move(parsed).table();
}

Status read_lists(const toml::table& root, std::string_view origin, Declarations& d) {
  const toml::node* lists = root.get("lists");
  if (lists == nullptr) {
    return {};
  }
  const Scope scope(origin, "");
  const auto* table = lists->as_table();
  if (table == nullptr) {
    return scope.wrong_type(*lists, "lists", "a table ([lists])");
  }
  for (const auto& [key, value] : in_file_order(*table)) {
    const std::string name(key->str());
    const Scope list_scope(origin, fmt::format("list '{}': ", name));
    if (!valid_name(name, kMaxListName)) {
      return scope.at(key->source(),
                      fmt::format("{} is not a valid list name (1 to {} characters from A-Z a-z "
                                  "0-9 . _ -, starting with a letter or digit)",
                                  show(name), kMaxListName));
    }
    if (auto it = d.lists.find(name); it != d.lists.end()) {
      return scope.at(key->source(), fmt::format("list '{}' is already declared at {}", name,
                                                 format_location(it->second.where)));
    }
    const auto* array = value->as_array();
    if (array == nullptr) {
      return list_scope.at(value->source(),
                           fmt::format("expected an array, got {}", type_name(value->type())));
    }
    if (array->empty()) {
      return list_scope.at(value->source(), "empty list");
    }
    if (array->size() > kMaxListElements) {
      return list_scope.at(value->source(), fmt::format("{} elements; at most {} are allowed",
                                                        array->size(), kMaxListElements));
    }
    for (const toml::node& e : *array) {
      if (!e.is_string() && !e.is_integer()) {
        return list_scope.at(e.source(), fmt::format("expected strings or integers, got {}",
                                                     type_name(e.type())));
      }
      if (e.is_string() && e.as_string()->get().starts_with('@')) {
        return list_scope.at(e.source(), "a list cannot name another list");
      }
    }
    d.lists.emplace(name, ListDecl{array, scope.where(key->source())});
  }
  return {};
}

Status read_agents(const toml::table& root, std::string_view origin, Declarations& d) {
  const toml::node* agents = root.get("agent");
  if (agents == nullptr) {
    return {};
  }
  const auto* array = agents->as_array();
  if (array == nullptr) {
    return Scope(origin, "").wrong_type(*agents, "agent", "an array of tables ([[agent]])");
  }
  size_t number = 0;
  for (const toml::node& node : *array) {
    if (auto s = agent(node, ++number, origin, d); !s) {
      return s;
    }
  }
  return {};
}

Status expand_values(const Scope& scope, std::string_view key, const toml::node& value,
                     const Declarations& d, std::vector<const toml::node*>& out) {
  const auto add = [&](const toml::node& e) -> Status {
    const auto* s = e.as_string();
    if (s == nullptr || !s->get().starts_with('@')) {
      out.push_back(&e);
      return {};
    }
    const std::string_view name = std::string_view(s->get()).substr(1);
    const auto it = d.lists.find(name);
    if (it == d.lists.end()) {
      return scope.key_error(
          e, key,
          fmt::format("unknown list {} ({}; a value that starts with '@' names a list)",
                      show(name),
                      d.lists.empty() ? "no [lists] are declared"
                                      : "declared lists: " + names_of(d.lists)));
    }
    for (const toml::node& v : *it->second.values) {
      out.push_back(&v);
    }
    return {};
  };
  if (const auto* array = value.as_array()) {
    if (array->empty()) {
      return scope.key_error(value, key, "empty list; omit the key to match any value");
    }
    for (const toml::node& e : *array) {
      if (auto s = add(e); !s) {
        return s;
      }
    }
  } else if (auto s = add(value); !s) {
    return s;
  }
  if (out.size() > kMaxListElements) {
    return scope.key_error(
        value, key,
        fmt::format("{} elements; at most {} are allowed", out.size(), kMaxListElements));
  }
  return {};
}

}  // namespace cmdgate::rules
