// Judging every exec of one command; see line_verdict.h.

#include "rules/line_verdict.h"

namespace cmdgate::rules {
namespace {

constexpr size_t kRecordedAncestors = 8;  // what the kernel records at fork time

std::string base_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1).substr(0, 15);  // comm: 15 characters
}

// Everything one evaluation points to, owned.
struct Facts {
  std::string path;
  FileId file;
  std::optional<Sha256> sha256;
  std::vector<std::string_view> argv;
  std::string cmdline;
  std::vector<std::pair<std::string, std::string>> lineage;
  std::vector<AncestorView> views;
};

Decision evaluate(const Policy& policy, const ExecHost& host, const CallerFacts& caller,
                  const ExecTrace& trace, const TracedExec& t, const std::string& file) {
  Facts f;
  f.path = host.canonical(file);
  f.file = host.identity(f.path).value_or(FileId{});
  uint32_t unknown = t.unknown;
  if (policy.needs() & kNeedSha256) {
    f.sha256 = host.sha256(f.path);
    unknown |= f.sha256 ? 0u : kUnknownSha256;
  }
  // Only the daemon verifies files against the package database.
  if (policy.needs() & kNeedTrust) {
    unknown |= kUnknownTrust;
  }
  f.argv.assign(t.argv.begin(), t.argv.end());
  for (size_t i = 0; i < t.argv.size(); ++i) {
    f.cmdline += (i ? " " : "") + t.argv[i];
  }
  // The execs that start this one (nearest first), then the caller's own ancestors. A process's
  // comm is the base name of the file it exec'd, its executable the file that runs (for a
  // script, its interpreter).
  for (int p = t.parent; p >= 0; p = trace.execs[static_cast<size_t>(p)].parent) {
    const TracedExec& e = trace.execs[static_cast<size_t>(p)];
    f.lineage.emplace_back(base_name(e.script.empty() ? e.path : e.script),
                           host.canonical(e.path));
  }
  f.lineage.insert(f.lineage.end(), caller.lineage.begin(), caller.lineage.end());
  f.lineage.resize(std::min(f.lineage.size(), kRecordedAncestors));
  for (const auto& [comm, exe] : f.lineage) {
    f.views.push_back({0, comm, exe, host.identity(exe).value_or(FileId{})});
  }
  ExecContext c;
  c.path = f.path;
  c.file = f.file;
  c.sha256 = f.sha256 ? &*f.sha256 : nullptr;
  c.argv = f.argv;
  c.cmdline = f.cmdline;
  c.uid = t.uid.value_or(caller.uid);
  c.gid = t.uid ? *t.uid : caller.gid;  // sudo: root's group
  c.groups = caller.groups;
  c.lineage = f.views;
  c.tty = caller.tty;
  c.cgroup = caller.cgroup;
  c.agents = caller.agents;
  c.unknown = unknown;
  return policy.evaluate(c);
}

}  // namespace

LineVerdict judge_command(const Policy& policy, const ExecHost& host, const CallerFacts& caller,
                          const std::vector<std::string>& argv, const ShellEnv& env) {
  LineVerdict v;
  v.trace = trace_execs(host, argv, env);
  for (const TracedExec& t : v.trace.execs) {
    JudgedExec j;
    const Decision image = evaluate(policy, host, caller, v.trace, t, t.path);
    if (t.script.empty()) {
      j.file = host.canonical(t.path);
      j.decision = image;
    } else {
      j.file = host.canonical(t.script);
      j.interpreter = host.canonical(t.path);
      j.interpreter_decision = image;
      j.decision = combine_script(evaluate(policy, host, caller, v.trace, t, t.script), image);
    }
    if (v.deciding < 0 || j.decision.strictness() > v.decision.strictness()) {
      v.decision = j.decision;
      v.deciding = static_cast<int>(v.judged.size());
    }
    v.judged.push_back(std::move(j));
  }
  return v;
}

}  // namespace cmdgate::rules
