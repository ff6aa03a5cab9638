#include "trust/dpkg_database.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "common/hex.h"
#include "common/regular_file.h"
#include "common/source_location.h"

namespace cmdgate::trust {

// dpkg's largest info files (linux-headers, texlive) are a few MiB.
constexpr size_t kMaxInfoFileBytes = size_t{64} << 20;

std::string_view to_string(PackageStanding s) {
  switch (s) {
    case PackageStanding::kTrusted:
      return "an unmodified file of package";
    case PackageStanding::kNotOwned:
      return "owned by no installed package";
    case PackageStanding::kNoChecksum:
      return "dpkg recorded no checksum for it";
    case PackageStanding::kModified:
      return "its content is not what dpkg recorded";
  }
  return "?";
}

class DpkgReader {
 public:
  DpkgReader(std::string admin_dir, std::string root)
      : admin_(std::move(admin_dir)), root_(std::move(root)) {}

  Result<DpkgDatabase> read() {
    if (Status s = read_diversions(); !s) {
      return s.error();
    }
    auto names = list_files();
    if (!names) {
      return names.error();
    }
    for (const std::string& name : *names) {
      if (Status s = read_package(name.substr(0, name.size() - kListSuffix.size())); !s) {
        return s.error();
      }
    }
    return std::move(db_);
  }

 private:
  static constexpr std::string_view kListSuffix = ".list";

  struct Diversion {
    std::string to;
    std::string by;  // package name; ":" for a local diversion (every package's file moves)
  };

  struct Line {
    std::string_view text;
    uint32_t number = 0;
  };

  // Calls f on every line of `text` (the last one may lack its newline); stops at an error.
  template <typename F>
  static Status each_line(std::string_view text, F&& f) {
    uint32_t number = 0;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) {
        end = text.size();
      }
      if (Status s = f(Line{text.substr(start, end - start), ++number}); !s) {
        return s;
      }
      start = end + 1;
    }
    return {};
  }

  static Error at(const std::string& file, uint32_t line, uint32_t column, std::string_view what) {
    const SourceLocation where{std::make_shared<const std::string>(file), line, column};
    return Error::format("{}: {}", format_location(where), what);
  }

  // nullopt when the file does not exist.
  static Result<std::optional<std::string>> read_if_present(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
      return std::optional<std::string>();
    }
    auto text = read_regular_file(path, kMaxInfoFileBytes);
    if (!text) {
      return text.error();  // names the path
    }
    return std::optional<std::string>(std::move(*text));
  }

  Result<std::vector<std::string>> list_files() const {
    const std::string dir = admin_ + "/info";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return Error::format("{}: {}", dir, std::strerror(errno));
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name.size() > kListSuffix.size() && name.ends_with(kListSuffix)) {
        names.emplace_back(name);
      }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());  // a deterministic package numbering
    return names;
  }

  // Three lines per diversion: the diverted path, where it went, the diverting package.
  Status read_diversions() {
    const std::string path = admin_ + "/diversions";
    auto text = read_if_present(path);
    if (!text) {
      return text.error();
    }
    if (!*text) {
      return {};
    }
    std::array<std::string_view, 3> group;
    uint32_t last = 0;
    Status s = each_line(**text, [&](const Line& l) -> Status {
      group[(l.number - 1) % 3] = l.text;
      last = l.number;
      if (!l.text.empty() && l.number % 3 != 0 && l.text.front() != '/') {
        return at(path, l.number, 1, "expected an absolute path");
      }
      if (l.number % 3 == 0) {
        diversions_[std::string(group[0])] = {std::string(group[1]), std::string(group[2])};
      }
      return {};
    });
    if (!s) {
      return s;
    }
    if (last % 3 != 0) {
      return at(path, last, 1,
                "incomplete diversion: expected three lines (path, diverted to, package)");
    }
    return {};
  }

  // The place `listed` (a path as dpkg lists it for `package`) is on disk.
  std::string on_disk(std::string_view package, const std::string& listed) {
    std::string path = listed;
    if (auto it = diversions_.find(listed); it != diversions_.end()) {
      const std::string_view name = package.substr(0, package.find(':'));
      if (it->second.by == ":" || it->second.by != name) {
        path = it->second.to;
      }
    }
    const size_t slash = path.find('/', 1);
    if (slash == std::string::npos) {
      return path;
    }
    const std::string& alias = alias_of(path.substr(0, slash));
    return alias.empty() ? path : alias + path.substr(slash);
  }

  // "/bin" -> "/usr/bin" when /bin is a symlink to usr/bin on the root; "" when no alias.
  const std::string& alias_of(const std::string& top) {
    auto [it, added] = aliases_.try_emplace(top);
    if (!added) {
      return it->second;
    }
    std::array<char, 4096> target{};
    const std::string link = root_ + top;
    const ssize_t n = ::readlink(link.c_str(), target.data(), target.size() - 1);
    if (n <= 0) {
      return it->second;
    }
    std::string_view t(target.data(), static_cast<size_t>(n));
    while (t.size() > 1 && t.back() == '/') {
      t.remove_suffix(1);
    }
    // Only the plain form usrmerge makes: a directory path without "." or ".." parts.
    if (t.empty() || t == "/" || t.find("/.") != std::string_view::npos || t.starts_with(".")) {
      return it->second;
    }
    it->second = t.front() == '/' ? std::string(t) : "/" + std::string(t);
    return it->second;
  }

  Result<std::map<std::string, Md5, std::less<>>> read_md5sums(const std::string& path) {
    std::map<std::string, Md5, std::less<>> sums;
    auto text = read_if_present(path);
    if (!text) {
      return text.error();
    }
    if (!*text) {
      return sums;
    }
    constexpr size_t kHexDigits = 2 * std::tuple_size_v<Md5>;
    Status s = each_line(**text, [&](const Line& l) -> Status {
      Md5 digest{};
      for (size_t i = 0; i < kHexDigits; ++i) {
        const int v = i < l.text.size() ? hex_value(l.text[i]) : -1;
        if (v < 0) {
          return at(path, l.number, static_cast<uint32_t>(i + 1),
                    "expected an MD5 digest (32 hexadecimal digits)");
        }
        digest[i / 2] = static_cast<uint8_t>(digest[i / 2] << 4 | v);
      }
      // "  path" (text mode) or " *path" (binary mode), as md5sum writes them.
      std::string_view rest = l.text.substr(kHexDigits);
      if (rest.size() < 3 || rest[0] != ' ' || (rest[1] != ' ' && rest[1] != '*')) {
        return at(path, l.number, kHexDigits + 1,
                  "expected two spaces and a path after the digest");
      }
      rest.remove_prefix(2);
      if (rest.front() == '/') {
        rest.remove_prefix(1);
      }
      if (rest.empty()) {
        return at(path, l.number, kHexDigits + 3, "empty path");
      }
      sums["/" + std::string(rest)] = digest;
      return {};
    });
    if (!s) {
      return s.error();
    }
    return sums;
  }

  Status read_package(const std::string& package) {
    const std::string base = admin_ + "/info/" + package;
    auto sums = read_md5sums(base + ".md5sums");
    if (!sums) {
      return sums.error();
    }
    const std::string list_path = base + ".list";
    auto list = read_if_present(list_path);
    if (!list) {
      return list.error();
    }
    if (!*list) {
      return {};  // removed since the directory was listed
    }
    const auto index = static_cast<uint32_t>(db_.packages_.size());
    db_.packages_.push_back(package);
    return each_line(**list, [&](const Line& l) -> Status {
      if (l.text.empty() || l.text.front() != '/') {
        return at(list_path, l.number, 1, "expected an absolute path");
      }
      const std::string listed(l.text);
      DpkgDatabase::Owner owner{index, false, {}};
      if (auto it = sums->find(listed); it != sums->end()) {
        owner.has_md5 = true;
        owner.md5 = it->second;
      }
      db_.files_[on_disk(package, listed)].push_back(owner);
      return {};
    });
  }

  const std::string admin_;
  const std::string root_;
  std::map<std::string, Diversion, std::less<>> diversions_;
  std::map<std::string, std::string> aliases_;
  DpkgDatabase db_;
};

Result<DpkgDatabase> DpkgDatabase::load(const std::string& admin_dir, const std::string& root) {
  // "/" and "" both name the real root: paths are appended to it.
  std::string r = root;
  while (!r.empty() && r.back() == '/') {
    r.pop_back();
  }
  return DpkgReader(admin_dir, r).read();
}

PackageStanding DpkgDatabase::judge(std::string_view path, const Md5& content,
                                    std::string* package) const {
  const auto it = files_.find(std::string(path));
  if (it == files_.end()) {
    return PackageStanding::kNotOwned;
  }
  if (package != nullptr) {
    *package = packages_[it->second.front().package];
  }
  bool recorded = false;
  for (const Owner& o : it->second) {
    if (o.has_md5 && o.md5 == content) {
      if (package != nullptr) {
        *package = packages_[o.package];
      }
      return PackageStanding::kTrusted;
    }
    recorded |= o.has_md5;
  }
  return recorded ? PackageStanding::kModified : PackageStanding::kNoChecksum;
}

}  // namespace cmdgate::trust
