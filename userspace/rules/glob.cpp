#include "rules/glob.h"

#include <re2/re2.h>

#include "common/display_text.h"
#include "rules/regex_options.h"

namespace cmdgate::rules {
namespace {

bool is_meta(char c) {
  return c == '*' || c == '?' || c == '[';
}

// Quoted literals, '*', '**' and '?' translate to RE2 that always compiles; longer globs than
// this are compiled anyway, in case RE2's memory budget refuses them.
constexpr size_t kAlwaysCompilesUpTo = 4096;

Error lone_backslash(std::string_view glob) {
  return Error::format("glob {} ends with a lone backslash", quoted_value(glob));
}

}  // namespace

bool is_glob(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (is_meta(text[i])) {
      return true;
    }
  }
  return false;
}

Result<std::string> glob_to_regex(std::string_view glob) {
  std::string re = "^";
  bool has_class = false;  // copied from the glob, so RE2 may refuse it: a reversed range
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '\\') {
      if (i + 1 == glob.size()) {
        return lone_backslash(glob);
      }
      re += RE2::QuoteMeta(std::string_view(&glob[++i], 1));
    } else if (c == '*') {
      if (i + 1 < glob.size() && glob[i + 1] == '*') {
        re += ".*";
        ++i;
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '[') {
      has_class = true;
      size_t j = i + 1;
      std::string cls = "[";
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
        cls += '^';
        ++j;
      }
      const size_t body = j;
      for (; j < glob.size() && (glob[j] != ']' || j == body); ++j) {
        const char k = glob[j];
        if (k == '\\' || k == '[' || k == '^') {
          cls += '\\';
        }
        cls += k;
      }
      if (j >= glob.size()) {
        return Error::format("glob {}: '[' at offset {} is never closed", quoted_value(glob), i);
      }
      cls += ']';
      re += cls;
      i = j;
    } else {
      re += RE2::QuoteMeta(std::string_view(&glob[i], 1));
    }
  }
  re += "$";
  if (has_class || glob.size() > kAlwaysCompilesUpTo) {
    const RE2 check(re, re2_options(PatternFlavor::kGlob));  // as the policy compiles it
    if (!check.ok()) {
      return Error::format("glob {}: {}", quoted_value(glob), check.error());
    }
  }
  return re;
}

std::string glob_literal_prefix(std::string_view glob) {
  std::string out;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\' && i + 1 < glob.size()) {
      out += glob[++i];
    } else if (is_meta(glob[i])) {
      break;
    } else {
      out += glob[i];
    }
  }
  return out;
}

Result<std::string> glob_literal(std::string_view glob) {
  std::string out = glob_literal_prefix(glob);
  size_t backslashes = 0;
  while (backslashes < glob.size() && glob[glob.size() - 1 - backslashes] == '\\') {
    ++backslashes;
  }
  if (backslashes % 2 == 1) {
    return lone_backslash(glob);
  }
  return out;
}

bool glob_is_pure_prefix(std::string_view glob) {
  if (glob.size() < 2 || glob.substr(glob.size() - 2) != "**") {
    return false;
  }
  const std::string_view literal = glob.substr(0, glob.size() - 2);
  size_t backslashes = 0;
  while (backslashes < literal.size() && literal[literal.size() - 1 - backslashes] == '\\') {
    ++backslashes;
  }
  return backslashes % 2 == 0 && !is_glob(literal);
}

}  // namespace cmdgate::rules
