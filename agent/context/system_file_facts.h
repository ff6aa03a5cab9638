#pragma once
// FileFacts on the real system. On the event loop it only asks the kernel's caches (paths with
// RESOLVE_CACHED, O_PATH opens, cached attributes) and procfs, and reads the first bytes of
// scripts on local file systems; every full read (hashing) runs on HashService's workers,
// bounded in size and time. So a file on a FUSE mount whose server never answers, a 1 TiB
// sparse file, or a path nobody resolved lately costs an "unknown", never a stalled loop.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "context/exec_files.h"
#include "context/file_stamp.h"
#include "context/hash_service.h"
#include "context/process_paths.h"
#include "kernel/proc_fs.h"

namespace cmdgate {

class SystemFileFacts final : public FileFacts {
 public:
  SystemFileFacts(const ProcFs& proc, const ProcessPaths& paths, HashService& hashes)
      : proc_(proc), paths_(paths), hashes_(hashes) {}

  void establish(const ExecEvent& e, uint32_t needs,
                 const std::vector<rules::HeldTool>& held_tools, Done done) override;

  // Hash results, from the loop (HashService::completion_fd readable).
  void drain();

  // Most argv bytes re-read from /proc when the record was cut; the kernel allows less.
  static constexpr size_t kMaxArgvBytes = 16u << 20;

 private:
  // A held tool of the executed file's size, and its digest once known.
  struct SameSize {
    rules::HeldTool tool;
    std::optional<rules::Sha256> sha256;
    bool unknown = false;
  };
  struct Request {
    ExecFiles files;
    Done done;
    size_t outstanding = 0;
    std::vector<SameSize> same_size;
    Digests digests = Digests::kSha256;  // of the exec's own files (held tools: SHA-256 only)
  };
  // Where a hash result goes: the executed file, or one of the request's other files.
  static constexpr uint32_t kExeSlot = 0;
  static constexpr uint32_t kLoadedSlot = 1;
  static constexpr uint32_t kFirstScriptSlot = 2;
  static constexpr uint32_t kFirstHeldToolSlot = 16;
  static constexpr uint32_t kMaxSameSize = 256 - kFirstHeldToolSlot;

  void read_argv(const ExecEvent& e, ExecFiles& files) const;
  void full_exe_path(const ExecEvent& e, ExecFiles& files) const;
  // The executed file, opened O_PATH, with its cached attributes; nullopt (with the reason in
  // the request's gaps and exe_unknown) when it cannot be read or is no longer there.
  std::optional<std::pair<Fd, FileStamp>> executed_file(const ExecEvent& e, Request& r) const;
  // Asks for the executed file's digest; returns its attributes when it could be opened.
  std::optional<FileStamp> exe(const ExecEvent& e, uint64_t id, Request& r);
  void compare_with_held_tools(const ExecEvent& e, bool exe_hashed,
                               const std::optional<FileStamp>& exe_stamp,
                               const std::vector<rules::HeldTool>& tools, uint64_t id,
                               Request& r);
  // Once every digest is in: which held tool, if any, the executed file is a copy of.
  static void settle_copy(Request& r);
  void complete(Request& r);
  void script_chain(const ExecEvent& e, bool hash, uint64_t id, Request& r);
  void loaded_program(const ExecEvent& e, bool hash, uint64_t id, Request& r);
  // The digest for the file in `slot`, which must already be in the request: at once from the
  // cache, else later.
  void want_hash(Fd file, uint64_t id, uint32_t slot, Request& r);
  void apply(Request& r, uint32_t slot, const HashResult& result);

  const ProcFs& proc_;
  const ProcessPaths& paths_;
  HashService& hashes_;
  std::map<uint64_t, Request> requests_;
  uint64_t next_id_ = 1;
};

}  // namespace cmdgate
