#pragma once
// A shipped pack loaded as the daemon loads it (default.toml first), and the context the daemon
// would build for a command run on this host below given ancestors.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <sstream>

#include <re2/re2.h>

#include "../rules/policy_test_util.h"
#include "rules/glob.h"
#include "rules/kernel_model.h"
#include "rules/kernel_verdicts.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate::rules {

using testing::OwnedAncestor;
using testing::OwnedContext;

inline const std::string kRules = std::string(CMDGATE_SOURCE_DIR) + "/rules/";

// Where the command would be found by a service, not by this shell (no ~/.pyenv shims).
inline std::string which(const std::string& cmd) {
  if (cmd.front() == '/') {
    return cmd;
  }
  std::stringstream dirs("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (::access((dir + "/" + cmd).c_str(), X_OK) == 0) {
      return dir + "/" + cmd;
    }
  }
  return "";
}

struct Case {
  std::vector<std::string> argv;
  // Nearest first. "/..." is an executable path (comm: its base name); a bare name is a comm
  // whose executable lives somewhere no rule names.
  std::vector<std::string> ancestors;
  const char* rule;  // nullptr: no rule, default_action decides
};

inline std::ostream& operator<<(std::ostream& os, const Case& c) {
  for (const auto& a : c.ancestors) {
    os << a << " > ";
  }
  for (const auto& a : c.argv) {
    os << a << ' ';
  }
  return os;
}

class Pack {
 public:
  explicit Pack(const std::string& name) {
    SystemNameResolver names;
    auto set = load_rules({kRules + "default.toml", kRules + name}, names);
    EXPECT_TRUE(set.ok()) << set.error().message;
    auto compiled = Policy::compile(std::move(*set), SystemFileResolver());
    EXPECT_TRUE(compiled.ok()) << compiled.error().message;
    policy_ = *compiled;
    verdicts_ = std::make_unique<KernelVerdicts>(*policy_);
    kernel_ = verdicts_->policy();
  }

  // The label the kernel would give a process below these ancestors: the bit of every declared
  // agent one of them is, by command name ("prefix*" too) or by executable path.
  static uint64_t label(const RuleSet& set, const std::vector<std::string>& ancestors) {
    uint64_t bits = 0;
    for (const AgentDecl& a : set.agents) {
      for (const std::string& anc : ancestors) {
        const std::string comm = anc.front() == '/' ? anc.substr(anc.rfind('/') + 1, 15) : anc;
        bool is = false;
        for (const std::string& c : a.comms) {
          is = is || (c.ends_with('*') ? comm.starts_with(c.substr(0, c.size() - 1)) : comm == c);
        }
        for (const std::string& g : a.path_globs) {
          is = is || (anc.front() == '/' && RE2::FullMatch(anc, RE2(*glob_to_regex(g))));
        }
        bits |= is ? uint64_t{1} << a.bit : 0;
      }
    }
    return bits;
  }

  // The context the daemon would build for this command; empty path when it is not installed.
  OwnedContext context(const Case& c) const {
    OwnedContext ctx;
    const std::string found = which(c.argv.front());
    char buf[PATH_MAX];
    ctx.path = !found.empty() && ::realpath(found.c_str(), buf) != nullptr ? buf : "";
    struct stat st {};
    if (!ctx.path.empty() && ::stat(ctx.path.c_str(), &st) == 0) {
      ctx.file = {st.st_dev, st.st_ino};
    }
    ctx.argv = c.argv;
    for (const auto& a : c.ancestors) {
      ctx.lineage.push_back(a.front() == '/' ? OwnedAncestor{a.substr(a.rfind('/') + 1, 15), a}
                                             : OwnedAncestor{a, "/opt/elsewhere/" + a});
    }
    ctx.agents = label(policy_->rule_set(), c.ancestors);
    return ctx;
  }

  const Policy& policy() const { return *policy_; }

  void expect(const Case& c) const {
    OwnedContext ctx = context(c);
    ASSERT_FALSE(ctx.path.empty()) << c.argv.front() << " is not installed (scripts/deps)";
    const Decision d = policy_->evaluate(ctx.view());
    const std::string got = d.rule != nullptr ? d.rule->id : "(none)";
    EXPECT_EQ(got, c.rule != nullptr ? c.rule : "(none)") << c;
  }

  // What the kernel decides alone for cmd, run by a process with or without an agent label.
  KernelVerdict kernel(const std::string& cmd, bool labelled = false) const {
    OwnedContext ctx = context({{cmd}, {}, nullptr});
    KernelFacts facts;
    facts.file = ctx.file;
    facts.path = ctx.path;
    facts.labelled = labelled;
    return simulate_kernel(kernel_, facts);
  }

  // The same once the daemon has judged cmd and the kernel has learned its verdicts.
  KernelVerdict learned_kernel(const std::string& cmd, bool labelled) const {
    OwnedContext ctx = context({{cmd}, {}, nullptr});
    KernelFacts facts;
    facts.file = ctx.file;
    facts.path = ctx.path;
    facts.labelled = labelled;
    facts.learned = verdicts_->learned(ctx.file, nullptr);
    return simulate_kernel(kernel_, facts);
  }

 private:
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<KernelVerdicts> verdicts_;
  KernelPolicy kernel_;
};

}  // namespace cmdgate::rules
