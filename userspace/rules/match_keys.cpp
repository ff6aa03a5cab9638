#include "rules/match_keys.h"

#include <re2/re2.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "common/hex.h"
#include "rules/glob.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

// One element of a match key's value.
struct Element {
  TomlValue value;
  const NameResolver& names;
  const Declarations& declared;
};

using ElementParser = Status (*)(const Element&, Match&);

Status check_glob(const Element& e, std::string_view text) {
  auto regex = glob_to_regex(text);
  if (!regex) {
    return e.value.error(regex.error().message);
  }
  return {};
}

Result<std::string_view> absolute_text(const Element& e, std::string_view expected) {
  auto text = e.value.nonempty_string(expected);
  if (!text) {
    return text;
  }
  if (text->front() != '/') {
    return e.value.error(fmt::format("{} does not start with '/'", quoted_value(*text)));
  }
  return text;
}

Result<std::string_view> absolute_glob(const Element& e, std::string_view expected) {
  auto text = absolute_text(e, expected);
  if (!text) {
    return text;
  }
  if (auto ok = check_glob(e, *text); !ok) {
    return ok.error();
  }
  return text;
}

Status parse_path(const Element& e, Match& m) {
  auto text = absolute_text(e, "an absolute path string");
  if (!text) {
    return text.error();
  }
  if (is_glob(*text)) {
    if (auto ok = check_glob(e, *text); !ok) {
      return ok.error();
    }
    m.path_globs.emplace_back(*text);
    return {};
  }
  // An exact path is compared with the file's, never compiled: only its escapes can be wrong.
  auto literal = glob_literal(*text);
  if (!literal) {
    return e.value.error(literal.error().message);
  }
  m.paths.push_back(std::move(*literal));
  return {};
}

Status parse_sha256(const Element& e, Match& m) {
  auto text = e.value.nonempty_string("a SHA-256 digest string (64 hexadecimal digits)");
  if (!text) {
    return text.error();
  }
  if (text->size() != 2 * Sha256().size()) {
    return e.value.error(
        fmt::format("{} is not a SHA-256 digest: expected 64 hexadecimal digits, got {}",
                    quoted_value(*text), text->size()));
  }
  Sha256 digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    const int hi = hex_value((*text)[2 * i]);
    const int lo = hex_value((*text)[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return e.value.error(
          fmt::format("{} is not a SHA-256 digest: non-hexadecimal character at offset {}",
                      quoted_value(*text), hi < 0 ? 2 * i : 2 * i + 1));
    }
    digest[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  m.sha256.push_back(digest);
  return {};
}

Status parse_regex(const Element& e, PredicateList<std::string>& out) {
  auto text = e.value.nonempty_string("a regular expression string");
  if (!text) {
    return text.error();
  }
  if (text->size() > kMaxRegexBytes) {
    return e.value.error(
        fmt::format("regular expression {} is {} bytes long; at most {} are allowed",
                    quoted_value(*text), text->size(), kMaxRegexBytes));
  }
  // Validated exactly as the policy compiles it (bytes, not UTF-8: see regex_options.h).
  const RE2 regex(*text, re2_options(PatternFlavor::kRegex));
  if (!regex.ok()) {
    return e.value.error(
        fmt::format("invalid regular expression {}: {}", quoted_value(*text), regex.error()));
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
  if (const auto* integer = e.value.node().as_integer()) {
    const int64_t id = integer->get();
    // (uid_t)-1 means "no id" to the kernel; no process runs as it.
    if (id < 0 || id >= int64_t{std::numeric_limits<uint32_t>::max()}) {
      return e.value.error(fmt::format("{} id {} is out of range (0 to 4294967294)", kind, id));
    }
    return static_cast<uint32_t>(id);
  }
  auto name = e.value.nonempty_string(user ? "a user name or a numeric uid"
                                           : "a group name or a numeric gid");
  if (!name) {
    return name.error();
  }
  const std::string owned(*name);
  const auto id = user ? e.names.uid(owned) : e.names.gid(owned);
  if (!id) {
    const bool numeric =
        std::all_of(owned.begin(), owned.end(), [](char c) { return c >= '0' && c <= '9'; });
    return e.value.error(fmt::format(
        "unknown {} {}{}", kind, quoted_value(owned),
        numeric ? fmt::format(" (write numeric ids as integers: {} = {})", e.value.key(), owned)
                : ""));
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
  auto text = e.value.nonempty_string("an executable path or command name string");
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
    return e.value.error(fmt::format(
        "command name {} is longer than {} characters and can never match (the kernel keeps "
        "only the first {}); use an executable path starting with '/' or a shorter name",
        quoted_value(*text), kMaxCommLength, kMaxCommLength));
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
  auto kind = e.value.word(kFileKindWords);
  if (!kind) {
    return kind.error();
  }
  m.file_kinds |= *kind;
  return {};
}

Status parse_trust(const Element& e, Match& m) {
  auto source = e.value.word(kTrustWords);
  if (!source) {
    return source.error();
  }
  m.trust |= *source;
  return {};
}

// "*": every declared agent, in any loaded file.
Status parse_agent(const Element& e, Match& m) {
  auto text = e.value.nonempty_string("an agent name string, or \"*\" for any declared agent");
  if (!text) {
    return text.error();
  }
  const auto& agents = e.declared.agents;
  if (agents.empty()) {
    return e.value.error("no [[agent]] is declared in the loaded files");
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
    return e.value.error(
        fmt::format("unknown agent {} (declared agents: {})", quoted_value(*text), names));
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
    {"file", parse_file_kind},  {"agent", parse_agent},       {"trust", parse_trust},
};

const MatchKey* find_match_key(std::string_view key) {
  const auto* it = std::find_if(std::begin(kMatchKeys), std::end(kMatchKeys),
                                [key](const MatchKey& k) { return k.name == key; });
  return it == std::end(kMatchKeys) ? nullptr : it;
}

}  // namespace

bool is_match_key(std::string_view key) {
  return find_match_key(key) != nullptr;
}

Status read_match_key(const TomlValue& value, const NameResolver& names,
                      const Declarations& declared, Match& m) {
  const MatchKey* key = find_match_key(value.key());
  auto elements = expand_values(value, declared);
  if (!elements) {
    return elements.error();
  }
  for (const TomlValue& element : *elements) {
    if (auto ok = key->parse(Element{element, names, declared}, m); !ok) {
      return ok;
    }
  }
  return {};
}

}  // namespace cmdgate::rules
