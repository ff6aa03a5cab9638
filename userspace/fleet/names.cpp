#include "fleet/names.h"

namespace cmdgate::fleet {
namespace {

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool alnum(char c) {
  return name_char(c) && c != '.' && c != '_' && c != '-';
}

Status check_chars(std::string_view name, std::string_view what, size_t max) {
  if (name.empty() || name.size() > max) {
    return Error::format("{} '{}': must be 1 to {} characters", what, name, max);
  }
  if (!alnum(name.front())) {
    return Error::format("{} '{}': must start with a letter or digit", what, name);
  }
  for (char c : name) {
    if (!name_char(c)) {
      return Error::format("{} '{}': only letters, digits, '.', '_' and '-' are allowed", what,
                           name);
    }
  }
  return {};
}

}  // namespace

Status check_name(std::string_view name, std::string_view what) {
  return check_chars(name, what, 64);
}

Status check_rule_file_name(std::string_view name) {
  if (auto s = check_chars(name, "rule file name", 128); !s) {
    return s;
  }
  constexpr std::string_view kSuffix = ".toml";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return Error::format("rule file name '{}': must end in .toml", name);
  }
  return {};
}

std::string rules_topic(std::string_view group) {
  return std::string(kRulesTopicPrefix) + std::string(group);
}

std::string status_topic(std::string_view host) {
  return std::string(kStatusTopicPrefix) + std::string(host);
}

}  // namespace cmdgate::fleet
