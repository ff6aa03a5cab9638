#pragma once
// What dpkg says it installed: every file an installed package owns, at the place it is on disk,
// with the MD5 dpkg recorded for it (docs/rules.md, trust = "package").
//
// Read from the admin directory (/var/lib/dpkg): info/<package>[:<arch>].list (the files a
// package owns: what dpkg updates when another package takes a file over) and
// info/<package>[:<arch>].md5sums (their digests, relative to /; some packages have none, and
// conffiles are never in it), and the diversions file (a diverted file of any package but the
// diverting one is installed under the diverted-to name). A path whose first component is a
// symlink on the root (usrmerge: /bin -> usr/bin) is kept under the place it resolves to, since
// that is the path an exec reports.
//
// Reading is all or nothing: a line that is not what dpkg writes fails the whole load with its
// place, so no file's standing ever rests on a half-read database.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "trust/md5.h"

namespace cmdgate::trust {

// dpkg's admin directory on the host, and what changes in it when dpkg has changed packages: it
// rewrites (renames into place) the status file at the end of every step.
inline constexpr std::string_view kDpkgAdminDir = "/var/lib/dpkg";
inline constexpr std::string_view kDpkgStatusFile = "/var/lib/dpkg/status";

enum class PackageStanding : uint8_t {
  kTrusted,     // owned by an installed package, with the content dpkg recorded
  kNotOwned,    // no installed package owns a file at this path
  kNoChecksum,  // owned, but dpkg recorded no digest for it (no md5sums, or a conffile)
  kModified,    // owned, and its content is not what dpkg recorded
};
[[nodiscard]] std::string_view to_string(PackageStanding s);

class DpkgDatabase {
 public:
  // admin_dir: dpkg's database (/var/lib/dpkg); root: the tree its paths name ("/").
  [[nodiscard]] static Result<DpkgDatabase> load(const std::string& admin_dir,
                                                 const std::string& root = "/");

  // The standing of the file at `path` (absolute, as an exec reports it) whose content has
  // `content` as its MD5. `package` (if given) is set to an owner's name when one owns it.
  [[nodiscard]] PackageStanding judge(std::string_view path, const Md5& content,
                                      std::string* package = nullptr) const;

  [[nodiscard]] size_t file_count() const { return files_.size(); }
  [[nodiscard]] size_t package_count() const { return packages_.size(); }

 private:
  struct Owner {
    uint32_t package = 0;  // index into packages_
    bool has_md5 = false;
    Md5 md5{};
  };
  std::vector<std::string> packages_;  // "name" or "name:arch", as the info files are named
  // By on-disk path. Usually one owner; Multi-Arch: same packages share files.
  std::unordered_map<std::string, std::vector<Owner>> files_;

  friend class DpkgReader;
};

}  // namespace cmdgate::trust
