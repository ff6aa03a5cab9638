#pragma once
// Everything one evaluation reads. The ExecContexts point into the other members, so an
// EvalInput is built in place and never copied or moved.

#include <optional>
#include <string>
#include <vector>

#include "rules/exec_context.h"

namespace cmdgate {

struct EvalInput {
  EvalInput() = default;
  EvalInput(const EvalInput&) = delete;
  EvalInput& operator=(const EvalInput&) = delete;

  rules::ExecContext exe;                    // the executed file: the interpreter, for a script
  std::optional<rules::ExecContext> script;  // the script of a #! exec

  std::vector<std::string> argv_storage;  // full argv re-read from /proc when the record was cut
  std::vector<std::string_view> argv;
  std::string cmdline;
  std::vector<std::string> lineage_paths;
  std::vector<rules::AncestorView> lineage;
  std::vector<uint32_t> groups;
  std::string cgroup;
  std::optional<rules::Sha256> exe_sha256;
  std::optional<rules::Sha256> script_sha256;
  std::string script_path;
  rules::FileId script_file;
  std::vector<std::string> gaps;  // what could not be filled in, for the decision log
};

}  // namespace cmdgate
