#pragma once
// Files that hold secrets or decide what is trusted: read only when their permissions say that
// nobody else could have written (or read) them, and written atomically.

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "common/result.h"

namespace cmdgate::fleet {

enum class Protection {
  kSecret,   // a secret key or password: no access at all for group or others
  kTrusted,  // a trusted public key or a stored bundle: nobody but the owner may write it
};

// Reads a regular file of at most max_bytes, refusing one whose owner is neither root nor the
// effective user, or whose mode grants group/others more than `protection` allows. Errors name
// the file and say how to fix it.
[[nodiscard]] Result<std::string> read_protected_file(const std::string& path,
                                                      Protection protection, size_t max_bytes);
// The same ownership and write checks for a directory of trusted files.
[[nodiscard]] Status check_protected_dir(const std::string& path);

// Writes a new file at path with exactly `mode`, refusing to replace an existing one.
[[nodiscard]] Status write_new_file(const std::string& path, std::string_view bytes, mode_t mode);
// Replaces path atomically (temporary file in the same directory, fsync, rename, fsync of the
// directory): a crash leaves the old content or the new, never a mix. The temporary files of
// writers that died before their rename are removed.
[[nodiscard]] Status write_file_atomically(const std::string& path, std::string_view bytes,
                                           mode_t mode);
// mkdir -p with `mode` for the directories it creates.
[[nodiscard]] Status make_dirs(const std::string& path, mode_t mode);

}  // namespace cmdgate::fleet
