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

// Facts the daemon could not establish for one exec (bits of ExecContext::unknown). A predicate
// that reads an unknown fact might hold: Policy::evaluate() then decides by the strictest outcome
// still possible (see there), so a missing fact never skips a deny or ask rule.
enum Unknown : uint32_t {
  kUnknownFile = 1u << 0,    // identity, path and kinds of the executed file (and so its sha256)
  kUnknownSha256 = 1u << 1,  // the file's content hash (unreadable, too large, timed out)
  kUnknownArgv = 1u << 2,    // argv and cmdline are incomplete: what is there may be cut
  kUnknownGroups = 1u << 3,  // supplementary groups beyond those listed; the real gid is known
  kUnknownCgroup = 1u << 4,
  kUnknownLineage = 1u << 5,  // recorded ancestors are real, but more may exist
  kUnknownPath = 1u << 6,     // the executed file's path (too deep to walk); its identity is known
  kUnknownAgent = 1u << 7,    // the agent label: bits beyond those in `agents` may apply
  // Whether the file is an installed package's, as recorded (its content could not be read, or
  // the package database could not be)
  kUnknownTrust = 1u << 8,
};
inline constexpr uint32_t kUnknownBitCount = 9;
inline constexpr uint32_t kUnknownAll = (1u << kUnknownBitCount) - 1;

// The name of one bit for logs ("file", "sha256", "argv", "groups", "cgroup", "lineage",
// "path", "agent", "trust"); "?" for anything that is not exactly one Unknown bit.
[[nodiscard]] const char* to_string(Unknown u);

struct ExecContext {
  std::string_view path;           // resolved absolute path of the executed file
  FileId file;
  const Sha256* sha256 = nullptr;  // null when not needed (Policy::needs) or not established
  uint8_t file_kinds = 0;          // FileKind bits
  uint8_t trust = 0;  // Trust bits that vouch for the file (when Policy::needs says so)
  std::span<const std::string_view> argv;
  std::string_view cmdline;        // argv joined by single spaces
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::span<const uint32_t> groups;  // supplementary groups (when Policy::needs says so)
  std::span<const AncestorView> lineage;  // [0] is the parent
  bool tty = false;
  std::string_view cgroup;         // cgroup v2 path (when Policy::needs says so)
  uint64_t agents = 0;             // the process's agent label (bits of RuleSet::agents)
  // Unknown bits. What they name is not read, except the parts that stay known: the real gid and
  // the groups listed, the recorded ancestors.
  uint32_t unknown = 0;
};

}  // namespace cmdgate::rules
