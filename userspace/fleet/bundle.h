#pragma once
// A rule bundle as the code sees it (the wire format is bundle.proto; bundle_codec.h converts
// and checks). Semantics: docs/fleet.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/model.h"

namespace cmdgate::fleet {

inline constexpr uint32_t kBundleFormat = 1;
// Larger payloads are refused before anything is decoded (agents may lower it in their config).
inline constexpr size_t kDefaultMaxBundleBytes = 4u * 1024 * 1024;
inline constexpr size_t kMaxRuleFiles = 1000;
// The most the CLI reads as one bundle file (push, verify, inspect): what an agent then accepts
// is bounded by its own max_bundle_bytes.
inline constexpr size_t kMaxBundleFileBytes = 64u * 1024 * 1024;

struct BundleFile {
  std::string name;     // "10-base.toml"
  std::string content;  // TOML
};

struct RollbackMarker {
  uint64_t from_version = 0;  // the newest version this rollback undoes
  std::string reason;
};

struct Bundle {
  std::string group;
  uint64_t version = 0;
  uint64_t created_unix_ms = 0;
  std::vector<BundleFile> files;
  // The combine rule (docs/fleet.md): local rule files are loaded only when admit_local, below
  // every bundle rule, and then only with the actions listed (none listed: any action).
  bool admit_local = false;
  std::vector<rules::Action> local_actions;
  std::optional<RollbackMarker> rollback;
  std::string comment;
};

// A bundle whose signature checked out against a trusted key.
struct VerifiedBundle {
  Bundle bundle;
  std::string key_id;
  std::string payload;   // the exact signed bytes (two bundles are the same iff these are)
  std::string envelope;  // the SignedBundle bytes as received, kept as the last-known-good copy
};

// "web@7" for messages.
[[nodiscard]] std::string describe(const Bundle& b);

}  // namespace cmdgate::fleet
