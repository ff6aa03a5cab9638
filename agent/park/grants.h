#pragma once
// Temporary approvals (scope "similar": allow this command for N minutes). A later exec is
// resumed without asking only while it is the command that was approved: the same uid running
// the same version of the same file with the same argv in the same working directory, and for a
// script exec the same versions of the same scripts. A file's version is its identity (device,
// inode) and its ctime: every write, truncation, chmod, link or rename of the file moves its
// ctime, and no process below root can set it back. Where both the grant and the exec know a
// file's SHA-256, the digests must agree as well. So an edited script, a rebuilt binary, or the
// same argv run from another directory is asked about again.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "context/exec_files.h"
#include "kernel/proc_fs.h"
#include "park/pending_table.h"
#include "pipeline/records.h"

namespace cmdgate {

struct FileVersion {
  rules::FileId id;
  int64_t ctime_sec = 0;
  int64_t ctime_nsec = 0;
  friend auto operator<=>(const FileVersion&, const FileVersion&) = default;
};

struct WorkingDir {
  std::string path;  // as the process's /proc/PID/cwd reads
  rules::FileId id;
  friend auto operator<=>(const WorkingDir&, const WorkingDir&) = default;
};

// What a grant needs beyond the exec record, read while the process is parked.
class GrantFacts {
 public:
  virtual ~GrantFacts() = default;
  [[nodiscard]] virtual Result<WorkingDir> cwd(uint32_t tgid) const = 0;
  // The version of a script the process runs now; an error when it is no longer `script.id`.
  [[nodiscard]] virtual Result<FileVersion> script(uint32_t tgid, const FileFact& script) const = 0;
};

// On the real system, asking only the kernel's caches, as everything on the event loop does.
[[nodiscard]] std::unique_ptr<GrantFacts> system_grant_facts(const ProcFs& proc);

class Grants {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit Grants(std::unique_ptr<GrantFacts> facts) : facts_(std::move(facts)) {}
  explicit Grants(const ProcFs& proc) : Grants(system_grant_facts(proc)) {}

  // Grants the parked request's command until `until`. Fails, granting nothing, when the
  // command cannot be told apart from others: argv cut, a script that cannot be identified, a
  // working directory that cannot be read.
  [[nodiscard]] Status add(const PendingRequest& r, Time until);
  // Whether a grant covers the exec, with its files as established for its judgement.
  [[nodiscard]] bool allows(const ExecEvent& e, const ExecFiles& files, Time now);
  [[nodiscard]] size_t size() const { return grants_.size(); }

 private:
  struct Key {
    uint32_t uid = 0;
    FileVersion exe;
    std::vector<FileVersion> scripts;
    std::string argv;  // each argument NUL-terminated: ["a b"] is not ["a", "b"]
    WorkingDir cwd;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Digests {
    std::optional<rules::Sha256> exe;
    std::vector<std::optional<rules::Sha256>> scripts;
  };
  struct Grant {
    Time until;
    Digests digests;
  };

  [[nodiscard]] Result<Key> key(const ExecEvent& e, std::span<const std::string> argv,
                                bool argv_cut, const std::vector<FileFact>& scripts) const;
  [[nodiscard]] static Digests digests(const std::optional<rules::Sha256>& exe,
                                       const std::vector<FileFact>& scripts);
  // Digests known on both sides agree.
  [[nodiscard]] static bool agree(const Digests& granted, const Digests& now);

  std::unique_ptr<GrantFacts> facts_;
  std::map<Key, Grant> grants_;
};

}  // namespace cmdgate
