#include "context/context_builder.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/fd.h"
#include "kernel/proc_parse.h"
#include "probe/abi_check.h"

namespace cmdgate {
namespace {

// The cgroup v2 line of /proc/<pid>/cgroup: "0::/path".
std::string parse_cgroup_v2(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (line.starts_with("0::")) {
      return std::string(line.substr(3));
    }
    start = end + 1;
  }
  return {};
}

Result<Fd> open_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Error::format("cannot open {}", path);
  }
  return fd;
}

}  // namespace

void ContextBuilder::build(const ExecEvent& e, uint32_t needs, EvalInput& in) {
  exe_paths_.remember(e.file, e.path);
  fill_argv(e, in);
  fill_lineage(e, needs, in);
  if (needs & rules::kNeedGroups) {
    fill_groups(e, in);
  }
  if (needs & rules::kNeedCgroup) {
    fill_cgroup(e, in);
  }
  if (needs & rules::kNeedSha256) {
    fill_exe_hash(e, in);
  }

  rules::ExecContext& c = in.exe;
  c.path = e.path;
  c.file = e.file;
  c.sha256 = in.exe_sha256 ? &*in.exe_sha256 : nullptr;
  c.file_kinds = static_cast<uint8_t>((e.has(CG_EXEC_MEMFD) ? rules::kFileMemfd : 0) |
                                      (e.has(CG_EXEC_DELETED) ? rules::kFileDeleted : 0));
  c.argv = in.argv;
  c.cmdline = in.cmdline;
  c.uid = e.uid;
  c.gid = e.gid;
  c.groups = in.groups;
  c.lineage = in.lineage;
  c.tty = e.has(CG_EXEC_TTY);
  c.cgroup = in.cgroup;

  if (e.has(CG_EXEC_SCRIPT)) {
    fill_script(e, needs, in);
  }
}

void ContextBuilder::fill_argv(const ExecEvent& e, EvalInput& in) {
  if (e.has(CG_EXEC_LSM_DENIED)) {
    // The new image never existed; /proc/<pid>/cmdline is the caller's own.
    in.gaps.push_back("argv not recorded: refused inside execve");
  }
  const std::vector<std::string>* source = &e.argv;
  if (e.has(CG_EXEC_ARGS_TRUNCATED)) {
    // The process has not run: its argv pages still hold exactly what exec copied there.
    if (auto full = proc_.read(e.tgid, "cmdline", kMaxCmdlineBytes)) {
      std::string_view bytes = *full;
      if (!bytes.empty() && bytes.back() == '\0') {
        bytes.remove_suffix(1);
      }
      size_t start = 0;
      while (start <= bytes.size()) {
        size_t end = bytes.find('\0', start);
        if (end == std::string_view::npos) {
          end = bytes.size();
        }
        in.argv_storage.emplace_back(bytes.substr(start, end - start));
        start = end + 1;
      }
      source = &in.argv_storage;
    } else {
      in.gaps.push_back("argv cut at " + std::to_string(CG_ARGS_MAX) + " bytes");
    }
  }
  in.argv.assign(source->begin(), source->end());
  size_t total = 0;
  for (const auto& a : *source) {
    total += a.size() + 1;
  }
  in.cmdline.reserve(total);
  for (size_t i = 0; i < source->size(); ++i) {
    if (i) {
      in.cmdline += ' ';
    }
    in.cmdline += (*source)[i];
  }
}

void ContextBuilder::fill_lineage(const ExecEvent& e, uint32_t needs, EvalInput& in) {
  in.lineage_paths.resize(e.lineage.size());
  if (needs & rules::kNeedLineagePaths) {
    for (size_t i = 0; i < e.lineage.size(); ++i) {
      in.lineage_paths[i] = exe_paths_.lookup(e.lineage[i].exe, e.lineage[i].tgid);
    }
  }
  in.lineage.reserve(e.lineage.size());
  for (size_t i = 0; i < e.lineage.size(); ++i) {
    const LineageEntry& a = e.lineage[i];
    in.lineage.push_back({a.tgid, a.comm, in.lineage_paths[i], a.exe});
  }
}

void ContextBuilder::fill_groups(const ExecEvent& e, EvalInput& in) {
  if (auto status = proc_.read(e.tgid, "status")) {
    in.groups = status_groups(*status);
  } else {
    in.gaps.push_back("supplementary groups unknown");
  }
}

void ContextBuilder::fill_cgroup(const ExecEvent& e, EvalInput& in) {
  if (auto text = proc_.read(e.tgid, "cgroup")) {
    in.cgroup = parse_cgroup_v2(*text);
  } else {
    in.gaps.push_back("cgroup path unknown");
  }
}

void ContextBuilder::fill_exe_hash(const ExecEvent& e, EvalInput& in) {
  // The executed file through the process running it; by its path when execve refused it (the
  // process runs the caller's image), which the identity check below keeps honest.
  const bool refused = e.has(CG_EXEC_LSM_DENIED);
  Result<Fd> fd = refused ? open_file(e.path) : proc_.open(e.tgid, "exe");
  // Even root may be refused the file (FUSE without allow_other): the decision must show the
  // hash is missing because the file could not be read, and why.
  if (!fd) {
    in.gaps.push_back("sha256 unknown: cannot open the executed file: " + fd.error().message);
    return;
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || st.st_dev != e.file.dev || st.st_ino != e.file.ino) {
    in.gaps.push_back(refused ? "sha256 unknown: the refused file was moved or replaced"
                              : "sha256 unknown: the process no longer runs the executed file");
    return;
  }
  if (auto digest = hasher_.hash(fd->get())) {
    in.exe_sha256 = *digest;
  } else {
    in.gaps.push_back("sha256 unknown: " + digest.error().message);
  }
}

void ContextBuilder::fill_script(const ExecEvent& e, uint32_t needs, EvalInput& in) {
  std::string path = e.filename;
  if (!path.empty() && path.front() != '/') {
    auto cwd = proc_.read_link(e.tgid, "cwd");
    if (!cwd) {
      in.gaps.push_back("script path unresolved: " + cwd.error().message);
      return;
    }
    path = *cwd + "/" + path;
  }
  in.script_path = files_.canonical(path);
  if (auto id = files_.identity(in.script_path)) {
    in.script_file = *id;
  } else {
    in.gaps.push_back("script identity unknown: " + in.script_path);
  }
  if (needs & rules::kNeedSha256) {
    Fd fd(::open(in.script_path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd && ::fstat(fd.get(), &st) == 0 && st.st_dev == in.script_file.dev &&
        st.st_ino == in.script_file.ino) {
      if (auto digest = hasher_.hash(fd.get())) {
        in.script_sha256 = *digest;
      }
    }
    if (!in.script_sha256) {
      in.gaps.push_back("script sha256 unknown");
    }
  }
  rules::ExecContext c = in.exe;
  c.path = in.script_path;
  c.file = in.script_file;
  c.sha256 = in.script_sha256 ? &*in.script_sha256 : nullptr;
  c.file_kinds = 0;
  in.script = c;
}

}  // namespace cmdgate
