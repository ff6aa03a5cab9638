#pragma once
// Executable identity -> path, for parent/ancestor path patterns. Lineage records carry only
// (device, inode); paths come from exec records the daemon saw, else from /proc/<tgid>/exe when
// that process still runs the same file.

#include <list>
#include <string>
#include <unordered_map>

#include "kernel/proc_fs.h"
#include "rules/exec_context.h"

namespace cmdgate {

class ExePathCache {
 public:
  explicit ExePathCache(const ProcFs& proc, size_t capacity = 4096)
      : proc_(proc), capacity_(capacity) {}

  void remember(const rules::FileId& id, std::string_view path);
  // Empty when unknown.
  [[nodiscard]] std::string lookup(const rules::FileId& id, uint32_t tgid);

 private:
  using Lru = std::list<std::pair<rules::FileId, std::string>>;
  const ProcFs& proc_;
  size_t capacity_;
  Lru lru_;
  std::unordered_map<rules::FileId, Lru::iterator, rules::FileIdHash> index_;
};

}  // namespace cmdgate
