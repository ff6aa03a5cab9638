#include "declared_host.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../rules/policy_test_util.h"

namespace cmdgate::rules::testing {

DeclaredHost::DeclaredHost(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file << ": cannot be read";
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line.starts_with('#')) {
      continue;
    }
    const std::string path = line.substr(0, line.find(' '));
    const std::string rest = path.size() < line.size() ? line.substr(path.size() + 1) : "";
    Entry e;
    e.ino = number;
    if (rest.starts_with("-> ")) {
      e.link = rest.substr(3);
    } else if (rest.starts_with("#!")) {
      e.shebang = rest;
    } else {
      EXPECT_TRUE(rest.empty()) << file << ":" << number << ": expected PATH, PATH -> TARGET "
                                << "or PATH #!LINE, got '" << line << "'";
    }
    EXPECT_TRUE(path.starts_with('/') && !entries_.contains(path))
        << file << ":" << number << ": '" << path << "' is not absolute or is declared twice";
    entries_[path] = e;
  }
}

std::optional<std::string> DeclaredHost::resolve(const std::string& path) const {
  std::string done;  // resolved so far, without links
  std::string todo = path;
  for (int links = 0; links < 40;) {
    if (todo.empty()) {
      return done.empty() ? "/" : done;
    }
    const size_t slash = todo.find('/', 1);
    const std::string part = todo.substr(1, slash == std::string::npos ? slash : slash - 1);
    todo = slash == std::string::npos ? "" : todo.substr(slash);
    const std::string next = join_path(done.empty() ? "/" : done, part);
    const auto it = entries_.find(next);
    if (it != entries_.end() && !it->second.link.empty()) {
      ++links;
      todo = join_path(done.empty() ? "/" : done, it->second.link) + todo;
      done.clear();
      continue;
    }
    done = next;
  }
  return std::nullopt;
}

std::string DeclaredHost::canonical(const std::string& path) const {
  const auto r = resolve(path);
  return r && entries_.contains(*r) ? *r : path;
}

std::optional<FileId> DeclaredHost::identity(const std::string& path) const {
  const auto r = resolve(path);
  const auto it = r ? entries_.find(*r) : entries_.end();
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return FileId{0xdec1a4ed, it->second.ino};
}

bool DeclaredHost::executable(const std::string& path) const { return identity(path).has_value(); }

std::optional<std::string> DeclaredHost::shebang_line(const std::string& path) const {
  const auto r = resolve(path);
  const auto it = r ? entries_.find(*r) : entries_.end();
  if (it == entries_.end() || it->second.shebang.empty()) {
    return std::nullopt;
  }
  return it->second.shebang;
}

std::vector<std::string> DeclaredHost::expand(const std::string& glob) const {
  return paths_matching(entries_, glob);
}

}  // namespace cmdgate::rules::testing
