#pragma once
// A path as a stopped process named it (a script, the program a loader is asked to run),
// resolved the way that process resolves it: relative to its working directory, inside its root,
// in its mount namespace, never through the daemon's own view of the file system. When that
// cannot be done exactly, the answer says so: a guess would let a rule silently not match.

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <variant>

#include "common/fd.h"
#include "kernel/proc_fs.h"
#include "rules/exec_context.h"

namespace cmdgate {

struct ProcessFile {
  Fd fd;              // the file itself, opened read-only
  rules::FileId id;   // its identity (stat's encoding)
  std::string path;   // absolute, as the process sees it
};

struct Unresolved {
  // The process could not open it either (nothing there): nothing of it will run.
  bool missing = false;
  std::string why;
};

using Resolution = std::variant<ProcessFile, Unresolved>;

class ProcessPaths {
 public:
  explicit ProcessPaths(const ProcFs& proc) : proc_(proc) {}

  // `path` as process tgid would open it now. Its own descriptors (/proc/self/fd/N, /dev/fd/N)
  // are followed when its /dev/fd and /proc are the kernel's; other magic links are not.
  [[nodiscard]] Resolution resolve(uint32_t tgid, std::string_view path) const;

  // Whether reading the file fd (on one of tgid's mounts) waits on local storage only: not on a
  // FUSE server, the network or an automounter.
  [[nodiscard]] bool on_local_storage(uint32_t tgid, int fd) const;

 private:
  [[nodiscard]] Resolution open_in_root(uint32_t tgid, const Fd& root,
                                        const std::string& path) const;
  // /dev/fd/N, /proc/self/fd/N: the process's own descriptor N; nullopt for other paths.
  [[nodiscard]] std::optional<Resolution> own_descriptor(uint32_t tgid, const Fd& root,
                                                         const std::string& path) const;
  [[nodiscard]] Resolution finish(uint32_t tgid, Fd fd, const std::string& named) const;
  // A lookup the kernel's cache could not answer: done for real only where no mount of the
  // process can make it wait on anything but local storage.
  [[nodiscard]] bool may_look_up(uint32_t tgid) const;
  // Mount id -> on local storage, from the process's mountinfo (mount ids are system-wide).
  [[nodiscard]] std::optional<bool> mount_is_local(uint32_t tgid, uint64_t mount_id) const;
  void learn_mounts(uint32_t tgid) const;

  const ProcFs& proc_;
  mutable std::unordered_map<uint64_t, bool> local_mounts_;
  // Per mount namespace: whether every mount is local, and when that was read.
  mutable std::unordered_map<uint64_t, std::pair<bool, std::chrono::steady_clock::time_point>>
      all_local_;
};

}  // namespace cmdgate
