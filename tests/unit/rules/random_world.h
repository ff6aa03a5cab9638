#pragma once
// A small random world for property tests: a few files (two hard-linked, one reached through a
// symlink, one replaced since compile time, one that does not exist) that random rule sets and
// random exec contexts both draw from, so that matches actually happen.

#include <re2/re2.h>

#include <algorithm>
#include <string>
#include <vector>

#include "policy_test_util.h"
#include "random_patterns.h"
#include "rules/model.h"
#include "rules/regex_options.h"

namespace cmdgate::rules::testing {

class World {
 public:
  explicit World(Random& rnd) : rnd_(rnd) {
    resolver_.add("/a/x", FileId{1, 1});
    resolver_.add("/b/x", FileId{1, 1});          // hard link of /a/x
    resolver_.add("/a/y", FileId{1, 2}, "/b/y");  // symlink to /b/y
    resolver_.add("/b/y", FileId{1, 2});
    resolver_.add("/a/b/x", FileId{1, 3});
    resolver_.add("/a/\xff", FileId{1, 4});
    resolver_.add("/b/z", FileId{1, 5}, "/b/z-1");  // to be replaced: contexts see {1, 6}
  }
  const FileResolver& resolver() const { return resolver_; }

  RuleSet rule_set() {
    RuleSet rs;
    for (uint32_t bit = 0; bit < kAgents.size(); ++bit) {
      rs.agents.push_back({.name = kAgents[bit], .comms = {kAgents[bit]}, .bit = bit});
    }
    rs.mode = rnd_.chance(0.3) ? Mode::kMonitor : Mode::kEnforce;
    rs.default_action = static_cast<Action>(rnd_.below(4));
    const size_t n = 1 + rnd_.below(60);
    for (size_t i = 0; i < n; ++i) {
      Rule r;
      r.id = "r" + std::to_string(i);
      r.action = static_cast<Action>(rnd_.below(4));
      if (rnd_.chance(0.3)) {
        r.mode = rnd_.chance(0.5) ? Mode::kMonitor : Mode::kEnforce;
      }
      do {
        r.match = match();
      } while (!r.match.has_file_predicate() && !r.match.has_context_predicate() &&
               rnd_.chance(0.8));
      rs.rules.push_back(std::move(r));
    }
    return rs;
  }

  OwnedContext context() {
    OwnedContext c;
    c.path = rnd_.chance(0.7) ? rnd_.pick(kPaths) : rnd_.path();
    c.file = rnd_.pick(kIds);
    if (rnd_.chance(0.6)) {
      c.sha256 = sha_of(static_cast<uint8_t>(rnd_.below(5)));
    }
    c.file_kinds = rnd_.chance(0.7) ? 0 : static_cast<uint8_t>(1 + rnd_.below(3));
    c.argv.clear();
    const size_t argc = rnd_.below(5);
    for (size_t i = 0; i < argc; ++i) {
      c.argv.push_back(rnd_.text(6));
    }
    if (rnd_.chance(0.1)) {
      c.cmdline = rnd_.text(12);
    }
    c.uid = static_cast<uint32_t>(rnd_.below(4));
    c.gid = static_cast<uint32_t>(rnd_.below(4));
    for (size_t i = rnd_.below(3); i > 0; --i) {
      c.groups.push_back(static_cast<uint32_t>(rnd_.below(5)));
    }
    for (size_t i = rnd_.below(4); i > 0; --i) {
      c.lineage.push_back({rnd_.pick(kComms), rnd_.pick(kExes)});
    }
    c.tty = rnd_.chance(0.5);
    c.cgroup = rnd_.pick(kCgroups);
    c.agents = rnd_.chance(0.5) ? 0 : rnd_.below(1u << kAgents.size());
    c.trust = rnd_.chance(0.5) ? kTrustPackage : 0;
    return c;
  }

 private:
  template <typename T, typename F>
  std::vector<T> some(F make) {
    std::vector<T> out;
    for (size_t i = 1 + rnd_.below(2); i > 0; --i) {
      out.push_back(make());
    }
    return out;
  }

  Match match() {
    Match m;
    auto str = [this](const std::vector<std::string>& pool) {
      return [this, &pool] { return rnd_.pick(pool); };
    };
    auto num = [this](size_t n) {
      return [this, n] { return static_cast<uint32_t>(rnd_.below(n)); };
    };
    auto proc = [this] {
      return rnd_.chance(0.5) ? ProcessPattern{rnd_.pick(kCommGlobs), false}
                              : ProcessPattern{rnd_.pick(kExeGlobs), true};
    };
    if (rnd_.chance(0.15))
      m.paths = some<std::string>(str(kRulePaths));
    if (rnd_.chance(0.2)) {
      m.path_globs =
          some<std::string>([this] { return rnd_.chance(0.5) ? rnd_.pick(kGlobs) : rnd_.glob(); });
    }
    if (rnd_.chance(0.1)) {
      m.sha256 = some<Sha256>([this] { return sha_of(static_cast<uint8_t>(rnd_.below(4))); });
    }
    if (rnd_.chance(0.08))
      m.file_kinds = static_cast<uint8_t>(1 + rnd_.below(3));
    if (rnd_.chance(0.03))
      m.trust = kTrustPackage;
    if (rnd_.chance(0.2))
      m.args = some<std::string>([this] { return valid_regex(); });
    if (rnd_.chance(0.1))
      m.cmdline = some<std::string>([this] { return valid_regex(); });
    if (rnd_.chance(0.15))
      m.uids = some<uint32_t>(num(3));
    if (rnd_.chance(0.1))
      m.gids = some<uint32_t>(num(4));
    if (rnd_.chance(0.1))
      m.parent = some<ProcessPattern>(proc);
    if (rnd_.chance(0.1))
      m.ancestor = some<ProcessPattern>(proc);
    if (rnd_.chance(0.08))
      m.tty = rnd_.chance(0.5);
    if (rnd_.chance(0.08))
      m.cgroup_globs = some<std::string>(str(kCgroupGlobs));
    if (rnd_.chance(0.25)) {
      std::vector<std::string> agents = some<std::string>(str(kAgents));
      std::sort(agents.begin(), agents.end());
      agents.erase(std::unique(agents.begin(), agents.end()), agents.end());
      m.agents = std::move(agents);
    }
    return m;
  }

  std::string valid_regex() {
    for (;;) {
      std::string p = rnd_.regex();
      if (RE2(p, re2_options(PatternFlavor::kRegex)).ok()) {
        return p;
      }
    }
  }

  Random& rnd_;
  FakeResolver resolver_;
  const std::vector<std::string> kPaths = {"/a/x", "/b/x",    "/a/y", "/b/y",   "/a/b/x",
                                           "/c",   "/a/\xff", "/b/z", "/b/z-1", "/a/x\n"};
  const std::vector<std::string> kRulePaths = {"/a/x", "/a/y", "/b/y", "/a/b/x", "/c", "/b/z"};
  const std::vector<FileId> kIds = {{1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 6}, {2, 9}};
  const std::vector<std::string> kGlobs = {"/a/*", "/*/x", "/**", "/b/**", "/a/?", "/[ab]/y"};
  const std::vector<std::string> kCommGlobs = {"sh", "ba*", "?sh", "*", "b[a-z]sh", "x"};
  const std::vector<std::string> kExeGlobs = {"/a/*", "/b/**", "/a/x", "/**", "/bin/*sh"};
  const std::vector<std::string> kComms = {"sh", "bash", "zsh", "x", "", "python3"};
  const std::vector<std::string> kExes = {"", "/a/x", "/b/y/z", "/bin/bash", "/bin/sh"};
  const std::vector<std::string> kCgroupGlobs = {"/s/*", "/u/**", "/s/a", "/*/a"};
  const std::vector<std::string> kCgroups = {"/s/a", "/s/b", "/u/x/y", "/", ""};
  const std::vector<std::string> kAgents = {"claude", "codex", "aider"};
};

}  // namespace cmdgate::rules::testing
