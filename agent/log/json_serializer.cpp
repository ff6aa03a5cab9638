#include "log/json_serializer.h"

#include <nlohmann/json.hpp>

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "common/host_name.h"
#include "common/json_bytes.h"
#include "pipeline/observer.h"
#include "probe/abi_check.h"
#include "rules/file_digest.h"

namespace cmdgate {
namespace {

using nlohmann::json;

std::string utc_text(std::chrono::system_clock::time_point now);

json flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {CG_EXEC_TTY, "tty"},
      {CG_EXEC_SCRIPT, "script"},
      {CG_EXEC_MEMFD, "memfd"},
      {CG_EXEC_DELETED, "deleted"},
      {CG_EXEC_ARGS_TRUNCATED, "args_truncated"},
      {CG_EXEC_PATH_TRUNCATED, "path_truncated"},
      {CG_EXEC_FILENAME_TRUNCATED, "filename_truncated"},
      {CG_EXEC_PARKED, "parked"},
      {CG_EXEC_KILLED, "killed"},
      {CG_EXEC_FAILSAFE, "failsafe"},
      {CG_EXEC_SIGNAL_FAILED, "signal_failed"},
      {CG_EXEC_LINEAGE_FROM_TASK, "lineage_from_task"},
      {CG_EXEC_DAEMON_STALE, "daemon_stale"},
      {CG_EXEC_LSM_DENIED, "lsm_denied"},
      {CG_EXEC_NO_INTERP, "no_interp"},
      {CG_EXEC_AGENT_UNKNOWN, "agent_unknown"},
  };
  json out = json::array();
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) {
      out.push_back(name);
    }
  }
  return out;
}

// Wall-clock text of a CLOCK_MONOTONIC instant (the kernel's record time), to the microsecond.
std::string utc_of_monotonic(uint64_t monotonic_ns) {
  timespec mono{};
  timespec real{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  const int64_t now_mono = int64_t{mono.tv_sec} * 1'000'000'000 + mono.tv_nsec;
  const int64_t now_real = int64_t{real.tv_sec} * 1'000'000'000 + real.tv_nsec;
  const int64_t at = monotonic_ns != 0 ? now_real - (now_mono - static_cast<int64_t>(monotonic_ns))
                                       : now_real;
  return utc_text(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(at))));
}

std::string utc_now() { return utc_text(std::chrono::system_clock::now()); }

std::string utc_text(std::chrono::system_clock::time_point now) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06}Z", buf, us % 1000000);
}

}  // namespace

std::string to_json_line(const DecisionRecord& r) {
  const ExecEvent& e = *r.event;
  static const std::string host = host_name().value_or("");
  json j;
  j["schema"] = kDecisionSchema;
  j["time"] = utc_of_monotonic(e.ktime_ns);  // when the kernel saw the exec
  j["logged"] = utc_now();
  j["host"] = host;
  j["type"] = "exec";
  j["pid"] = e.pid;
  j["tgid"] = e.tgid;
  j["ppid"] = e.ppid;
  j["sid"] = e.sid;
  j["uid"] = e.uid;
  j["euid"] = e.euid;
  j["gid"] = e.gid;
  if (e.loginuid) {
    j["loginuid"] = *e.loginuid;
  }
  if (e.sessionid) {
    j["sessionid"] = *e.sessionid;
  }
  put_bytes(j, "comm", e.comm);
  put_bytes(j, "exe", e.path);
  if (r.input != nullptr && r.input->files.exe_sha256) {
    j["sha256"] = rules::to_hex(*r.input->files.exe_sha256);
  }
  j["dev"] = e.file.dev;
  j["ino"] = e.file.ino;
  if (r.input != nullptr && r.input->files.copy_of &&
      (r.input->files.copy_of->unknown & rules::kUnknownFile) == 0) {
    j["copy_of"] = r.input->files.copy_of->path;
  }
  if (r.input != nullptr) {
    put_bytes_list(j, "argv", r.input->argv);
  } else {
    put_bytes_list(j, "argv", e.argv);
  }
  if (e.has(CG_EXEC_SCRIPT)) {
    j["script"] = {{"filename", e.filename}, {"interpreter", e.interp}};
    if (r.input != nullptr && !r.input->files.scripts.empty()) {
      j["script"]["path"] = r.input->files.scripts.front().path;
      json chain = json::array();
      for (const FileFact& f : r.input->files.scripts) {
        chain.push_back(f.unknown & rules::kUnknownFile ? json(nullptr) : json(f.path));
      }
      j["script"]["chain"] = std::move(chain);
    }
  }
  if (r.input != nullptr && r.input->files.loaded) {
    const FileFact& f = *r.input->files.loaded;
    j["loaded"] = {{"path", f.path}, {"argv", r.input->files.loaded_argv}};
  }
  json lineage = json::array();
  for (size_t i = 0; i < e.lineage.size(); ++i) {
    json a = {{"tgid", e.lineage[i].tgid}};
    put_bytes(a, "comm", e.lineage[i].comm);
    if (r.input != nullptr && i < r.input->lineage_paths.size() &&
        !r.input->lineage_paths[i].empty()) {
      put_bytes(a, "exe", r.input->lineage_paths[i]);
    }
    lineage.push_back(std::move(a));
  }
  j["lineage"] = std::move(lineage);
  if (e.agents != 0) {
    j["agent_label"] = e.agents;  // bits of the declared agents, in declaration order
  }
  j["cgroup_id"] = e.cgroup_id;
  if (r.input != nullptr && !r.input->cgroup.empty()) {
    j["cgroup"] = r.input->cgroup;
  }
  j["kernel_verdict"] = rules::to_string(e.verdict);
  j["flags"] = flag_names(e.flags);
  j["generation"] = e.generation;
  j["decided_by"] = to_string(r.decided_by);
  j["outcome"] = to_string(r.outcome);
  if (e.has(CG_EXEC_LSM_DENIED)) {
    j["errno"] = "EPERM";  // what execve returned to the caller
  }
  if (r.judgement != nullptr) {
    const rules::Decision& d = r.judgement->decision;
    j["rule"] = d.rule != nullptr ? json(d.rule->id) : json(nullptr);
    if (d.rule != nullptr && !rules::told(*d.rule).empty()) {
      j["message"] = rules::told(*d.rule);
    }
    j["action"] = rules::to_string(d.action);
    j["mode"] = rules::to_string(d.mode);
    if (r.judgement->interpreter && r.judgement->interpreter->rule != nullptr) {
      j["interpreter_rule"] = r.judgement->interpreter->rule->id;
    }
  } else {
    j["rule"] = nullptr;
  }
  if (r.request_id) {
    j["request"] = *r.request_id;
  }
  if (!r.told.empty()) {
    j["told"] = r.told;
    j["told_delivered"] = r.told_delivered;
  }
  if (r.approver != nullptr) {
    j["approver"] = {{"uid", r.approver->uid}, {"pid", r.approver->pid}, {"exe", r.approver->exe}};
  }
  j["latency_us"] = static_cast<double>(r.latency_ns) / 1000.0;
  if (r.waited_ns) {
    j["waited_ms"] = static_cast<double>(r.waited_ns) / 1e6;
  }
  if (r.input != nullptr && !r.input->gaps.empty()) {
    j["gaps"] = r.input->gaps;
  }
  if (r.judgement != nullptr && r.judgement->decision.uncertain) {
    // A fact it depends on could not be established: the strictest possible outcome was taken.
    j["uncertain"] = true;
  }
  if (r.input != nullptr) {
    uint32_t unknown = r.input->exe.unknown;
    for (const rules::ExecContext& c : r.input->scripts) {
      unknown |= c.unknown;
    }
    if (r.input->loaded) {
      unknown |= r.input->loaded->unknown;
    }
    if (unknown != 0) {
      json names = json::array();
      for (uint32_t bit = 0; bit < rules::kUnknownBitCount; ++bit) {
        if (unknown & (1u << bit)) {
          names.push_back(rules::to_string(static_cast<rules::Unknown>(1u << bit)));
        }
      }
      j["unknown"] = std::move(names);
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace cmdgate
