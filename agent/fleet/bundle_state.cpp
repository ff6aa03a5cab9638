#include "fleet/bundle_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_error.h"
#include "common/fd.h"
#include "fleet/bundle_codec.h"
#include "fleet/secure_file.h"

namespace cmdgate::fleet {
namespace {

constexpr size_t kMaxFloorBytes = 4096;

bool missing(const std::string& path) {
  return ::access(path.c_str(), F_OK) != 0 && errno == ENOENT;
}

// The floor a saved bundle stands for on its own.
Floor floor_of(const VerifiedBundle& v) {
  Floor f;
  f.version = v.bundle.version;
  f.key_id = v.key_id;
  f.payload_sha256 = payload_sha256(v.payload);
  if (v.bundle.rollback) {
    f.created_floor_unix_ms = v.bundle.created_unix_ms;
  }
  return f;
}

}  // namespace

std::string BundleState::bundle_path(const std::string& group) const {
  return fmt::format("{}/{}.bundle", dir_, group);
}

std::string BundleState::rollback_path(const std::string& group) const {
  return fmt::format("{}/{}.rollback", dir_, group);
}

std::string BundleState::floor_path(const std::string& group) const {
  return fmt::format("{}/{}.floor", dir_, group);
}

Status BundleState::prepare() const {
  return make_dirs(dir_, 0700);
}

Status BundleState::save_floor(const std::string& group, const Floor& floor) const {
  return write_file_atomically(floor_path(group), encode_floor(floor), 0600);
}

Status BundleState::save(const std::string& group, const VerifiedBundle& bundle,
                         const Floor& floor) const {
  if (auto s = save_floor(group, floor); !s) {
    return s;
  }
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
  if (missing(path)) {
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

Result<std::optional<Floor>> BundleState::load_floor(const std::string& group) const {
  const std::string path = floor_path(group);
  if (missing(path)) {
    return std::optional<Floor>();
  }
  auto text = read_protected_file(path, Protection::kTrusted, kMaxFloorBytes);
  if (!text) {
    return text.error();
  }
  auto floor = decode_floor(*text, path);
  if (!floor) {
    return floor.error();
  }
  return std::optional<Floor>(std::move(*floor));
}

Restored BundleState::restore(const std::string& group, const TrustedKeys& keys) const {
  Restored r;
  Floor& floor = r.history.floor;
  if (auto recorded = load_floor(group); !recorded) {
    floor.unknown = recorded.error().message;
    r.problems.push_back(recorded.error().message);
  } else if (*recorded) {
    floor = std::move(**recorded);
    r.floor_recorded = true;
  }
  // Without a record, a saved bundle that cannot be read hides how high the floor was.
  const auto unreadable = [&](const Error& e) {
    r.problems.push_back(e.message);
    if (!r.floor_recorded && floor.unknown.empty()) {
      floor.unknown = e.message;
    }
  };
  std::optional<VerifiedBundle> rollback;
  if (auto loaded = load(rollback_path(group), group, keys); !loaded) {
    unreadable(loaded.error());
  } else if (*loaded) {
    rollback = std::move(*loaded);
    floor = higher_floor(floor, floor_of(*rollback));
  }
  auto in_force = load(bundle_path(group), group, keys);
  if (!in_force) {
    unreadable(in_force.error());
  } else if (*in_force && rollback &&
             (*in_force)->bundle.created_unix_ms < rollback->bundle.created_unix_ms) {
    // A rollback's save stopped after <group>.rollback: the bundle left behind belongs to the
    // sequence it abandoned, and the rollback bundle is what was accepted last.
    r.problems.push_back(fmt::format(
        "{}: {} was created before the last accepted rollback {} ({}): using the rollback",
        bundle_path(group), describe((*in_force)->bundle), describe(rollback->bundle),
        rollback_path(group)));
    r.history.in_force = std::move(rollback);
  } else if (*in_force) {
    floor = higher_floor(floor, floor_of(**in_force));
    r.history.in_force = std::move(*in_force);
  }
  return r;
}

Result<std::vector<std::string>> BundleState::reset(const std::string& group) const {
  std::vector<std::string> removed;
  for (const std::string& path : {floor_path(group), rollback_path(group), bundle_path(group)}) {
    if (::unlink(path.c_str()) == 0) {
      removed.push_back(path);
    } else if (errno != ENOENT) {
      return errno_error(fmt::format("removing {}", path));
    }
  }
  if (removed.empty()) {
    return removed;
  }
  const Fd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d || ::fsync(d.get()) != 0) {
    return errno_error(fmt::format("fsync {}", dir_));
  }
  return removed;
}

}  // namespace cmdgate::fleet
