#include "probe/lsm_support.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <fstream>
#include <sstream>

#include "common/errno_error.h"

namespace cmdgate::probe {

Status bpf_lsm_active(const std::string& securityfs_dir) {
  struct statfs fs {};
  if (::statfs(securityfs_dir.c_str(), &fs) != 0 || fs.f_type != SECURITYFS_MAGIC) {
    if (::mount("securityfs", securityfs_dir.c_str(), "securityfs", 0, nullptr) != 0) {
      return errno_error("securityfs is not mounted and cannot be mounted on " + securityfs_dir);
    }
  }
  const std::string path = securityfs_dir + "/lsm";
  std::ifstream f(path);
  if (!f) {
    return Error::format("cannot read {}", path);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  std::string list = ss.str();
  while (!list.empty() && (list.back() == '\n' || list.back() == '\0')) {
    list.pop_back();
  }
  if (!lsm_list_has(list, "bpf")) {
    return Error::format("bpf is not in the active LSM list ({})", list);
  }
  return {};
}

}  // namespace cmdgate::probe
