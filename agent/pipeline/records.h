#pragma once
// Ring-buffer records after validation, owning their strings.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rules/exec_context.h"
#include "rules/kernel_policy.h"

namespace cmdgate {

struct LineageEntry {
  uint32_t tgid = 0;
  uint32_t sid = 0;  // its session when its child was forked
  rules::FileId exe;  // user-space dev encoding
  std::string comm;
};

struct ExecEvent {
  uint64_t ktime_ns = 0;  // CLOCK_MONOTONIC when the kernel built the record
  uint64_t exec_id = 0;
  uint64_t start_boottime_ns = 0;
  uint64_t cgroup_id = 0;
  rules::FileId file;  // user-space dev encoding
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t ctime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t ctime_nsec = 0;
  uint32_t pid = 0;
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  uint32_t sid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t euid = 0;
  uint32_t egid = 0;
  uint32_t flags = 0;  // enum cg_exec_flags
  uint32_t generation = 0;
  uint32_t argc = 0;
  uint32_t args_total = 0;  // argv bytes in the new image (more than the record holds when cut)
  uint64_t agents = 0;      // the agent label's bits (CG_EXEC_AGENT_UNKNOWN: more may apply)
  // The audit login uid and session at the exec; none when never set or without kernel audit.
  std::optional<uint32_t> loginuid;
  std::optional<uint32_t> sessionid;
  rules::KernelVerdict verdict = rules::KernelVerdict::kNone;
  std::string comm;
  std::string path;      // the executed file (the interpreter, for a script)
  std::string filename;  // the script as the caller named it (scripts only)
  std::string interp;    // the interpreter as the #! line named it (scripts only)
  std::vector<std::string> argv;
  std::vector<LineageEntry> lineage;  // [0] is the parent

  [[nodiscard]] bool has(uint32_t flag) const { return (flags & flag) != 0; }
};

struct ExitEvent {
  uint64_t ktime_ns = 0;
  uint64_t exec_id = 0;
  uint32_t tgid = 0;
  int32_t exit_code = 0;
};

struct EscapeEvent {
  uint64_t ktime_ns = 0;
  uint64_t exec_id = 0;
  uint32_t target_tgid = 0;
  uint32_t sender_tgid = 0;
  uint32_t sender_uid = 0;
  uint32_t signal = 0;
  bool kill_sent = false;
};

using Record = std::variant<ExecEvent, ExitEvent, EscapeEvent>;

}  // namespace cmdgate
