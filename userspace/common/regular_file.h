#pragma once
// Reading a whole regular file with a size bound: rule files, keys, bundles, passwords. A FIFO,
// device or directory at the path is refused without blocking, and a file that grows while it is
// read cannot push the result past the bound.

#include <sys/stat.h>

#include <cstddef>
#include <functional>
#include <string>

#include "common/result.h"

namespace cmdgate {

// `check` sees the open file's stat before a byte is read (ownership and mode checks).
[[nodiscard]] Result<std::string> read_regular_file(
    const std::string& path, size_t max_bytes,
    const std::function<Status(const struct stat&)>& check = {});

}  // namespace cmdgate
