#include "context/system_file_facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/errno_error.h"
#include "context/exec_grammar.h"
#include "rules/policy.h"
#include "probe/abi_check.h"

namespace cmdgate {
namespace {

using rules::kUnknownArgv;
using rules::kUnknownFile;
using rules::kUnknownSha256;

// The kernel allows up to 4 levels of interpreters that are themselves scripts.
constexpr size_t kMaxScriptChain = 5;

// A stamp from the attribute cache (a FUSE server is not asked).
std::optional<FileStamp> cached_stamp(int fd) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx) != 0) {
    return std::nullopt;
  }
  FileStamp s;
  s.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  s.ino = sx.stx_ino;
  s.size = sx.stx_size;
  s.mtime_sec = sx.stx_mtime.tv_sec;
  s.mtime_nsec = sx.stx_mtime.tv_nsec;
  s.ctime_sec = sx.stx_ctime.tv_sec;
  s.ctime_nsec = sx.stx_ctime.tv_nsec;
  return s;
}

std::vector<std::string> split_nul(std::string_view bytes) {
  if (!bytes.empty() && bytes.back() == '\0') {
    bytes.remove_suffix(1);
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= bytes.size() && !bytes.empty()) {
    size_t end = bytes.find('\0', start);
    if (end == std::string_view::npos) {
      end = bytes.size();
    }
    out.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

void SystemFileFacts::establish(const ExecEvent& e, uint32_t needs,
                                const std::vector<rules::HeldTool>& held_tools, Done done) {
  const uint64_t id = next_id_++;
  Request r;
  r.done = std::move(done);
  read_argv(e, r.files);
  if (e.has(CG_EXEC_PATH_TRUNCATED)) {
    full_exe_path(e, r.files);
  }
  // The MD5 that trust = "package" compares comes from the same read as the SHA-256.
  const bool hash = (needs & (rules::kNeedSha256 | rules::kNeedTrust)) != 0;
  if ((needs & rules::kNeedTrust) != 0) {
    r.digests = Digests::kSha256AndMd5;
  }
  std::optional<FileStamp> exe_stamp;
  if (hash) {
    exe_stamp = exe(e, id, r);
  }
  if (e.has(CG_EXEC_SCRIPT)) {
    script_chain(e, hash, id, r);
  }
  if (e.has(CG_EXEC_NO_INTERP)) {
    loaded_program(e, hash, id, r);
  }
  const bool labelled = e.agents != 0 || e.has(CG_EXEC_AGENT_UNKNOWN);
  if (labelled && !held_tools.empty() && !rules::is_held_tool(held_tools, e.file)) {
    compare_with_held_tools(e, hash, exe_stamp, held_tools, id, r);
  }
  if (r.outstanding == 0) {
    complete(r);
    return;
  }
  requests_.emplace(id, std::move(r));
}

void SystemFileFacts::complete(Request& r) {
  settle_copy(r);
  r.done(std::move(r.files));
}

void SystemFileFacts::read_argv(const ExecEvent& e, ExecFiles& files) const {
  if (!e.has(CG_EXEC_ARGS_TRUNCATED)) {
    files.argv = e.argv;
    return;
  }
  // Cut in the record. The process has not run: its argv pages still hold what exec copied.
  const size_t total = e.args_total;
  auto full = total < kMaxArgvBytes ? proc_.read(e.tgid, "cmdline", total + 1)
                                    : Result<std::string>(Error{"too long"});
  if (full && full->size() >= total) {
    files.argv = split_nul(*full);
    return;
  }
  files.argv = e.argv;
  files.argv_cut = true;
  files.gaps.push_back(fmt::format("argv unknown past the first {} of {} bytes", CG_ARGS_MAX, total));
}

void SystemFileFacts::full_exe_path(const ExecEvent& e, ExecFiles& files) const {
  // The kernel's text of the whole path, if it fits in a page; checked against the identity so
  // a process that already runs something else does not lend its path.
  auto link = proc_.read_link(e.tgid, "exe");
  struct stat st {};
  if (link && ::stat(fmt::format("/proc/{}/exe", e.tgid).c_str(), &st) == 0 &&
      st.st_dev == e.file.dev && st.st_ino == e.file.ino) {
    std::string path = std::move(*link);
    auto top = proc_.read_link(e.tgid, "root");
    if (top && *top != "/" && path.starts_with(*top + "/")) {
      path.erase(0, top->size());
    }
    files.exe_path = std::move(path);
    return;
  }
  files.exe_unknown |= rules::kUnknownPath;
  files.gaps.push_back("path unknown: deeper or longer than the kernel's walk and readlink allow");
}

std::optional<std::pair<Fd, FileStamp>> SystemFileFacts::executed_file(const ExecEvent& e,
                                                                        Request& r) const {
  // The executed file through the process running it; by its path when execve refused it (the
  // caller runs its own image), which the identity check keeps honest.
  Fd fd;
  int err = 0;
  if (e.has(CG_EXEC_LSM_DENIED)) {
    auto res = paths_.resolve(e.tgid, e.path);
    if (auto* f = std::get_if<ProcessFile>(&res)) {
      fd = std::move(f->fd);
    }
  } else {
    fd.reset(::open(fmt::format("/proc/{}/exe", e.tgid).c_str(), O_PATH | O_CLOEXEC));
    err = fd ? 0 : errno;
  }
  auto stamp = fd ? cached_stamp(fd.get()) : std::nullopt;
  err = fd && !stamp ? errno : err;
  // Even root may be refused the file (FUSE without allow_other): the file is there but its
  // hash cannot be known, which the decision must say rather than that the file went away.
  if (err == EACCES || err == EPERM) {
    r.files.exe_unknown |= kUnknownSha256;
    r.files.gaps.push_back(
        fmt::format("sha256 unknown: the executed file cannot be read: {}", std::strerror(err)));
    return std::nullopt;
  }
  if (!stamp || stamp->dev != e.file.dev || stamp->ino != e.file.ino) {
    r.files.exe_unknown |= kUnknownSha256;
    r.files.gaps.push_back("sha256 unknown: the executed file is no longer there to read");
    return std::nullopt;
  }
  return std::pair{std::move(fd), *stamp};
}

std::optional<FileStamp> SystemFileFacts::exe(const ExecEvent& e, uint64_t id, Request& r) {
  auto file = executed_file(e, r);
  if (!file) {
    return std::nullopt;
  }
  const FileStamp stamp = file->second;
  want_hash(std::move(file->first), id, kExeSlot, r);
  return stamp;
}

void SystemFileFacts::compare_with_held_tools(const ExecEvent& e, bool exe_hashed,
                                              const std::optional<FileStamp>& exe_stamp,
                                              const std::vector<rules::HeldTool>& tools,
                                              uint64_t id, Request& r) {
  const auto unknown = [&](const std::string& why) {
    r.same_size.clear();
    r.files.copy_of =
        FileFact{{}, {}, std::nullopt, rules::kUnknownFile | kUnknownSha256, std::nullopt};
    r.files.gaps.push_back("copy of a held tool unknown: " + why);
  };
  // exe() is already hashing the executed file when the policy hashes every exec.
  std::optional<std::pair<Fd, FileStamp>> exe;
  if (!exe_hashed) {
    exe = executed_file(e, r);
  } else if (exe_stamp) {
    exe = std::pair{Fd(), *exe_stamp};
  }
  if (!exe) {
    unknown("its content cannot be read");
    return;
  }
  // Only a file of the same size can have the same content: most execs hash nothing here.
  std::vector<Fd> fds;
  for (const rules::HeldTool& tool : tools) {
    Fd fd(::open(tool.path.c_str(), O_PATH | O_CLOEXEC));
    auto stamp = fd ? cached_stamp(fd.get()) : std::nullopt;
    if (!stamp || stamp->dev != tool.id.dev || stamp->ino != tool.id.ino) {
      // Replaced since the policy was compiled (it is being compiled again): its content then
      // is not known.
      unknown(tool.path + " changed since the rules were loaded");
      return;
    }
    if (stamp->size == exe->second.size) {
      if (r.same_size.size() == kMaxSameSize) {
        unknown("too many held tools of its size");
        return;
      }
      r.same_size.push_back({tool, std::nullopt, false});
      fds.push_back(std::move(fd));
    }
  }
  if (r.same_size.empty()) {
    r.files.content_compared = true;
    return;
  }
  if (!exe_hashed) {
    want_hash(std::move(exe->first), id, kExeSlot, r);
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    want_hash(std::move(fds[i]), id, kFirstHeldToolSlot + static_cast<uint32_t>(i), r);
  }
}

void SystemFileFacts::settle_copy(Request& r) {
  if (r.same_size.empty()) {
    return;
  }
  const auto& exe = r.files.exe_sha256;
  bool all_known = exe.has_value();
  for (const SameSize& c : r.same_size) {
    if (exe && c.sha256 == *exe) {
      r.files.copy_of = FileFact{c.tool.id, c.tool.path, *exe, 0, std::nullopt};
      return;
    }
    all_known = all_known && !c.unknown && c.sha256;
  }
  if (all_known) {
    r.files.content_compared = true;
    return;
  }
  r.files.copy_of =
      FileFact{{}, {}, std::nullopt, rules::kUnknownFile | kUnknownSha256, std::nullopt};
  r.files.gaps.push_back("copy of a held tool unknown: a digest could not be computed");
}

void SystemFileFacts::script_chain(const ExecEvent& e, bool hash, uint64_t id, Request& r) {
  auto unknown_link = [&](std::string why) {
    r.files.scripts.push_back(
        FileFact{{}, {}, std::nullopt, kUnknownFile | kUnknownSha256, std::nullopt});
    r.files.gaps.push_back("script unknown: " + why);
  };
  if (e.has(CG_EXEC_FILENAME_TRUNCATED)) {
    unknown_link("its name was cut");
    return;
  }
  Resolution next = paths_.resolve(e.tgid, e.filename);
  for (size_t depth = 0;; ++depth) {
    auto* file = std::get_if<ProcessFile>(&next);
    if (file == nullptr) {
      // The kernel just opened it: "not there" now means it was moved, not that it never ran.
      unknown_link(std::get<Unresolved>(next).why);
      return;
    }
    if (depth == kMaxScriptChain) {
      unknown_link("more interpreters than the kernel allows");
      return;
    }
    // Its #! line names the next link: the executed interpreter, or another script.
    std::optional<Shebang> shebang;
    bool readable = false;
    if (paths_.on_local_storage(e.tgid, file->fd.get())) {
      Fd reader(::open(fmt::format("/proc/self/fd/{}", file->fd.get()).c_str(),
                       O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      char head[kShebangBytes];
      const ssize_t n = reader ? ::pread(reader.get(), head, sizeof(head), 0) : -1;
      if (n >= 0) {
        readable = true;
        shebang = parse_shebang(std::string_view(head, static_cast<size_t>(n)));
      }
    }
    // Placed before its hash is asked for: a cached digest is applied at once.
    r.files.scripts.push_back(FileFact{file->id, file->path, std::nullopt, 0, std::nullopt});
    if (hash) {
      want_hash(std::move(file->fd), id, kFirstScriptSlot + static_cast<uint32_t>(depth), r);
    }
    if (!readable) {
      unknown_link("the interpreter of " + r.files.scripts.back().path + " could not be read");
      return;
    }
    if (!shebang) {
      return;  // a binfmt_misc format: the kernel's interpreter runs this file directly
    }
    next = paths_.resolve(e.tgid, shebang->interpreter);
    if (auto* interp = std::get_if<ProcessFile>(&next); interp && interp->id == e.file) {
      return;  // the interpreter the kernel executed: the chain is complete
    }
  }
}

void SystemFileFacts::loaded_program(const ExecEvent& e, bool hash, uint64_t id, Request& r) {
  std::vector<std::string_view> argv(r.files.argv.begin(), r.files.argv.end());
  const LoaderCall call = parse_loader_call(argv);
  auto unknown = [&](std::string name, std::string why) {
    r.files.loaded =
        FileFact{{}, std::move(name), std::nullopt, kUnknownFile | kUnknownSha256, std::nullopt};
    r.files.loaded_argv = call.argv;
    r.files.gaps.push_back("loaded program unknown: " + why);
  };
  if (!call.program) {
    if (r.files.argv_cut) {
      unknown("", "argv was cut before its program");
    }
    return;
  }
  Resolution res = Unresolved{true, {}};
  if (call.program->find('/') != std::string::npos) {
    res = paths_.resolve(e.tgid, *call.program);
  } else {
    for (const std::string& dir : loader_search_dirs()) {
      res = paths_.resolve(e.tgid, dir + "/" + *call.program);
      if (auto* u = std::get_if<Unresolved>(&res); u == nullptr || !u->missing) {
        break;
      }
    }
  }
  if (auto* u = std::get_if<Unresolved>(&res)) {
    // A path that names nothing yet can name a program by the time the loader opens it; only
    // a bare name, looked for in directories the user cannot write, is truly nothing.
    if (u->missing && call.program->find('/') == std::string::npos) {
      r.files.gaps.push_back("loader's program " + *call.program + " does not exist: nothing ran");
    } else {
      unknown(*call.program, u->missing ? "it does not exist yet: it may when the loader looks"
                                        : u->why);
    }
    return;
  }
  ProcessFile& f = std::get<ProcessFile>(res);
  r.files.loaded = FileFact{f.id, f.path, std::nullopt, 0, std::nullopt};
  r.files.loaded_argv = call.argv;
  if (hash) {
    want_hash(std::move(f.fd), id, kLoadedSlot, r);
  }
}

void SystemFileFacts::want_hash(Fd file, uint64_t id, uint32_t slot, Request& r) {
  auto stamp = cached_stamp(file.get());
  if (!stamp) {
    apply(r, slot, {0, HashOutcome::kUnreadable, {}, "sha256 unknown: no attributes"});
    return;
  }
  const Digests want = slot >= kFirstHeldToolSlot ? Digests::kSha256 : r.digests;
  if (auto result = hashes_.submit(std::move(file), *stamp, (id << 8) | slot, want)) {
    apply(r, slot, *result);
  } else {
    ++r.outstanding;
  }
}

void SystemFileFacts::apply(Request& r, uint32_t slot, const HashResult& result) {
  ExecFiles& f = r.files;
  if (slot >= kFirstHeldToolSlot) {
    if (slot - kFirstHeldToolSlot < r.same_size.size()) {
      SameSize& c = r.same_size[slot - kFirstHeldToolSlot];
      c.sha256 = result.ok() ? std::optional(result.digest.sha256) : std::nullopt;
      c.unknown = !result.ok();
    }
    return;
  }
  std::optional<rules::Sha256>* sha = nullptr;
  std::optional<trust::Md5>* md5 = nullptr;
  uint32_t* unknown = nullptr;
  if (slot == kExeSlot) {
    sha = &f.exe_sha256;
    md5 = &f.exe_md5;
    unknown = &f.exe_unknown;
  } else if (slot == kLoadedSlot && f.loaded) {
    sha = &f.loaded->sha256;
    md5 = &f.loaded->md5;
    unknown = &f.loaded->unknown;
  } else if (slot >= kFirstScriptSlot && slot - kFirstScriptSlot < f.scripts.size()) {
    sha = &f.scripts[slot - kFirstScriptSlot].sha256;
    md5 = &f.scripts[slot - kFirstScriptSlot].md5;
    unknown = &f.scripts[slot - kFirstScriptSlot].unknown;
  } else {
    return;
  }
  if (result.ok()) {
    *sha = result.digest.sha256;
    *md5 = result.digest.md5;
  } else {
    *unknown |= kUnknownSha256;
    f.gaps.push_back(result.message);
  }
}

void SystemFileFacts::drain() {
  hashes_.drain([this](HashResult result) {
    auto it = requests_.find(result.token >> 8);
    if (it == requests_.end()) {
      return;
    }
    apply(it->second, static_cast<uint32_t>(result.token & 0xff), result);
    if (--it->second.outstanding == 0) {
      Request r = std::move(it->second);
      requests_.erase(it);
      complete(r);
    }
  });
}

}  // namespace cmdgate
