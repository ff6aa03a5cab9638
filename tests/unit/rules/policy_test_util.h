#pragma once
// Helpers for policy tests: contexts that own their storage, and a resolver without a file
// system.

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "rules/exec_context.h"
#include "rules/glob.h"
#include "rules/pattern_matcher.h"
#include "rules/policy.h"

namespace cmdgate::rules::testing {

struct OwnedAncestor {
  std::string comm;
  std::string exe_path;
};

// An ExecContext with storage. view() must be called again after any change.
struct OwnedContext {
  std::string path = "/usr/bin/true";
  FileId file{1, 1};
  std::optional<Sha256> sha256;
  uint8_t file_kinds = 0;
  uint8_t trust = 0;  // Trust bits
  std::vector<std::string> argv{"true"};
  std::optional<std::string> cmdline;  // default: argv joined by spaces
  uint32_t uid = 1000;
  uint32_t gid = 1000;
  std::vector<uint32_t> groups;
  std::vector<OwnedAncestor> lineage;
  bool tty = false;
  std::string cgroup = "/user.slice";
  uint64_t agents = 0;   // label bits
  uint32_t unknown = 0;  // Unknown bits

  const ExecContext& view() {
    argv_views_.assign(argv.begin(), argv.end());
    if (!cmdline) {
      joined_.clear();
      for (size_t i = 0; i < argv.size(); ++i) {
        joined_ += (i == 0 ? "" : " ") + argv[i];
      }
    }
    lineage_views_.clear();
    for (size_t i = 0; i < lineage.size(); ++i) {
      lineage_views_.push_back(
          {static_cast<uint32_t>(100 + i), lineage[i].comm, lineage[i].exe_path, FileId{9, i}});
    }
    ctx_ = ExecContext{};
    ctx_.path = path;
    ctx_.file = file;
    ctx_.sha256 = sha256 ? &*sha256 : nullptr;
    ctx_.file_kinds = file_kinds;
    ctx_.trust = trust;
    ctx_.argv = argv_views_;
    ctx_.cmdline = cmdline ? *cmdline : joined_;
    ctx_.uid = uid;
    ctx_.gid = gid;
    ctx_.groups = groups;
    ctx_.lineage = lineage_views_;
    ctx_.tty = tty;
    ctx_.cgroup = cgroup;
    ctx_.agents = agents;
    ctx_.unknown = unknown;
    return ctx_;
  }

 private:
  std::vector<std::string_view> argv_views_;
  std::string joined_;
  std::vector<AncestorView> lineage_views_;
  ExecContext ctx_;
};

// The keys of `entries` (paths) that `glob` matches, component-wise as glob(3) would: how a
// described file system answers FileResolver::expand.
template <typename Map>
std::vector<std::string> paths_matching(const Map& entries, const std::string& glob) {
  std::vector<std::string> out;
  auto re = glob_to_regex(glob);
  if (!re.ok()) {
    return out;
  }
  const RE2 matcher(*re);
  for (const auto& [path, entry] : entries) {
    if (RE2::FullMatch(path, matcher)) {
      out.push_back(path);
    }
  }
  return out;
}

// Paths it knows resolve to the given identity and canonical path; others do not exist.
class FakeResolver final : public FileResolver {
 public:
  struct Entry {
    std::optional<FileId> id;
    std::string canonical;
  };
  void add(const std::string& path, std::optional<FileId> id, std::string canonical = {}) {
    entries_[path] = {id, canonical.empty() ? path : std::move(canonical)};
  }
  std::optional<FileId> identity(const std::string& path) const override {
    auto it = entries_.find(path);
    return it == entries_.end() ? std::nullopt : it->second.id;
  }
  std::string canonical(const std::string& path) const override {
    auto it = entries_.find(path);
    return it == entries_.end() ? path : it->second.canonical;
  }
  std::vector<std::string> expand(const std::string& glob) const override {
    return paths_matching(entries_, glob);
  }

 private:
  std::map<std::string, Entry> entries_;
};

// "file|argv" for a mask of Unknown bits, "none" for 0.
inline std::string unknown_names(uint32_t mask) {
  std::string out;
  for (uint32_t bit = 0; bit < kUnknownBitCount; ++bit) {
    if ((mask & (1u << bit)) != 0) {
      out += (out.empty() ? "" : "|") + std::string(to_string(static_cast<Unknown>(1u << bit)));
    }
  }
  return out.empty() ? "none" : out;
}

// The engines the engine-parameterised suites run. kHyperscanInChild forks, and under the
// sanitizers a child forked beside another thread (TSan runs one of its own) can wait forever on
// a lock of the sanitizer's allocator that the thread held at the fork; glibc's malloc, which
// the release build uses, takes its locks across fork(). So only the release build runs it.
inline std::vector<MatchEngine> engines_under_test() {
#ifdef CMDGATE_SANITIZED
  return {MatchEngine::kRe2, MatchEngine::kHyperscan};
#else
  return {MatchEngine::kRe2, MatchEngine::kHyperscan, MatchEngine::kHyperscanInChild};
#endif
}

// Test-name suffix for suites parameterised by engine.
inline std::string engine_name(const ::testing::TestParamInfo<MatchEngine>& param) {
  switch (param.param) {
    case MatchEngine::kRe2: return "Re2";
    case MatchEngine::kHyperscanInChild: return "HyperscanInChild";
    case MatchEngine::kAuto:
    case MatchEngine::kHyperscan: break;
  }
  return "Hyperscan";
}

inline Rule make_rule(std::string id, Action action, Match match) {
  Rule r;
  r.id = std::move(id);
  r.action = action;
  r.match = std::move(match);
  return r;
}

inline Sha256 sha_of(uint8_t seed) {
  Sha256 h{};
  for (size_t i = 0; i < h.size(); ++i) {
    h[i] = static_cast<uint8_t>(seed * 31 + i);
  }
  return h;
}

}  // namespace cmdgate::rules::testing
