#include "context/exe_path_cache.h"

#include <sys/stat.h>

namespace cmdgate {

void ExePathCache::remember(const rules::FileId& id, std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return;
  }
  if (auto it = index_.find(id); it != index_.end()) {
    it->second->second.assign(path);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(id, std::string(path));
  index_[id] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

std::string ExePathCache::lookup(const rules::FileId& id, uint32_t tgid) {
  if (auto it = index_.find(id); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  auto fd = proc_.open(tgid, "exe");
  struct stat st {};
  if (!fd || ::fstat(fd->get(), &st) != 0 || st.st_dev != id.dev || st.st_ino != id.ino) {
    return {};
  }
  auto link = proc_.read_link(tgid, "exe");
  if (!link) {
    return {};
  }
  std::string path = std::move(*link);
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) {
    path.resize(path.size() - kDeleted.size());
  }
  remember(id, path);
  return path;
}

}  // namespace cmdgate
