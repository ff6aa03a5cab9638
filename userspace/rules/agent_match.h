#pragma once
// The agent label the kernel gives a process (bpf/lib/label.bpf.h), worked out in user space
// from what the process is: for `cmdgate explain` and for tests of the packs, which have no
// kernel to ask.

#include <cstdint>
#include <string_view>

#include "rules/model.h"

namespace cmdgate::rules {

// The bits of the agents a process named `comm` running the executable at `exe` (empty:
// unknown) is one of: comm patterns ("name" exactly, "prefix*" by its start), exact paths, and
// path globs (a file in a directory a "/*" glob names, or a file another glob matched).
// Declared units are not considered: they need the process's cgroup.
[[nodiscard]] uint64_t agents_of_process(const RuleSet& set, std::string_view comm,
                                         std::string_view exe);

}  // namespace cmdgate::rules
