// Reading decision-log lines back (docs/decision-log.md), and judging them again.

#include "cli/logged_exec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "common/display_text.h"
#include "common/hex.h"
#include "common/json_bytes.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

template <typename T>
Result<T> number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) {
    return Error::format("'{}' is missing or not a non-negative integer", key);
  }
  return it->get<T>();
}

std::optional<std::string> text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

Result<rules::Sha256> sha256_of(const std::string& hex) {
  rules::Sha256 out{};
  if (hex.size() != out.size() * 2) {
    return Error::format("'sha256' is not 64 hexadecimal digits");
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error::format("'sha256' is not 64 hexadecimal digits");
    }
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

uint32_t unknown_bit(const std::string& name) {
  for (uint32_t bit = 0; bit < rules::kUnknownBitCount; ++bit) {
    if (name == rules::to_string(static_cast<rules::Unknown>(1u << bit))) {
      return 1u << bit;
    }
  }
  return 0;
}

Status read_facts(const json& j, LoggedExec& e) {
  auto exe = read_bytes(j, "exe");
  if (!exe) {
    return exe.error();
  }
  auto argv = read_bytes_list(j, "argv");
  if (!argv) {
    return argv.error();
  }
  auto dev = number<uint64_t>(j, "dev");
  auto ino = number<uint64_t>(j, "ino");
  auto uid = number<uint32_t>(j, "uid");
  auto gid = number<uint32_t>(j, "gid");
  for (const Error* err : {dev ? nullptr : &dev.error(), ino ? nullptr : &ino.error(),
                           uid ? nullptr : &uid.error(), gid ? nullptr : &gid.error()}) {
    if (err != nullptr) {
      return *err;
    }
  }
  e.exe = std::move(*exe);
  e.argv = std::move(*argv);
  e.file = {*dev, *ino};
  e.uid = *uid;
  e.gid = *gid;
  if (auto hex = text_of(j, "sha256")) {
    auto digest = sha256_of(*hex);
    if (!digest) {
      return digest.error();
    }
    e.sha256 = *digest;
  }
  for (const json& f : j.value("flags", json::array())) {
    const std::string flag = f.is_string() ? f.get<std::string>() : "";
    e.tty |= flag == "tty";
    if (flag == "memfd") {
      e.file_kinds |= rules::kFileMemfd;
    } else if (flag == "deleted") {
      e.file_kinds |= rules::kFileDeleted;
    } else if (flag == "args_truncated") {
      e.unknown |= rules::kUnknownArgv;
    }
    e.agent_unknown |= flag == "agent_unknown";
  }
  for (const json& a : j.value("lineage", json::array())) {
    if (!a.is_object()) {
      return Error::format("'lineage' holds something other than objects");
    }
    auto comm = read_bytes(a, "comm");
    if (!comm) {
      return comm.error().context("lineage");
    }
    LoggedAncestor ancestor{std::move(*comm), std::nullopt};
    if (a.contains("exe")) {
      auto path = read_bytes(a, "exe");
      if (!path) {
        return path.error().context("lineage");
      }
      ancestor.exe = std::move(*path);
    }
    e.lineage.push_back(std::move(ancestor));
  }
  if (j.contains("agent_label")) {
    auto label = number<uint64_t>(j, "agent_label");
    if (!label) {
      return label.error();
    }
    e.agents = *label;
  }
  e.cgroup = text_of(j, "cgroup");
  for (const json& u : j.value("unknown", json::array())) {
    const uint32_t bit = u.is_string() ? unknown_bit(u.get<std::string>()) : 0;
    // A fact this version cannot name was unknown: all of them might be.
    e.unknown |= bit != 0 ? bit : rules::kUnknownAll;
  }
  if (auto s = j.find("script"); s != j.end() && s->is_object()) {
    e.script = text_of(*s, "path").value_or(text_of(*s, "filename").value_or(""));
  }
  if (auto l = j.find("loaded"); l != j.end() && l->is_object()) {
    e.loaded = text_of(*l, "path").value_or("");
  }
  e.copy_of = text_of(j, "copy_of");
  return {};
}

}  // namespace

std::string outcome_word(rules::Action action, rules::Mode mode) {
  const std::string name(rules::kActionWords.name(action));
  return mode == rules::Mode::kMonitor && action >= rules::Action::kAsk ? "would_" + name : name;
}

Result<LoggedExec> logged_exec(const json& j, size_t line) {
  LoggedExec e;
  e.line = line;
  if (!j.is_object()) {
    return Error::format("not a JSON object");
  }
  if (text_of(j, "type") != "exec") {
    return e;  // not an exec: nothing to judge
  }
  e.outcome = text_of(j, "outcome").value_or("");
  if (auto s = read_facts(j, e); !s) {
    return s.error();
  }
  const auto action = rules::kActionWords.parse(text_of(j, "action").value_or(""));
  const auto mode = rules::kModeWords.parse(text_of(j, "mode").value_or(""));
  // The end of a hold repeats the exec of its `parked` line: only that one is a policy decision.
  const bool ends_hold = j.contains("request") && e.outcome != "parked";
  if (action && mode && !ends_hold) {
    e.decision = true;
    e.action = action;
    e.mode = mode;
    e.rule = text_of(j, "rule").value_or("");
  }
  return e;
}

Status read_decision_log(const std::string& path,
                         const std::function<bool(const LoggedExec&)>& each) {
  std::ifstream in(path);
  if (!in) {
    return Error::format("{}: cannot open the decision log", display_text(path));
  }
  std::string text;
  for (size_t line = 1; std::getline(in, text); ++line) {
    if (text.empty()) {
      continue;
    }
    json j;
    try {
      j = json::parse(text);
    } catch (const json::parse_error& err) {
      return Error::format("{}:{}:{}: not JSON", display_text(path), line, err.byte);
    }
    auto e = logged_exec(j, line);
    if (!e) {
      return Error::format("{}:{}: {}", display_text(path), line, e.error().message);
    }
    if (!each(*e)) {
      break;
    }
  }
  if (in.bad()) {
    return Error::format("{}: read error", display_text(path));
  }
  return {};
}

Rejudged rejudge(const rules::Policy& policy, const rules::FileResolver& files,
                 const LoggedExec& e) {
  Rejudged r;
  std::vector<std::string>& missing = r.missing;
  if (e.script) {
    missing.push_back("the identity of the script " + display_word(*e.script) +
                      " (the log records its path only)");
  }
  if (e.loaded) {
    missing.push_back("the identity of the program the loader ran, " + display_word(*e.loaded));
  }
  if (e.copy_of) {
    missing.push_back("the identity of the held tool it is a copy of, " +
                      display_word(*e.copy_of));
  }
  const uint32_t needs = policy.needs();
  if ((needs & rules::kNeedSha256) && !e.sha256 && !(e.unknown & rules::kUnknownSha256)) {
    missing.push_back("sha256 (not computed when it ran)");
  }
  if (needs & rules::kNeedGroups) {
    missing.push_back("supplementary groups (the log does not record them)");
  }
  if ((needs & rules::kNeedCgroup) && !e.cgroup) {
    missing.push_back("cgroup (not read when it ran)");
  }
  if ((needs & rules::kNeedLineagePaths) &&
      std::ranges::any_of(e.lineage, [](const LoggedAncestor& a) { return !a.exe; })) {
    missing.push_back("the ancestors' paths (not read when it ran)");
  }
  if ((e.agents != 0 || e.agent_unknown) && !policy.rule_set().agents.empty()) {
    missing.push_back("the agents' names (the log records label bits, numbered by the rules then "
                      "in force)");
  }
  for (uint32_t bit = 0; bit < rules::kUnknownBitCount; ++bit) {
    if (e.unknown & (1u << bit)) {
      missing.push_back(std::string(rules::to_string(static_cast<rules::Unknown>(1u << bit))) +
                        " (unknown when it ran)");
    }
  }
  // Exact paths match file identities, resolved now: the logged identity counts only while the
  // path still names that file.
  const bool exact_paths = policy.resolved_paths().size() != 0;
  if (exact_paths) {
    const auto now = files.identity(e.exe);
    if (!now || *now != e.file) {
      missing.push_back(fmt::format("the file that ran (device {}, inode {}): {} is {} now",
                                    e.file.dev, e.file.ino, display_word(e.exe),
                                    now ? "another file" : "gone"));
    }
  }
  if (!missing.empty()) {
    return r;
  }
  std::vector<std::string_view> argv(e.argv.begin(), e.argv.end());
  std::string cmdline;
  for (size_t i = 0; i < e.argv.size(); ++i) {
    cmdline += (i ? " " : "") + e.argv[i];
  }
  std::vector<rules::AncestorView> lineage;
  for (const LoggedAncestor& a : e.lineage) {
    lineage.push_back({0, a.comm, a.exe ? std::string_view(*a.exe) : std::string_view(), {}});
  }
  rules::ExecContext c;
  c.path = e.exe;
  c.file = e.file;
  c.sha256 = e.sha256 ? &*e.sha256 : nullptr;
  c.file_kinds = e.file_kinds;
  c.argv = argv;
  c.cmdline = cmdline;
  c.uid = e.uid;
  c.gid = e.gid;
  c.lineage = lineage;
  c.tty = e.tty;
  c.cgroup = e.cgroup ? std::string_view(*e.cgroup) : std::string_view();
  c.agents = e.agents;
  r.decision = policy.evaluate(c);
  return r;
}

}  // namespace cmdgate::cli
