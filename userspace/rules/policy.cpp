// The free parts of policy.h: combining script decisions and the real file resolver.

#include "rules/policy.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/fuse_owner.h"

namespace cmdgate::rules {

Decision combine_script(const Decision& script, const Decision& interpreter) {
  return interpreter.effect() > script.effect() ? interpreter : script;
}

RulePaths::RulePaths(const std::vector<std::vector<ResolvedPath>>& by_rule) {
  begins_.reserve(by_rule.size() + 1);
  begins_.push_back(0);
  for (const std::vector<ResolvedPath>& paths : by_rule) {
    for (const ResolvedPath& p : paths) {
      paths_.emplace_back(p);
    }
    begins_.push_back(static_cast<uint32_t>(paths_.size()));
  }
}

RulePaths::RulePaths(std::vector<RulePath> all, const std::vector<uint32_t>& counts)
    : paths_(std::move(all)) {
  begins_.reserve(counts.size() + 1);
  begins_.push_back(0);
  for (const uint32_t n : counts) {
    // Never past the end, whatever the counts say (resolve_paths() checks that they add up).
    begins_.push_back(std::min(begins_.back() + n, static_cast<uint32_t>(paths_.size())));
  }
}

std::vector<ResolvedPath> FileResolver::resolve(std::vector<std::string> paths) const {
  std::vector<ResolvedPath> out;
  out.reserve(paths.size());
  for (std::string& path : paths) {
    std::string resolved = canonical(path);
    auto id = identity(path);
    out.push_back({std::move(path), std::move(resolved), id});
  }
  return out;
}

std::optional<FileId> SystemFileResolver::identity(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    // Refused, not absent: a FUSE mount for one user. The kernel sees its files all the same.
    if (errno != EACCES) {
      return std::nullopt;
    }
    auto owners = stat_as_fuse_owner(path);
    if (!owners) {
      return std::nullopt;
    }
    st = *owners;
  }
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

std::vector<std::string> SystemFileResolver::expand(const std::string& pattern) const {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      out.emplace_back(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

std::string SystemFileResolver::canonical(const std::string& path) const {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                       &std::free);
  return resolved != nullptr ? std::string(resolved.get()) : path;
}

}  // namespace cmdgate::rules
