// Resolving the exact paths of a whole rule set. Rules name thousands of files in a few
// directories, and realpath(3) reads every component of every path. Here each directory is
// resolved once; a file in it is then one lstat, which is also its identity when it is not a
// symbolic link. Every other case (a link, "." or "..", an error other than "not there") takes
// canonical() and identity() themselves, so the result is theirs, path by path.

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "rules/policy.h"

namespace cmdgate::rules {
namespace {

struct ResolvedDirectory {
  std::string canonical;
  int error = 0;  // realpath's errno; 0: resolved
};

ResolvedDirectory resolve_directory(const std::string& dir) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(dir.c_str(), nullptr),
                                                       &std::free);
  if (resolved == nullptr) {
    return {{}, errno};
  }
  return {resolved.get(), 0};
}

// Both realpath and stat of a path fail this way when they fail so on a directory on it.
bool not_there(int error) {
  return error == ENOENT || error == ENOTDIR;
}

class DirectoryCache {
 public:
  explicit DirectoryCache(const SystemFileResolver& one_by_one) : one_by_one_(one_by_one) {}

  ResolvedPath resolve(std::string path) {
    const size_t slash = path.rfind('/');
    if (path.empty() || path.front() != '/' || slash == std::string::npos) {
      return one_by_one(std::move(path));
    }
    const std::string_view name = std::string_view(path).substr(slash + 1);
    if (name.empty() || name == "." || name == "..") {
      return one_by_one(std::move(path));
    }
    const std::string dir = slash == 0 ? std::string("/") : path.substr(0, slash);
    auto [it, fresh] = dirs_.try_emplace(dir);
    if (fresh) {
      it->second = resolve_directory(dir);
    }
    const ResolvedDirectory& d = it->second;
    if (d.error != 0) {
      return not_there(d.error) ? unresolved(std::move(path)) : one_by_one(std::move(path));
    }
    std::string file = d.canonical == "/" ? std::string() : d.canonical;
    file += '/';
    file += name;
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
      return not_there(errno) ? unresolved(std::move(path)) : one_by_one(std::move(path));
    }
    if (S_ISLNK(st.st_mode)) {
      return one_by_one(std::move(path));
    }
    return {std::move(path), std::move(file),
            FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}};
  }

 private:
  ResolvedPath one_by_one(std::string path) const {
    std::string canonical = one_by_one_.canonical(path);
    auto id = one_by_one_.identity(path);
    return {std::move(path), std::move(canonical), id};
  }
  // What realpath and stat give a path that is not there: the text itself, no identity.
  static ResolvedPath unresolved(std::string path) {
    std::string canonical = path;
    return {std::move(path), std::move(canonical), std::nullopt};
  }

  const SystemFileResolver& one_by_one_;
  std::unordered_map<std::string, ResolvedDirectory> dirs_;
};

}  // namespace

std::vector<ResolvedPath> SystemFileResolver::resolve(std::vector<std::string> paths) const {
  DirectoryCache cache(*this);
  std::vector<ResolvedPath> out;
  out.reserve(paths.size());
  for (std::string& path : paths) {
    out.push_back(cache.resolve(std::move(path)));
  }
  return out;
}

}  // namespace cmdgate::rules
