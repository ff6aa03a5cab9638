#pragma once
// Who is on the other end of an approval-socket connection, established from the kernel
// (SO_PEERCRED, a pidfd, the fork-time ancestry) rather than from anything the client says.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "kernel/kernel_port.h"
#include "kernel/proc_fs.h"

namespace cmdgate {

struct Peer {
  uint32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary
  uint32_t sid = 0;
  std::string exe;
  std::vector<uint32_t> live_chain;  // current parent chain up to init, nearest first
  std::optional<Ancestry> kernel;    // fork-time ancestry, when the kernel recorded one
};

// Identifies the process behind a connected Unix socket. Fails when it has already exited
// (its pid could name another process by now).
[[nodiscard]] Result<Peer> identify_peer(int socket_fd, const ProcFs& proc,
                                         const KernelPort& kernel);

}  // namespace cmdgate
