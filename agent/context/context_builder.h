#pragma once
// ExecEvent + its established files + what the policy needs -> ExecContext(s). Costly fields
// (groups, cgroup, ancestor paths) are filled only when the policy reads them, and only from
// sources that cannot have changed under a parked process. Files are never read here: FileFacts
// did that, off the loop.

#include "context/eval_input.h"
#include "context/exe_path_cache.h"
#include "kernel/proc_fs.h"
#include "pipeline/records.h"
#include "rules/policy.h"
#include "trust/dpkg_database.h"

namespace cmdgate {

class ContextBuilder {
 public:
  ContextBuilder(const ProcFs& proc, ExePathCache& exe_paths) : proc_(proc), exe_paths_(exe_paths) {}

  // needs: rules::Need bits of the policy that will evaluate the result; packages: its
  // generation's dpkg database (Snapshot::packages), null when it could not be read, which
  // leaves trust unknown.
  void build(const ExecEvent& e, uint32_t needs, ExecFiles files, EvalInput& in,
             const trust::DpkgDatabase* packages = nullptr);

  // The path of an executable by identity (for showing ancestors); empty when unknown.
  [[nodiscard]] std::string exe_path(const rules::FileId& id, uint32_t tgid) {
    return exe_paths_.lookup(id, tgid);
  }

 private:
  void fill_lineage(const ExecEvent& e, uint32_t needs, EvalInput& in);
  // false when unknown
  [[nodiscard]] bool fill_groups(const ExecEvent& e, EvalInput& in);
  [[nodiscard]] bool fill_cgroup(const ExecEvent& e, EvalInput& in);

  const ProcFs& proc_;
  ExePathCache& exe_paths_;
};

}  // namespace cmdgate
