#include "policy/path_watch.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <unordered_map>

#include "common/errno_error.h"

namespace cmdgate {
namespace {

constexpr uint32_t kMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

constexpr const char* kAnyToml = "*.toml";

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<std::unique_ptr<PathWatch>> PathWatch::create() {
  std::unique_ptr<PathWatch> w(new PathWatch());
  w->fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w->fd_) {
    return errno_error("inotify_init1");
  }
  return w;
}

void PathWatch::add(const std::string& dir, const std::string& name,
                    std::unordered_map<std::string, int>& added) {
  // Rules name thousands of files in a few directories: one inotify_add_watch per directory.
  auto [it, fresh] = added.try_emplace(dir, -1);
  if (fresh) {
    it->second = ::inotify_add_watch(fd_.get(), dir.c_str(), kMask);
  }
  const int wd = it->second;
  if (wd < 0) {
    return;  // a directory that does not exist yet: the periodic re-resolution covers it
  }
  Dir& d = dirs_[wd];
  d.path = dir;
  d.names.insert(name);
}

void PathWatch::watch(const std::vector<std::string>& rule_paths,
                      const std::vector<std::string>& files) {
  for (const auto& [wd, d] : dirs_) {
    ::inotify_rm_watch(fd_.get(), wd);
  }
  dirs_.clear();
  std::unordered_map<std::string, int> added;
  for (const std::string& p : rule_paths) {
    if (is_dir(p)) {
      add(p, kAnyToml, added);
    } else {
      const std::filesystem::path fp(p);
      add(fp.parent_path().empty() ? "." : fp.parent_path().string(), fp.filename().string(),
          added);
    }
  }
  for (const std::string& f : files) {
    const std::filesystem::path fp(f);
    add(fp.parent_path().string(), fp.filename().string(), added);
  }
}

bool PathWatch::consume() {
  alignas(inotify_event) char buf[16384];
  bool relevant = false;
  for (;;) {
    const ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end()) {
        continue;
      }
      if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) != 0 || ev->len == 0) {
        relevant = true;
        continue;
      }
      const std::string name(ev->name);
      const bool toml = name.size() > 5 && name.ends_with(".toml") && name.front() != '.';
      if (it->second.names.contains(name) || (toml && it->second.names.contains(kAnyToml))) {
        relevant = true;
      }
    }
  }
  return relevant;
}

}  // namespace cmdgate
