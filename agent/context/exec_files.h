#pragma once
// What the daemon must establish about an exec's files before it can judge it, and the seam
// that establishes it: the executed file's content, the #! chain a script exec ran through, the
// program a dynamic loader was asked to run. Files are read off the event loop, so the answer
// comes later; a fact that could not be established is marked unknown, with the reason.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/records.h"
#include "rules/exec_context.h"
#include "rules/held_tools.h"
#include "trust/md5.h"

namespace cmdgate {

// A file the exec runs or hands to an interpreter or loader.
struct FileFact {
  rules::FileId id;
  std::string path;  // where it is, as the process sees it
  std::optional<rules::Sha256> sha256;
  uint32_t unknown = 0;  // rules::Unknown bits
  std::optional<trust::Md5> md5;  // with sha256: both come from one read
};

struct ExecFiles {
  // argv in full: the record's, or /proc's when the record was cut; argv_cut when even that is
  // not all of it.
  std::vector<std::string> argv;
  bool argv_cut = false;
  std::optional<rules::Sha256> exe_sha256;
  std::optional<trust::Md5> exe_md5;
  uint32_t exe_unknown = 0;
  // The executed file's path in full, when the kernel's walk was cut (too deep).
  std::optional<std::string> exe_path;
  // A script exec's scripts, the one execve named first, then each interpreter that was itself
  // a script. An entry with kUnknownFile stands for a link of the chain that could not be told.
  std::vector<FileFact> scripts;
  // The program a loader run directly (`ld.so PROGRAM ARGS`) maps, and its argv.
  std::optional<FileFact> loaded;
  std::vector<std::string> loaded_argv;
  std::vector<std::string> gaps;  // what could not be established, for the decision log
  // For a process with an agent label (or an unknown one): the held tool the executed file is a
  // copy of (rules/held_tools.h), or a fact with kUnknownFile when the comparison could not be
  // made. content_compared: the file was compared with every held tool and is a copy of none,
  // so what the kernel learns for labelled processes may hold for it.
  std::optional<FileFact> copy_of;
  bool content_compared = false;
};

class FileFacts {
 public:
  using Done = std::function<void(ExecFiles)>;
  virtual ~FileFacts() = default;
  // Calls done exactly once, on the event loop; at once when nothing has to be read. needs:
  // rules::Need bits of the policy that will judge the exec; held_tools: its held tools.
  virtual void establish(const ExecEvent& e, uint32_t needs,
                         const std::vector<rules::HeldTool>& held_tools, Done done) = 0;
};

}  // namespace cmdgate
