// cmdgate explain --rules PATH -- CMD ARGS...: which rule would decide this command, and why,
// evaluated here without running it, without root and without BPF. Every program the command
// would exec is judged (bash -c lines, wrappers, scripts: rules/line_verdict.h), and the command
// is held when any of them is.

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/display_text.h"
#include "common/regular_file.h"
#include "common/source_location.h"
#include "rules/agent_match.h"
#include "rules/file_digest.h"
#include "rules/kernel_model.h"
#include "rules/kernel_verdicts.h"
#include "rules/line_verdict.h"
#include "rules/parser.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

struct ExplainOptions {
  std::vector<std::string> rules;
  std::vector<std::string> command;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::vector<std::string> ancestors;  // extra, nearest first, before the real chain
  std::vector<std::string> agents;     // runs under these declared agents ("*": all)
  std::optional<bool> tty;
  std::optional<std::string> cgroup;
  std::optional<std::string> expect;  // an action word (rules::kActionWords)
  bool json = false;
};

// The exit status when the verdict is not --expect's.
constexpr int kUnexpected = 5;

// Whether the command gets the expected action. A verdict that is not known (part of the
// command cannot be read) is never what anyone expected: it is held, whatever the rules say.
bool as_expected(const rules::LineVerdict& v, rules::Action expected) {
  return !v.unknown() && v.decision.action == expected;
}

// A /proc file of this process or an ancestor; empty when it cannot be read.
std::string read_text(const std::string& path) {
  return read_regular_file(path, 1u << 20).value_or("");
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The chain a command started from this shell would have: the shell (our parent) upwards, as
// (comm, executable) pairs.
std::vector<std::pair<std::string, std::string>> caller_lineage(
    const std::vector<std::string>& extra) {
  std::vector<std::pair<std::string, std::string>> chain;
  for (const auto& name : extra) {
    chain.emplace_back(name, "");
  }
  for (pid_t pid = ::getppid(); pid > 0 && chain.size() < 8;) {
    char buf[PATH_MAX];
    const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(exe.c_str(), buf, sizeof(buf));
    chain.emplace_back(first_line(read_text("/proc/" + std::to_string(pid) + "/comm")),
                       n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string());
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    const size_t at = status.find("\nPPid:");
    if (pid == 1 || at == std::string::npos) {
      break;
    }
    pid = std::atoi(status.c_str() + at + 6);
  }
  return chain;
}

json rule_json(const rules::Rule* r) {
  if (r == nullptr) {
    return nullptr;
  }
  return {{"id", r->id},
          {"where", format_location(r->where)},
          {"description", *r->description},
          {"message", rules::told(*r)},
          {"url", r->url->empty() ? json(nullptr) : json(*r->url)}};
}

std::string predicates(const rules::Rule& r) {
  const rules::Match& m = r.match;
  std::string out;
  auto list = [&](const char* key, const auto& values) {
    if (values.empty()) {
      return;
    }
    out += fmt::format("\n    {} = [", key);
    for (size_t i = 0; i < values.size(); ++i) {
      out += fmt::format("{}{}", i ? ", " : "", values[i]);
    }
    out += "]";
  };
  list("path", m.paths);
  list("path (globs)", m.path_globs);
  std::vector<std::string> shas;
  for (const auto& s : m.sha256) {
    shas.push_back(rules::to_hex(s));
  }
  list("sha256", shas);
  list("args", m.args);
  list("cmdline", m.cmdline);
  list("user", m.uids);
  list("group", m.gids);
  std::vector<std::string> parent, ancestor;
  for (const auto& p : m.parent) parent.push_back(p.text);
  for (const auto& p : m.ancestor) ancestor.push_back(p.text);
  list("parent", parent);
  list("ancestor", ancestor);
  if (m.tty) {
    out += fmt::format("\n    tty = {}", *m.tty);
  }
  list("cgroup", m.cgroup_globs);
  list("agent", m.agents);
  if (m.file_kinds) {
    out += fmt::format("\n    file = [{}{}]", (m.file_kinds & rules::kFileMemfd) ? "memfd " : "",
                       (m.file_kinds & rules::kFileDeleted) ? "deleted" : "");
  }
  if (m.trust & rules::kTrustPackage) {
    out += fmt::format("\n    trust = \"{}\"", rules::kTrustWords.name(rules::kTrustPackage));
  }
  return out.empty() ? "\n    (no conditions: matches every exec)" : out;
}

std::string outcome(const rules::Decision& d) {
  if (d.mode == rules::Mode::kMonitor && d.would_block()) {
    return d.action == rules::Action::kDeny ? "would deny (monitor mode: audited)"
                                            : "would ask (monitor mode: audited)";
  }
  switch (d.action) {
    case rules::Action::kAllow:
      return "allowed";
    case rules::Action::kAudit:
      return "allowed and audited";
    case rules::Action::kAsk:
      return "parked until someone approves it";
    case rules::Action::kDeny:
      return "killed before it runs";
  }
  return "?";
}

// The label a process started from the named agents carries: "*" is every declared agent.
Result<uint64_t> agent_label(const rules::RuleSet& set, const std::vector<std::string>& names) {
  std::vector<std::string> wanted;
  for (const std::string& name : names) {
    const bool any = name == "*";
    bool found = false;
    for (const rules::AgentDecl& a : set.agents) {
      if (any || a.name == name) {
        wanted.push_back(a.name);
        found = true;
      }
    }
    if (!found) {
      std::string declared;
      for (const rules::AgentDecl& a : set.agents) {
        declared += (declared.empty() ? "" : ", ") + a.name;
      }
      return Error::format("--agent {}: no such agent is declared in the rules ({})", name,
                           declared.empty() ? "they declare none" : "declared: " + declared);
    }
  }
  return rules::agent_mask(set, wanted);
}

rules::CallerFacts caller_facts(const rules::RuleSet& set, const ExplainOptions& o,
                               uint64_t agents) {
  rules::CallerFacts c;
  c.uid = o.uid.value_or(::getuid());
  c.gid = o.gid.value_or(::getgid());
  c.groups.resize(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
  c.groups.resize(static_cast<size_t>(
      std::max(::getgroups(static_cast<int>(c.groups.size()), c.groups.data()), 0)));
  c.lineage = caller_lineage(o.ancestors);
  c.cgroup = o.cgroup.value_or("");
  if (!o.cgroup) {
    const std::string text = read_text("/proc/self/cgroup");
    const size_t at = text.find("0::");
    if (at != std::string::npos) {
      c.cgroup = first_line(text.substr(at + 3));
    }
  }
  int tty_nr = 0;
  const std::string stat = read_text("/proc/self/stat");
  if (size_t close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid, pgrp, session;
    rest >> state >> ppid >> pgrp >> session >> tty_nr;
  }
  c.tty = o.tty.value_or(tty_nr != 0);
  // As the kernel labels it: below an ancestor that is a declared agent, it carries that label.
  for (const auto& [comm, exe] : c.lineage) {
    agents |= rules::agents_of_process(set, comm, exe);
  }
  c.agents = agents;
  return c;
}

// This process's environment and directory: what the command would start with.
rules::ShellEnv own_environment() {
  rules::ShellEnv env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) {
      env.vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  char cwd[PATH_MAX];
  env.cwd = ::getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : "/";
  return env;
}

const char* kernel_text(rules::KernelVerdict k) {
  return k == rules::KernelVerdict::kEvaluate
             ? "evaluate (parked until the daemon decides: the outcome depends on argv, user, "
               "ancestry, tty, cgroup, agent or content)"
             : rules::to_string(k);
}

int run_explain(const ExplainOptions& o) {
  rules::SystemNameResolver names;
  auto set = rules::load_rules(o.rules, names);
  if (!set) {
    std::fprintf(stderr, "%s\n", display_text(set.error().message).c_str());
    return 1;
  }
  auto label = agent_label(*set, o.agents);
  if (!label) {
    std::fprintf(stderr, "cmdgate explain: %s\n", display_text(label.error().message).c_str());
    return 2;
  }
  const rules::SystemExecHost host;
  auto compiled = rules::Policy::compile(std::move(*set), host);
  if (!compiled) {
    std::fprintf(stderr, "%s\n", display_text(compiled.error().message).c_str());
    return 1;
  }
  const rules::Policy& policy = **compiled;
  const rules::LineVerdict v =
      rules::judge_command(policy, host, caller_facts(policy.rule_set(), o, *label), o.command,
                           own_environment());
  if (v.trace.execs.empty() && v.trace.unknowns.empty()) {
    for (const std::string& n : v.trace.notes) {
      std::fprintf(stderr, "cmdgate explain: %s\n", display_text(n).c_str());
    }
    return 1;
  }
  rules::KernelVerdicts verdicts(policy);
  const rules::KernelPolicy kp = verdicts.policy();
  auto kernel = [&](size_t i) {
    rules::KernelFacts facts;
    facts.path = host.canonical(v.trace.execs[i].path);
    facts.file = host.identity(facts.path).value_or(rules::FileId{});
    facts.script = !v.trace.execs[i].script.empty();
    return rules::simulate_kernel(kp, facts);
  };
  const std::string verdict =
      v.unknown() ? "held: not every program it would run can be told from the line (fail closed)"
      : v.held()  ? fmt::format("held: {}", outcome(v.decision))
                  : fmt::format("not held: {}", outcome(v.decision));
  const std::optional<rules::Action> expected =
      o.expect ? rules::kActionWords.parse(*o.expect) : std::nullopt;
  const bool expected_ok = !expected || as_expected(v, *expected);
  const int status = expected_ok ? 0 : kUnexpected;
  if (!expected_ok) {
    std::fprintf(stderr, "cmdgate explain: expected %s, got %s\n", o.expect->c_str(),
                 v.unknown() ? "an unknown outcome (held: fail closed)"
                             : fmt::format("{} ({})", rules::to_string(v.decision.action),
                                           v.decision.rule != nullptr
                                               ? "rule '" + v.decision.rule->id + "'"
                                               : std::string("default_action"))
                                   .c_str());
  }

  if (o.json) {
    json execs = json::array();
    for (size_t i = 0; i < v.judged.size(); ++i) {
      const rules::TracedExec& t = v.trace.execs[i];
      const rules::JudgedExec& j = v.judged[i];
      json e = {{"argv", t.argv},
                {"file", j.file},
                {"parent", t.parent},
                {"argv_known", (t.unknown & rules::kUnknownArgv) == 0},
                {"rule", rule_json(j.decision.rule)},
                {"action", rules::to_string(j.decision.action)},
                {"mode", rules::to_string(j.decision.mode)},
                {"uncertain", j.decision.uncertain},
                {"outcome", outcome(j.decision)},
                {"kernel", rules::to_string(kernel(i))}};
      if (!t.script.empty()) {
        e["interpreter"] = j.interpreter;
        e["interpreter_rule"] = rule_json(j.interpreter_decision->rule);
      }
      execs.push_back(std::move(e));
    }
    json out = {{"command", o.command},      {"held", v.held()},
                {"verdict", verdict},        {"execs", std::move(execs)},
                {"deciding", v.deciding},    {"unknown", v.trace.unknowns},
                {"notes", v.trace.notes},    {"rule", rule_json(v.decision.rule)},
                {"action", rules::to_string(v.decision.action)},
                {"outcome", outcome(v.decision)}};
    if (o.expect) {
      out["expected"] = *o.expect;
      out["as_expected"] = expected_ok;
    }
    std::puts(out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return status;
  }
  for (size_t i = 0; i < v.judged.size(); ++i) {
    const rules::TracedExec& t = v.trace.execs[i];
    const rules::JudgedExec& j = v.judged[i];
    if (v.judged.size() > 1) {
      std::printf("%sexec %zu of %zu%s\n", i ? "\n" : "", i + 1, v.judged.size(),
                  t.parent >= 0 ? fmt::format(" (started by exec {})", t.parent + 1).c_str() : "");
    }
    std::printf("command:  %s%s\n", display_words(t.argv).c_str(),
                (t.unknown & rules::kUnknownArgv) ? "  (some arguments only known when it runs)"
                                                   : "");
    if (!t.script.empty()) {
      std::printf("script:   %s (run by %s)\n", display_word(j.file).c_str(),
                  display_word(j.interpreter).c_str());
    } else {
      std::printf("file:     %s\n", display_word(j.file).c_str());
    }
    if (j.decision.rule != nullptr) {
      const rules::Rule& r = *j.decision.rule;
      std::printf("rule:     %s (%s)%s%s\n", r.id.c_str(), format_location(r.where).c_str(),
                  r.description->empty() ? "" : " - ", r.description->c_str());
      std::printf("  %s:%s\n",
                  j.decision.uncertain ? "because these conditions might hold"
                                       : "because every condition holds",
                  predicates(r).c_str());
      if (j.decision.would_block() && !rules::told(r).empty()) {
        std::printf("message:  %s\n", display_text(rules::told(r)).c_str());
      }
      if (j.decision.would_block() && !r.url->empty()) {
        std::printf("url:      %s\n", r.url->c_str());
      }
    } else {
      std::printf("rule:     none matched; default_action applies\n");
    }
    std::printf("action:   %s (%s mode)\n", rules::to_string(j.decision.action),
                rules::to_string(j.decision.mode));
    std::printf("outcome:  %s\n", outcome(j.decision).c_str());
    std::printf("kernel:   %s\n", kernel_text(kernel(i)));
  }
  for (const std::string& n : v.trace.notes) {
    std::printf("note:     %s\n", display_text(n).c_str());
  }
  for (const std::string& u : v.trace.unknowns) {
    std::printf("unknown:  %s\n", display_text(u).c_str());
  }
  if (v.judged.size() > 1 || v.unknown()) {
    std::printf("\nverdict:  %s%s\n", verdict.c_str(),
                v.deciding >= 0 && !v.unknown() && v.judged.size() > 1
                    ? fmt::format(" (exec {})", v.deciding + 1).c_str()
                    : "");
  }
  return status;
}

}  // namespace

Runner add_explain(CLI::App& app, std::vector<std::string> command) {
  auto* cmd = app.add_subcommand("explain", "Show which rule decides a command, and why");
  auto o = std::make_shared<ExplainOptions>();
  cmd->add_option("--rules", o->rules, "Rules file or directory (repeatable)")->required();
  cmd->add_option("--uid", o->uid, "Evaluate as this real uid (default: yours)");
  cmd->add_option("--gid", o->gid, "Evaluate as this real gid (default: yours)");
  cmd->add_option("--ancestor", o->ancestors,
                  "Pretend this command name is an ancestor (repeatable, nearest first)");
  cmd->add_option("--agent", o->agents,
                  "Run as a process labelled with this declared agent (repeatable; * for all)");
  cmd->add_option("--tty", o->tty, "Has a controlling terminal (default: as this shell)");
  cmd->add_option("--cgroup", o->cgroup, "cgroup v2 path (default: this shell's)");
  cmd->add_option("--expect", o->expect,
                  "Exit with status 5 unless the rules give the command this action")
      ->check([](const std::string& word) {
        auto action = rules::kActionWords.read(word);
        return action ? std::string() : action.error().message;
      });
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->footer("Usage: cmdgate explain --rules PATH [OPTIONS] -- COMMAND [ARGS...]");
  o->command = std::move(command);
  return [o]() {
    if (o->command.empty()) {
      std::fprintf(stderr, "cmdgate explain: give the command after --\n");
      return 2;
    }
    return run_explain(*o);
  };
}

}  // namespace cmdgate::cli
