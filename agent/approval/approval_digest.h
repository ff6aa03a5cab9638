#pragma once
// The content a permanent approval pins its rule to: the SHA-256 of the executed file, or of the
// script for a script exec. A rule naming the path alone would let whatever is put at that path
// later inherit the allow. The digest the pipeline computed to judge the exec is used when there
// is one; otherwise the file is opened through the parked process itself (its /proc/PID/exe,
// its own view of the script's path) on the loop, O_PATH only, and read on a thread, bounded in
// size and time like every other hash.

#include <optional>
#include <string>

#include "common/fd.h"
#include "common/result.h"
#include "context/hash_service.h"
#include "context/process_paths.h"
#include "park/pending_table.h"

namespace cmdgate {

struct DigestSource {
  Fd file;  // O_PATH: opening it did not ask the file system for anything
  rules::FileId id;
  std::string path;
};

// The file a permanent approval of r allows: its script for a script exec, else what it runs.
[[nodiscard]] std::string permanent_path(const PendingRequest& r);
// Its digest, when the pipeline established it.
[[nodiscard]] std::optional<rules::Sha256> known_digest(const PendingRequest& r);
// That file, as the parked process sees it; an error when it is no longer the file it executed.
// Asks the kernel's caches only: runs on the loop.
[[nodiscard]] Result<DigestSource> digest_source(const PendingRequest& r,
                                                 const ProcessPaths& paths);
// Reads and hashes it. Blocks: for a thread.
[[nodiscard]] Result<rules::Sha256> read_digest(const DigestSource& s, const HashSettings& limits);

}  // namespace cmdgate
