#pragma once
// ExecEvent + what the policy needs -> ExecContext(s). Costly fields (hash, groups, cgroup,
// ancestor paths, argv beyond the record) are filled only when the policy reads them, and only
// from sources that cannot have changed under a parked process.

#include "context/eval_input.h"
#include "context/exe_path_cache.h"
#include "context/file_hasher.h"
#include "kernel/proc_fs.h"
#include "pipeline/records.h"
#include "rules/policy.h"

namespace cmdgate {

class ContextBuilder {
 public:
  ContextBuilder(const ProcFs& proc, const rules::FileResolver& files, ExePathCache& exe_paths,
                 FileHasher& hasher)
      : proc_(proc), files_(files), exe_paths_(exe_paths), hasher_(hasher) {}

  // needs: rules::Need bits of the policy that will evaluate the result.
  void build(const ExecEvent& e, uint32_t needs, EvalInput& in);

  // The limit on argv re-read from /proc/<pid>/cmdline when the record was cut short.
  static constexpr size_t kMaxCmdlineBytes = 4u << 20;

  // The path of an executable by identity (for showing ancestors); empty when unknown.
  [[nodiscard]] std::string exe_path(const rules::FileId& id, uint32_t tgid) {
    return exe_paths_.lookup(id, tgid);
  }

 private:
  void fill_argv(const ExecEvent& e, EvalInput& in);
  void fill_lineage(const ExecEvent& e, uint32_t needs, EvalInput& in);
  void fill_groups(const ExecEvent& e, EvalInput& in);
  void fill_cgroup(const ExecEvent& e, EvalInput& in);
  void fill_exe_hash(const ExecEvent& e, EvalInput& in);
  void fill_script(const ExecEvent& e, uint32_t needs, EvalInput& in);

  const ProcFs& proc_;
  const rules::FileResolver& files_;
  ExePathCache& exe_paths_;
  FileHasher& hasher_;
};

}  // namespace cmdgate
