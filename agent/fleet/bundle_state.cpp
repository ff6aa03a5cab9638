#include "fleet/bundle_state.h"

#include <unistd.h>

#include <cerrno>

#include "fleet/bundle_codec.h"
#include "fleet/secure_file.h"

namespace cmdgate::fleet {

std::string BundleState::bundle_path(const std::string& group) const {
  return fmt::format("{}/{}.bundle", dir_, group);
}

std::string BundleState::rollback_path(const std::string& group) const {
  return fmt::format("{}/{}.rollback", dir_, group);
}

Status BundleState::prepare() const {
  return make_dirs(dir_, 0700);
}

Status BundleState::save(const std::string& group, const VerifiedBundle& bundle) const {
  // The floor before the bundle: a crash in between leaves the older bundle in force with a
  // floor that only refuses what the rollback refuses anyway.
  if (bundle.bundle.rollback) {
    if (auto s = write_file_atomically(rollback_path(group), bundle.envelope, 0600); !s) {
      return s;
    }
  }
  return write_file_atomically(bundle_path(group), bundle.envelope, 0600);
}

Result<std::optional<VerifiedBundle>> BundleState::load(const std::string& path,
                                                        const std::string& group,
                                                        const TrustedKeys& keys) const {
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return std::optional<VerifiedBundle>();
  }
  auto bytes = read_protected_file(path, Protection::kTrusted, max_bytes_);
  if (!bytes) {
    return bytes.error();
  }
  auto v = verify_bundle(*bytes, keys, max_bytes_);
  if (!v) {
    return v.error().context(path);
  }
  if (v->bundle.group != group) {
    return Error::format("{}: holds a bundle for group '{}'", path, v->bundle.group);
  }
  return std::optional<VerifiedBundle>(std::move(*v));
}

Result<GroupHistory> BundleState::restore(const std::string& group, const TrustedKeys& keys) const {
  GroupHistory h;
  auto rollback = load(rollback_path(group), group, keys);
  if (!rollback) {
    return rollback.error();
  }
  if (*rollback) {
    h.created_floor_unix_ms = (*rollback)->bundle.created_unix_ms;
  }
  auto in_force = load(bundle_path(group), group, keys);
  if (!in_force) {
    return in_force.error();
  }
  h.in_force = std::move(*in_force);
  return h;
}

}  // namespace cmdgate::fleet
