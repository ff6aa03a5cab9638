// The system side of grants (park/grants.h): a parked process's working directory and the
// current versions of its scripts, from the kernel's caches only. A FUSE server is never asked:
// paths resolve through ProcessPaths (the dentry cache, O_PATH) and attributes come from
// statx(AT_STATX_DONT_SYNC).

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <variant>

#include "common/errno_error.h"
#include "context/process_paths.h"
#include "park/grants.h"

namespace cmdgate {
namespace {

Result<struct statx> cached_statx(int dirfd, const char* path, int flags) {
  struct statx sx {};
  if (::statx(dirfd, path, flags | AT_STATX_DONT_SYNC, STATX_INO | STATX_CTIME, &sx) != 0) {
    return errno_error(path[0] != '\0' ? path : "statx");
  }
  return sx;
}

rules::FileId id_of(const struct statx& sx) {
  return {makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino};
}

class SystemGrantFacts final : public GrantFacts {
 public:
  explicit SystemGrantFacts(const ProcFs& proc) : proc_(proc), paths_(proc) {}

  Result<WorkingDir> cwd(uint32_t tgid) const override {
    auto path = proc_.read_link(tgid, "cwd");
    if (!path) {
      return Error::format("its working directory is unknown: {}", path.error().message);
    }
    const std::string link = fmt::format("/proc/{}/cwd", tgid);
    auto sx = cached_statx(AT_FDCWD, link.c_str(), 0);
    if (!sx) {
      return Error::format("its working directory is unknown: {}", sx.error().message);
    }
    return WorkingDir{std::move(*path), id_of(*sx)};
  }

  Result<FileVersion> script(uint32_t tgid, const FileFact& s) const override {
    if (s.unknown & rules::kUnknownFile) {
      return Error{"one of its scripts could not be identified"};
    }
    Resolution r = paths_.resolve(tgid, s.path);
    if (auto* u = std::get_if<Unresolved>(&r)) {
      return Error::format("its script {} cannot be looked at: {}", s.path, u->why);
    }
    const ProcessFile& f = std::get<ProcessFile>(r);
    auto sx = cached_statx(f.fd.get(), "", AT_EMPTY_PATH);
    if (!sx) {
      return Error::format("its script {}: {}", s.path, sx.error().message);
    }
    if (id_of(*sx) != s.id) {
      return Error::format("its script {} has been replaced since it was executed", s.path);
    }
    return FileVersion{s.id, sx->stx_ctime.tv_sec, sx->stx_ctime.tv_nsec};
  }

 private:
  const ProcFs& proc_;
  ProcessPaths paths_;
};

}  // namespace

std::unique_ptr<GrantFacts> system_grant_facts(const ProcFs& proc) {
  return std::make_unique<SystemGrantFacts>(proc);
}

}  // namespace cmdgate
