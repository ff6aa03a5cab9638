#pragma once
// Runs a computation in a child forked from this process and returns the bytes it produced.
//
// For work whose side effects the caller must not keep: the child's page faults (code of a
// library only that work uses), its heap and any crash or hang stay in the child, and the caller
// gets the result or an error naming what went wrong.
//
// The child is a copy of a process that may have other threads, of which only the calling one
// exists there: body must not wait for a lock another thread could have held at the fork.
// glibc's malloc resets its own locks in the child; a logger's or a pool's would stay taken.
// The child dies with the calling thread (PR_SET_PDEATHSIG) and is killed at the deadline; it
// leaves through _exit, running no destructor or atexit handler of the parent's objects.

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace cmdgate {

[[nodiscard]] Result<std::string> run_in_child(const std::function<std::string()>& body,
                                               std::chrono::milliseconds deadline);

}  // namespace cmdgate
