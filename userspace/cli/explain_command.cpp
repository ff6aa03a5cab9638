// cmdgate explain --rules PATH -- CMD ARGS...: which rule would decide this command, and why,
// evaluated here without running it, without root and without BPF.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/display_text.h"
#include "common/fd.h"
#include "rules/agent_match.h"
#include "rules/file_digest.h"
#include "rules/kernel_verdicts.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

struct ExplainOptions {
  std::vector<std::string> rules;
  std::vector<std::string> command;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::vector<std::string> ancestors;  // extra, nearest first, before the real chain
  std::vector<std::string> agents;     // declared agent names the process is labelled with
  std::optional<bool> tty;
  std::optional<std::string> cgroup;
  bool json = false;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The file execvp would run.
std::optional<std::string> resolve_command(const std::string& cmd) {
  auto executable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; };
  if (cmd.find('/') != std::string::npos) {
    return executable(cmd) ? std::optional(cmd) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
    if (executable(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::string canonical(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) != nullptr ? std::string(buf) : p;
}

rules::FileId identity(const std::string& p) {
  return rules::SystemFileResolver().identity(p).value_or(rules::FileId{});
}

// "#!interp [arg]" of a script, if it is one.
std::optional<std::pair<std::string, std::string>> shebang(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!std::getline(f, line) || !line.starts_with("#!")) {
    return std::nullopt;
  }
  line = line.substr(2);
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos) {
    return std::nullopt;
  }
  line = line.substr(start);
  const size_t space = line.find_first_of(" \t");
  std::string interp = line.substr(0, space);
  std::string arg;
  if (space != std::string::npos) {
    arg = line.substr(line.find_first_not_of(" \t", space));
    arg = arg.substr(0, arg.find_last_not_of(" \t\r") + 1);
  }
  return std::make_pair(interp, arg);
}

// Everything an ExecContext points to, owned.
struct Subject {
  std::string path;
  rules::FileId file;
  std::optional<rules::Sha256> sha256;
  std::vector<std::string> argv_storage;
  std::vector<std::string_view> argv;
  std::string cmdline;
};

void fill_subject(Subject& s, const std::string& path, std::vector<std::string> argv,
                  bool want_hash) {
  s.path = canonical(path);
  s.file = identity(s.path);
  if (want_hash) {
    Fd fd(::open(s.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd) {
      if (auto d = rules::sha256_of_fd(fd.get())) {
        s.sha256 = *d;
      }
    }
  }
  s.argv_storage = std::move(argv);
  s.argv.assign(s.argv_storage.begin(), s.argv_storage.end());
  for (size_t i = 0; i < s.argv_storage.size(); ++i) {
    s.cmdline += (i ? " " : "") + s.argv_storage[i];
  }
}

std::vector<std::string> declared_names(const rules::RuleSet& set) {
  std::vector<std::string> out;
  for (const auto& a : set.agents) {
    out.push_back(a.name);
  }
  return out;
}

struct Lineage {
  std::vector<std::string> comms;
  std::vector<std::string> paths;
  std::vector<rules::AncestorView> views;
};

// The chain a command started from this shell would have: the shell (our parent) upwards.
void fill_lineage(Lineage& l, const std::vector<std::string>& extra) {
  std::vector<std::pair<uint32_t, std::string>> chain;  // tgid, comm
  for (const auto& name : extra) {
    chain.emplace_back(0, name);
  }
  for (pid_t pid = ::getppid(); pid > 0 && chain.size() < 8;) {
    chain.emplace_back(static_cast<uint32_t>(pid),
                       first_line(read_text("/proc/" + std::to_string(pid) + "/comm")));
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    const size_t at = status.find("\nPPid:");
    if (pid == 1 || at == std::string::npos) {
      break;
    }
    pid = std::atoi(status.c_str() + at + 6);
  }
  l.comms.reserve(chain.size());
  l.paths.reserve(chain.size());
  for (const auto& [tgid, comm] : chain) {
    l.comms.push_back(comm);
    char buf[PATH_MAX];
    const std::string exe = "/proc/" + std::to_string(tgid) + "/exe";
    const ssize_t n = tgid ? ::readlink(exe.c_str(), buf, sizeof(buf)) : -1;
    l.paths.push_back(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string());
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    l.views.push_back({chain[i].first, l.comms[i], l.paths[i], identity(l.paths[i])});
  }
}

json rule_json(const rules::Rule* r) {
  if (r == nullptr) {
    return nullptr;
  }
  return {{"id", r->id},
          {"where", fmt::format("{}:{}:{}", r->where.file, r->where.line, r->where.column)},
          {"description", r->description},
          {"message", rules::told(*r)},
          {"url", r->url.empty() ? json(nullptr) : json(r->url)}};
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
  if (m.file_kinds) {
    out += fmt::format("\n    file = [{}{}]", (m.file_kinds & rules::kFileMemfd) ? "memfd " : "",
                       (m.file_kinds & rules::kFileDeleted) ? "deleted" : "");
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

int run_explain(const ExplainOptions& o) {
  rules::SystemNameResolver names;
  auto set = rules::load_rules(o.rules, names);
  if (!set) {
    std::fprintf(stderr, "%s\n", set.error().message.c_str());
    return 1;
  }
  auto compiled = rules::Policy::compile(std::move(*set), rules::SystemFileResolver());
  if (!compiled) {
    std::fprintf(stderr, "%s\n", compiled.error().message.c_str());
    return 1;
  }
  const rules::Policy& policy = **compiled;
  const auto found = resolve_command(o.command.front());
  if (!found) {
    std::fprintf(stderr, "cmdgate explain: %s: command not found\n", o.command.front().c_str());
    return 1;
  }
  const bool want_hash = (policy.needs() & rules::kNeedSha256) != 0;

  Lineage lineage;
  fill_lineage(lineage, o.ancestors);
  // The label the kernel would give: named agents, and agents among the ancestors' names.
  uint64_t agents = 0;
  for (const std::string& name : o.agents) {
    if (name == "*") {
      agents |= rules::agent_mask(policy.rule_set(), declared_names(policy.rule_set()));
    } else if (const uint64_t bit = rules::agent_mask(policy.rule_set(), {name}); bit != 0) {
      agents |= bit;
    } else {
      std::fprintf(stderr, "cmdgate explain: --agent %s: no such agent is declared\n",
                   name.c_str());
      return 1;
    }
  }
  for (size_t i = 0; i < lineage.comms.size(); ++i) {
    agents |= rules::agents_of_process(policy.rule_set(), lineage.comms[i], lineage.paths[i]);
  }
  std::vector<uint32_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
  groups.resize(static_cast<size_t>(std::max(::getgroups(static_cast<int>(groups.size()),
                                                         groups.data()), 0)));
  std::string cgroup = o.cgroup.value_or("");
  if (!o.cgroup) {
    const std::string text = read_text("/proc/self/cgroup");
    const size_t at = text.find("0::");
    if (at != std::string::npos) {
      cgroup = first_line(text.substr(at + 3));
    }
  }
  const std::string stat = read_text("/proc/self/stat");
  int tty_nr = 0;
  if (size_t close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid, pgrp, session;
    rest >> state >> ppid >> pgrp >> session >> tty_nr;
  }

  auto context_for = [&](const Subject& s) {
    rules::ExecContext c;
    c.path = s.path;
    c.file = s.file;
    c.sha256 = s.sha256 ? &*s.sha256 : nullptr;
    c.argv = s.argv;
    c.cmdline = s.cmdline;
    c.uid = o.uid.value_or(::getuid());
    c.gid = o.gid.value_or(::getgid());
    c.groups = groups;
    c.lineage = lineage.views;
    c.tty = o.tty.value_or(tty_nr != 0);
    c.cgroup = cgroup;
    c.agents = agents;
    return c;
  };

  Subject exe;
  Subject script;
  const auto interp = shebang(*found);
  rules::Decision decision;
  std::optional<rules::Decision> interp_decision;
  if (interp) {
    // As the kernel runs it: the interpreter, with the script's path inserted into argv.
    std::vector<std::string> argv = {interp->first};
    if (!interp->second.empty()) {
      argv.push_back(interp->second);
    }
    argv.push_back(*found);
    argv.insert(argv.end(), o.command.begin() + 1, o.command.end());
    fill_subject(exe, interp->first, argv, want_hash);
    fill_subject(script, *found, argv, want_hash);
    interp_decision = policy.evaluate(context_for(exe));
    decision = rules::combine_script(policy.evaluate(context_for(script)), *interp_decision);
  } else {
    fill_subject(exe, *found, o.command, want_hash);
    decision = policy.evaluate(context_for(exe));
  }

  rules::KernelVerdicts verdicts(policy);
  const rules::KernelPolicy kp = verdicts.policy();
  rules::KernelFacts facts;
  facts.file = exe.file;
  facts.path = exe.path;
  facts.script = interp.has_value();
  const rules::KernelVerdict kernel = rules::simulate_kernel(kp, facts);

  if (o.json) {
    json out = {{"command", o.command},
                {"file", exe.path},
                {"rule", rule_json(decision.rule)},
                {"action", rules::to_string(decision.action)},
                {"mode", rules::to_string(decision.mode)},
                {"outcome", outcome(decision)},
                {"kernel", rules::to_string(kernel)}};
    if (interp) {
      out["script"] = script.path;
      out["interpreter_rule"] = rule_json(interp_decision->rule);
    }
    std::puts(out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("command:  %s\n", exe.cmdline.c_str());
  if (interp) {
    std::printf("script:   %s (run by %s)\n", script.path.c_str(), exe.path.c_str());
  } else {
    std::printf("file:     %s\n", exe.path.c_str());
  }
  if (decision.rule != nullptr) {
    const rules::Rule& r = *decision.rule;
    std::printf("rule:     %s (%s:%u:%u)%s%s\n", r.id.c_str(), r.where.file.c_str(), r.where.line,
                r.where.column, r.description.empty() ? "" : " - ", r.description.c_str());
    std::printf("  because every condition holds:%s\n", predicates(r).c_str());
    if (!rules::told(r).empty() && (decision.action == rules::Action::kDeny || decision.action == rules::Action::kAsk)) {
      std::printf("message:  %s\n", display_text(rules::told(r)).c_str());
    }
    if (!r.url.empty()) {
      std::printf("url:      %s\n", r.url.c_str());
    }
  } else {
    std::printf("rule:     none matched; default_action applies\n");
  }
  std::printf("action:   %s (%s mode)\n", rules::to_string(decision.action),
              rules::to_string(decision.mode));
  std::printf("outcome:  %s\n", outcome(decision).c_str());
  std::printf("kernel:   %s\n",
              kernel == rules::KernelVerdict::kEvaluate
                  ? "evaluate (parked until the daemon decides: the outcome depends on argv, "
                    "user, ancestry, tty, cgroup or content)"
                  : rules::to_string(kernel));
  return 0;
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
                  "Evaluate as a process started by this declared agent (repeatable; \"*\": any)");
  cmd->add_option("--tty", o->tty, "Has a controlling terminal (default: as this shell)");
  cmd->add_option("--cgroup", o->cgroup, "cgroup v2 path (default: this shell's)");
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
