#include "context/context_builder.h"

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

std::string join(const std::vector<std::string_view>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) {
      out += ' ';
    }
    out += argv[i];
  }
  return out;
}

// trust = "package": whether dpkg vouches for the file at c.path with content `md5`. Anything
// that keeps the answer from being established leaves it unknown, never "not a package's".
void fill_trust(rules::ExecContext& c, const std::optional<trust::Md5>& md5,
                const trust::DpkgDatabase* packages, std::vector<std::string>& gaps) {
  c.trust = 0;
  if ((c.unknown & rules::kUnknownFile) != 0) {
    return;  // reads as unknown already
  }
  const char* why = packages == nullptr ? "dpkg's database could not be read"
                    : !md5              ? "the file's MD5 could not be computed"
                    : (c.unknown & rules::kUnknownPath) != 0 ? "the file's path is unknown"
                                                             : nullptr;
  if (why != nullptr) {
    c.unknown |= rules::kUnknownTrust;
    gaps.push_back(fmt::format("package trust of {} unknown: {}", c.path, why));
    return;
  }
  if (packages->judge(c.path, *md5) == trust::PackageStanding::kTrusted) {
    c.trust |= rules::kTrustPackage;
  }
}

}  // namespace

void ContextBuilder::build(const ExecEvent& e, uint32_t needs, ExecFiles files, EvalInput& in,
                           const trust::DpkgDatabase* packages) {
  const bool check_trust = (needs & rules::kNeedTrust) != 0;
  exe_paths_.remember(e.file, e.path);
  in.files = std::move(files);
  const ExecFiles& f = in.files;
  in.gaps = f.gaps;
  if (e.has(CG_EXEC_LSM_DENIED)) {
    // The new image never existed; /proc/<pid>/cmdline is the caller's own.
    in.gaps.push_back("argv not recorded: refused inside execve");
  }
  in.argv.assign(f.argv.begin(), f.argv.end());
  in.cmdline = join(in.argv);
  fill_lineage(e, needs, in);
  // Unknowns every context of this exec shares.
  uint32_t shared = f.argv_cut ? uint32_t{rules::kUnknownArgv} : 0u;
  if ((needs & rules::kNeedGroups) && !fill_groups(e, in)) {
    shared |= rules::kUnknownGroups;
  }
  if ((needs & rules::kNeedCgroup) && !fill_cgroup(e, in)) {
    shared |= rules::kUnknownCgroup;
  }
  if (e.has(CG_EXEC_AGENT_UNKNOWN)) {
    shared |= rules::kUnknownAgent;
    in.gaps.push_back("agent label unknown");
  }

  rules::ExecContext& c = in.exe;
  c.path = f.exe_path ? std::string_view(*f.exe_path) : std::string_view(e.path);
  c.file = e.file;
  c.sha256 = in.exe_sha256();
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
  c.agents = e.agents;
  c.unknown = shared | (f.exe_unknown & rules::kUnknownPath) |
              ((needs & rules::kNeedSha256) && !c.sha256 ? (f.exe_unknown & ~rules::kUnknownPath)
                                                          : 0u);
  if (check_trust) {
    fill_trust(c, f.exe_md5, packages, in.gaps);
  }

  // A script's kind is never considered: the kernel judged the interpreter's.
  for (const FileFact& s : f.scripts) {
    rules::ExecContext sc = c;
    sc.path = s.path;
    sc.file = s.id;
    sc.sha256 = s.sha256 ? &*s.sha256 : nullptr;
    sc.file_kinds = 0;
    sc.unknown = shared | s.unknown;
    if (check_trust) {
      fill_trust(sc, s.md5, packages, in.gaps);
    }
    in.scripts.push_back(sc);
  }
  if (f.loaded) {
    in.loaded_argv.assign(f.loaded_argv.begin(), f.loaded_argv.end());
    in.loaded_cmdline = join(in.loaded_argv);
    rules::ExecContext lc = c;
    lc.path = f.loaded->path;
    lc.file = f.loaded->id;
    lc.sha256 = f.loaded->sha256 ? &*f.loaded->sha256 : nullptr;
    lc.file_kinds = 0;
    lc.argv = in.loaded_argv;
    lc.cmdline = in.loaded_cmdline;
    lc.unknown = shared | f.loaded->unknown;
    if (check_trust) {
      fill_trust(lc, f.loaded->md5, packages, in.gaps);
    }
    in.loaded = lc;
  }
  if (f.copy_of) {
    rules::ExecContext cc = c;
    cc.path = f.copy_of->path;
    cc.file = f.copy_of->id;
    cc.unknown = shared | f.copy_of->unknown;
    in.copy_of = cc;
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

bool ContextBuilder::fill_groups(const ExecEvent& e, EvalInput& in) {
  if (auto status = proc_.read(e.tgid, "status")) {
    in.groups = status_groups(*status);
    return true;
  }
  in.gaps.push_back("supplementary groups unknown");
  return false;
}

bool ContextBuilder::fill_cgroup(const ExecEvent& e, EvalInput& in) {
  if (auto text = proc_.read(e.tgid, "cgroup")) {
    in.cgroup = parse_cgroup_v2(*text);
    return true;
  }
  in.gaps.push_back("cgroup path unknown");
  return false;
}

}  // namespace cmdgate
