// [lists] and [[agent]]: read from every loaded file before any rule, since a rule may use what
// another file declares.

#include <toml++/toml.h>

#include <algorithm>

#include "rules/document.h"
#include "rules/glob.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kMaxListName = 64;
constexpr size_t kMaxAgentName = 31;   // CG_AGENT_NAME_MAX - 1
constexpr size_t kMaxAgents = 64;      // CG_AGENT_BITS
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

// "name" or "prefix*": what the kernel can match by hash or longest prefix.
Status name_pattern(const TomlValue& value, size_t max, std::vector<std::string>& out) {
  auto text = value.nonempty_string("a name string");
  if (!text) {
    return text.error();
  }
  std::string_view literal = *text;
  if (literal.ends_with('*')) {
    literal.remove_suffix(1);
  }
  if (literal.empty() || literal.find_first_of("*?[]\\") != std::string_view::npos) {
    return value.error(
        fmt::format("{}: the kernel matches a name exactly or by its start: write "
                    "'name' or 'prefix*' (a non-empty prefix)",
                    quoted_value(*text)));
  }
  if (literal.size() > max) {
    return value.error(
        fmt::format("{} is longer than {} characters and can never match (the "
                    "kernel keeps only the first {})",
                    quoted_value(*text), max, max));
  }
  out.emplace_back(*text);
  return {};
}

Status agent_path(const TomlValue& value, AgentDecl& a) {
  auto text = value.nonempty_string("an absolute path string");
  if (!text) {
    return text.error();
  }
  if (text->front() != '/') {
    return value.error(fmt::format("{} does not start with '/'", quoted_value(*text)));
  }
  if (auto re = glob_to_regex(*text); !re) {
    return value.error(re.error().message);
  }
  if (!is_glob(*text)) {
    a.paths.push_back(glob_literal_prefix(*text));
    return {};
  }
  if (text->find("**") != std::string_view::npos) {
    return value.error(
        fmt::format("{}: agent paths are expanded when the rules are loaded, and '**' would "
                    "search whole trees; name the directories (e.g. '/opt/*/bin/agent', or "
                    "'/opt/agent/versions/*' for every file in a directory)",
                    quoted_value(*text)));
  }
  a.path_globs.emplace_back(*text);
  return {};
}

// The keys that say which processes are the agent.
Status agent_key(const TomlValue& value, const Declarations& d, AgentDecl& a) {
  auto elements = expand_values(value, d);
  if (!elements) {
    return elements.error();
  }
  for (const TomlValue& e : *elements) {
    Status s = value.key() == "path"   ? agent_path(e, a)
               : value.key() == "comm" ? name_pattern(e, kMaxCommLength, a.comms)
                                       : name_pattern(e, kMaxUnitLength, a.units);
    if (!s) {
      return s;
    }
  }
  return {};
}

Status agent(const toml::node& node, size_t number, std::string_view origin, Declarations& d) {
  TomlReader reader(origin, fmt::format("agent #{}: ", number));
  const auto* table = node.as_table();
  if (table == nullptr) {
    return reader.at(node.source(),
                     fmt::format("expected a table ([[agent]]), got {}", type_name(node.type())));
  }
  AgentDecl a;
  a.where = reader.where(table->source());
  const toml::node* name_node = table->get("name");
  if (name_node == nullptr) {
    return reader.at(table->source(), "missing required key 'name'");
  }
  const TomlValue name = reader.value("name", *name_node);
  auto name_text = name.string();
  if (!name_text) {
    return name_text.error();
  }
  if (!valid_name(*name_text, kMaxAgentName)) {
    return name.error(
        fmt::format("{} is not a valid agent name (1 to {} characters from A-Z a-z "
                    "0-9 . _ -, starting with a letter or digit)",
                    quoted_value(*name_text), kMaxAgentName));
  }
  a.name = *name_text;
  for (const AgentDecl& other : d.agents) {
    if (other.name == a.name) {
      return name.error(fmt::format("agent '{}' is already declared at {}", a.name,
                                    format_location(other.where)));
    }
  }
  reader.set_context(fmt::format("agent '{}': ", a.name));
  for (const auto& [key, node_of_key] : in_file_order(*table)) {
    const TomlValue value = reader.value(key->str(), *node_of_key);
    if (value.key() == "name") {
      continue;
    }
    if (value.key() == "description") {
      auto text = value.string();
      if (!text) {
        return text.error();
      }
      a.description = *text;
      continue;
    }
    if (value.key() != "path" && value.key() != "comm" && value.key() != "unit") {
      return reader.unknown_key(*key, kAgentKeys);
    }
    if (auto s = agent_key(value, d, a); !s) {
      return s;
    }
  }
  if (a.paths.empty() && a.path_globs.empty() && a.comms.empty() && a.units.empty()) {
    return reader.at(table->source(),
                     "says nothing that marks a process as this agent: give a path, comm or unit");
  }
  if (d.agents.size() == kMaxAgents) {
    return reader.at(table->source(), fmt::format("more than {} agents are declared", kMaxAgents));
  }
  a.bit = static_cast<uint32_t>(d.agents.size());
  d.agents.push_back(std::move(a));
  return {};
}

}  // namespace

Status read_lists(const toml::table& root, std::string_view origin, Declarations& d) {
  const toml::node* lists = root.get("lists");
  if (lists == nullptr) {
    return {};
  }
  const TomlReader reader(origin);
  auto table = reader.value("lists", *lists).table();
  if (!table) {
    return table.error();
  }
  for (const auto& [key, value] : in_file_order(**table)) {
    const std::string name(key->str());
    const TomlReader list_reader(origin, fmt::format("list '{}': ", name));
    if (!valid_name(name, kMaxListName)) {
      return reader.at(key->source(),
                       fmt::format("{} is not a valid list name (1 to {} characters from A-Z a-z "
                                   "0-9 . _ -, starting with a letter or digit)",
                                   quoted_value(name), kMaxListName));
    }
    if (auto it = d.lists.find(name); it != d.lists.end()) {
      return reader.at(key->source(), fmt::format("list '{}' is already declared at {}", name,
                                                  format_location(it->second.where)));
    }
    const auto* array = value->as_array();
    if (array == nullptr) {
      return list_reader.at(value->source(),
                            fmt::format("expected an array, got {}", type_name(value->type())));
    }
    if (array->empty()) {
      return list_reader.at(value->source(), "empty list");
    }
    if (array->size() > kMaxListElements) {
      return list_reader.at(value->source(), fmt::format("{} elements; at most {} are allowed",
                                                         array->size(), kMaxListElements));
    }
    for (const toml::node& e : *array) {
      if (!e.is_string() && !e.is_integer()) {
        return list_reader.at(
            e.source(), fmt::format("expected strings or integers, got {}", type_name(e.type())));
      }
      if (e.is_string() && e.as_string()->get().starts_with('@')) {
        return list_reader.at(e.source(), "a list cannot name another list");
      }
    }
    d.lists.emplace(name, ListDecl{array, reader.where(key->source())});
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
    const TomlReader reader(origin);
    return reader.value("agent", *agents).wrong_type("an array of tables ([[agent]])");
  }
  size_t number = 0;
  for (const toml::node& node : *array) {
    if (auto s = agent(node, ++number, origin, d); !s) {
      return s;
    }
  }
  return {};
}

Result<std::vector<TomlValue>> expand_values(const TomlValue& value, const Declarations& d) {
  std::vector<TomlValue> out;
  const auto add = [&](const toml::node& e) -> Status {
    const TomlValue element = value.element(e);
    const auto* s = e.as_string();
    if (s == nullptr || !s->get().starts_with('@')) {
      out.push_back(element);
      return {};
    }
    const std::string_view name = std::string_view(s->get()).substr(1);
    const auto it = d.lists.find(name);
    if (it == d.lists.end()) {
      return element.error(fmt::format(
          "unknown list {} ({}; a value that starts with '@' names a list)", quoted_value(name),
          d.lists.empty() ? "no [lists] are declared" : "declared lists: " + names_of(d.lists)));
    }
    for (const toml::node& v : *it->second.values) {
      out.push_back(value.element(v));
    }
    return {};
  };
  if (const auto* array = value.node().as_array()) {
    if (array->empty()) {
      return value.error("empty list; omit the key to match any value");
    }
    for (const toml::node& e : *array) {
      if (auto s = add(e); !s) {
        return s.error();
      }
    }
  } else if (auto s = add(value.node()); !s) {
    return s.error();
  }
  if (out.size() > kMaxListElements) {
    return value.error(
        fmt::format("{} elements; at most {} are allowed", out.size(), kMaxListElements));
  }
  return out;
}

}  // namespace cmdgate::rules
