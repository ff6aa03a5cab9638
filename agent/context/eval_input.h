#pragma once
// Everything one evaluation reads. The ExecContexts point into the other members, so an
// EvalInput is built in place and never copied or moved.

#include <optional>
#include <string>
#include <vector>

#include "context/exec_files.h"
#include "rules/exec_context.h"

namespace cmdgate {

struct EvalInput {
  EvalInput() = default;
  EvalInput(const EvalInput&) = delete;
  EvalInput& operator=(const EvalInput&) = delete;

  rules::ExecContext exe;  // the executed file: the interpreter, for a script
  // A script exec's scripts (ExecFiles::scripts, the named one first), each judged with the
  // exec's argv; and the program a loader run directly maps, judged with the argv it gets.
  std::vector<rules::ExecContext> scripts;
  std::optional<rules::ExecContext> loaded;
  // The held tool the executed file is a copy of (ExecFiles::copy_of), judged as that file.
  std::optional<rules::ExecContext> copy_of;

  ExecFiles files;  // argv, hashes, the scripts' and the loaded program's files
  std::vector<std::string_view> argv;
  std::string cmdline;
  std::vector<std::string_view> loaded_argv;
  std::string loaded_cmdline;
  std::vector<std::string> lineage_paths;
  std::vector<rules::AncestorView> lineage;
  std::vector<uint32_t> groups;
  std::string cgroup;
  std::vector<std::string> gaps;  // what could not be filled in, for the decision log

  // The executed file's digest, when it was established.
  [[nodiscard]] const rules::Sha256* exe_sha256() const {
    return files.exe_sha256 ? &*files.exe_sha256 : nullptr;
  }
};

}  // namespace cmdgate
