#pragma once
// Parsers for the text of /proc/<pid>/status and /proc/<pid>/stat, shared by everything that
// reads a process from /proc (approval peers, orphan recovery, group lookups).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kernel/proc_fs.h"

namespace cmdgate {

// Column `column` (0-based) of the status line starting with `key` ("Uid:", "PPid:"); 0 when
// the line or the column is missing.
[[nodiscard]] uint32_t status_field(std::string_view status, std::string_view key,
                                    int column = 0);

// A hexadecimal signal mask line ("SigPnd:", "ShdPnd:", "SigBlk:"); 0 when missing.
[[nodiscard]] uint64_t status_mask(std::string_view status, std::string_view key);

// The "Groups:" line: supplementary group ids.
[[nodiscard]] std::vector<uint32_t> status_groups(std::string_view status);

// The fields of /proc/<pid>/stat that follow "pid (comm)"; comm may hold spaces and ')'.
struct ProcStat {
  char state = '?';
  uint32_t ppid = 0;
  uint32_t pgrp = 0;
  uint32_t session = 0;
  int64_t tty_nr = 0;
};
[[nodiscard]] std::optional<ProcStat> parse_stat(std::string_view stat);

// The session id of a live process, 0 if it is gone.
[[nodiscard]] uint32_t session_of(const ProcFs& proc, uint32_t pid);

}  // namespace cmdgate
