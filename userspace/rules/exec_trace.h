#pragma once
// Every program one command would exec, as the kernel would see each: through `bash -c` / `sh -c`
// lines, eval, and wrappers that exec their arguments (env, sudo, nohup, timeout, xargs, nice,
// stdbuf...), names found through PATH as bash finds them, scripts run by their #! interpreter.
// Nothing is run. What cannot be followed is reported (`unknowns`), for the caller to fail
// closed on.

#include <optional>
#include <string>
#include <vector>

#include "rules/policy.h"
#include "rules/shell_line.h"

namespace cmdgate::rules {

// The host as far as following an exec needs it: the real file system (SystemExecHost), or a
// declared one in tests. identity/canonical/expand (FileResolver) also compile the policy.
class ExecHost : public FileResolver {
 public:
  // What execve would accept: an existing file with an execute bit (symlinks followed).
  [[nodiscard]] virtual bool executable(const std::string& path) const = 0;
  // "#!interpreter [arg]" of a script: the first line, when it starts with "#!".
  [[nodiscard]] virtual std::optional<std::string> shebang_line(const std::string& path) const = 0;
  [[nodiscard]] virtual std::optional<Sha256> sha256(const std::string& path) const = 0;
};

class SystemExecHost final : public ExecHost {
 public:
  std::optional<FileId> identity(const std::string& path) const override;
  std::string canonical(const std::string& path) const override;
  std::vector<std::string> expand(const std::string& glob) const override;
  bool executable(const std::string& path) const override;
  std::optional<std::string> shebang_line(const std::string& path) const override;
  std::optional<Sha256> sha256(const std::string& path) const override;
};

struct TracedExec {
  std::string path;               // as passed to execve (after the PATH search)
  std::vector<std::string> argv;  // argv[0] as the caller wrote it
  std::string script;             // a #! script's path; `path` is then its interpreter
  uint32_t unknown = 0;           // kUnknownArgv when some argument is only known at run time
  std::optional<uint32_t> uid;    // set by sudo/doas: the user the program runs as
  int parent = -1;                // index of the exec that starts this one; -1: the caller
};

struct ExecTrace {
  std::vector<TracedExec> execs;   // in the order they would happen
  std::vector<std::string> unknowns;  // why more may run than `execs` says (fail closed on these)
  std::vector<std::string> notes;     // what runs nothing: builtins, names not found...
};

// Follows `argv` as if exec'd by a process with environment `env` (its PATH, HOME, cwd...).
[[nodiscard]] ExecTrace trace_execs(const ExecHost& host, const std::vector<std::string>& argv,
                                    const ShellEnv& env);

// The values of a "PATH" variable, in order ("" stands for the current directory).
[[nodiscard]] std::vector<std::string> split_path_variable(const std::string& path);

}  // namespace cmdgate::rules
