#pragma once
// What the evaluator sees of one exec. Views only: the caller owns the storage, so building a
// context and evaluating it allocates nothing.

#include <compare>
#include <cstdint>
#include <span>
#include <string_view>

#include "rules/model.h"

namespace cmdgate::rules {

// User-space encoding (st_dev, st_ino), as stat(2) reports it.
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  friend auto operator<=>(const FileId&, const FileId&) = default;
};

struct FileIdHash {
  size_t operator()(const FileId& f) const noexcept {
    return std::hash<uint64_t>{}(f.ino * 0x9E3779B97F4A7C15ull ^ f.dev);
  }
};

struct AncestorView {
  uint32_t tgid = 0;
  std::string_view comm;
  std::string_view exe_path;  // empty when unknown
  FileId exe;
};

struct ExecContext {
  std::string_view path;           // resolved absolute path of the executed file
  FileId file;
  const Sha256* sha256 = nullptr;  // null when not computed (see Policy::needs)
  uint8_t file_kinds = 0;          // FileKind bits
  std::span<const std::string_view> argv;
  std::string_view cmdline;        // argv joined by single spaces
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::span<const uint32_t> groups;  // supplementary groups (when Policy::needs says so)
  std::span<const AncestorView> lineage;  // [0] is the parent
  bool tty = false;
  std::string_view cgroup;         // cgroup v2 path (when Policy::needs says so)
};

}  // namespace cmdgate::rules
