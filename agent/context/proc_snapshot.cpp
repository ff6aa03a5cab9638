#include "context/proc_snapshot.h"

#include <sys/stat.h>

#include "kernel/proc_parse.h"
#include "probe/abi_check.h"

namespace cmdgate {

Result<ExecEvent> snapshot_from_proc(const ProcFs& proc, uint32_t tgid, uint64_t exec_id,
                                     uint64_t parked_ns) {
  ExecEvent e;
  e.ktime_ns = parked_ns;
  e.exec_id = exec_id;
  e.pid = tgid;
  e.tgid = tgid;
  e.verdict = rules::KernelVerdict::kEvaluate;
  // Its record was lost: the label it ran under is not known either.
  e.flags = CG_EXEC_PARKED | CG_EXEC_FAILSAFE | CG_EXEC_LINEAGE_FROM_TASK | CG_EXEC_AGENT_UNKNOWN;

  auto exe = proc.open(tgid, "exe");
  if (!exe) {
    return exe.error();
  }
  struct stat st {};
  if (::fstat(exe->get(), &st) != 0) {
    return Error::format("fstat /proc/{}/exe failed", tgid);
  }
  e.file = {st.st_dev, st.st_ino};
  e.size = static_cast<uint64_t>(st.st_size);
  e.ctime_sec = st.st_ctim.tv_sec;
  e.ctime_nsec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  e.mtime_sec = st.st_mtim.tv_sec;
  e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  if (st.st_nlink == 0) {
    e.flags |= CG_EXEC_DELETED;
  }
  if (auto link = proc.read_link(tgid, "exe")) {
    e.path = std::move(*link);
    constexpr std::string_view kDeleted = " (deleted)";
    if (e.path.ends_with(kDeleted)) {
      e.path.resize(e.path.size() - kDeleted.size());
    }
    if (e.path.starts_with("/memfd:")) {
      e.flags = (e.flags & ~CG_EXEC_DELETED) | CG_EXEC_MEMFD;
    }
  }
  if (auto cmdline = proc.read(tgid, "cmdline", 4u << 20)) {
    std::string_view bytes = *cmdline;
    if (!bytes.empty() && bytes.back() == '\0') {
      bytes.remove_suffix(1);
    }
    size_t start = 0;
    while (!bytes.empty() && start <= bytes.size()) {
      size_t end = bytes.find('\0', start);
      if (end == std::string_view::npos) {
        end = bytes.size();
      }
      e.argv.emplace_back(bytes.substr(start, end - start));
      start = end + 1;
    }
    e.argc = static_cast<uint32_t>(e.argv.size());
  }
  auto status = proc.read(tgid, "status");
  if (!status) {
    return status.error();
  }
  e.uid = status_field(*status, "Uid:", 0);
  e.euid = status_field(*status, "Uid:", 1);
  e.gid = status_field(*status, "Gid:", 0);
  e.egid = status_field(*status, "Gid:", 1);
  e.ppid = status_field(*status, "PPid:", 0);
  if (auto comm = proc.read(tgid, "comm")) {
    e.comm = comm->substr(0, comm->find('\n'));
  }
  if (auto stat = proc.read(tgid, "stat")) {
    if (auto parsed = parse_stat(*stat)) {
      e.sid = parsed->session;
      if (parsed->tty_nr != 0) {
        e.flags |= CG_EXEC_TTY;
      }
    }
  }
  // Ancestry from the live parent chain: the fork-time lineage is not available here.
  uint32_t parent = e.ppid;
  for (int depth = 0; depth < CG_LINEAGE_DEPTH && parent > 0; ++depth) {
    LineageEntry a;
    a.tgid = parent;
    a.sid = session_of(proc, parent);
    if (auto comm = proc.read(parent, "comm")) {
      a.comm = comm->substr(0, comm->find('\n'));
    }
    if (auto pexe = proc.open(parent, "exe")) {
      struct stat pst {};
      if (::fstat(pexe->get(), &pst) == 0) {
        a.exe = {pst.st_dev, pst.st_ino};
      }
    }
    e.lineage.push_back(a);
    auto pstatus = proc.read(parent, "status");
    if (!pstatus || parent == 1) {
      break;
    }
    parent = status_field(*pstatus, "PPid:", 0);
  }
  return e;
}

}  // namespace cmdgate
