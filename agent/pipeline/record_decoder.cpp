#include "pipeline/record_decoder.h"

#include <cstring>
#include <string_view>

#include "probe/abi_check.h"
#include "common/dev_encoding.h"

namespace cmdgate {
namespace {

template <typename T>
T load(std::span<const std::byte> bytes) {
  T v;
  std::memcpy(&v, bytes.data(), sizeof(T));
  return v;
}

std::string fixed_string(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

// An audit id as the kernel keeps it: (uint32_t)-1 is "never set" (AUDIT_UID_UNSET).
std::optional<uint32_t> audit_id(uint32_t v) {
  return v == UINT32_MAX ? std::nullopt : std::optional<uint32_t>(v);
}

// A NUL-terminated string of exactly len bytes (len counts the NUL; 0 = absent).
Result<std::string> take_string(std::span<const std::byte>& rest, uint32_t len,
                                std::string_view what) {
  if (len == 0) {
    return std::string();
  }
  if (len > rest.size()) {
    return Error::format("{} length {} runs past the record", what, len);
  }
  const auto* p = reinterpret_cast<const char*>(rest.data());
  if (p[len - 1] != '\0') {
    return Error::format("{} is not NUL-terminated", what);
  }
  rest = rest.subspan(len);
  return std::string(p, len - 1);
}

// argv[0..] separated by NULs; when the kernel cut it short the last one has no NUL.
std::vector<std::string> split_args(std::string_view bytes) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\0', start);
    if (end == std::string_view::npos) {
      end = bytes.size();
    }
    out.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<Record> decode_exec(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(cg_exec_record)) {
    return Error::format("exec record of {} bytes is shorter than its fixed part", bytes.size());
  }
  const auto r = load<cg_exec_record>(bytes);
  if (r.verdict > CG_VERDICT_DENY) {
    return Error::format("exec record has unknown verdict {}", r.verdict);
  }
  if (r.lineage_depth > CG_LINEAGE_DEPTH) {
    return Error::format("exec record has lineage depth {}", r.lineage_depth);
  }

  ExecEvent e;
  e.ktime_ns = r.hdr.ktime_ns;
  e.exec_id = r.exec_id;
  e.start_boottime_ns = r.start_boottime_ns;
  e.cgroup_id = r.cgroup_id;
  e.file = {user_dev_from_kernel(r.dev), r.ino};
  e.size = r.size;
  e.mtime_sec = r.mtime_sec;
  e.ctime_sec = r.ctime_sec;
  e.mtime_nsec = r.mtime_nsec;
  e.ctime_nsec = r.ctime_nsec;
  e.pid = r.pid;
  e.tgid = r.tgid;
  e.ppid = r.ppid;
  e.sid = r.sid;
  e.uid = r.uid;
  e.gid = r.gid;
  e.euid = r.euid;
  e.egid = r.egid;
  e.flags = r.flags;
  e.generation = r.policy_generation;
  e.argc = r.argc;
  e.args_total = r.args_total;
  e.agents = r.agents;
  e.loginuid = audit_id(r.loginuid);
  e.sessionid = audit_id(r.sessionid);
  e.verdict = static_cast<rules::KernelVerdict>(r.verdict);
  e.comm = fixed_string(r.comm, sizeof(r.comm));
  for (uint32_t i = 0; i < r.lineage_depth; ++i) {
    const cg_ancestor& a = r.lineage[i];
    e.lineage.push_back({a.tgid, a.sid, {user_dev_from_kernel(a.dev), a.ino},
                         fixed_string(a.comm, sizeof(a.comm))});
  }

  auto rest = bytes.subspan(sizeof(cg_exec_record));
  auto path = take_string(rest, r.path_len, "path");
  if (!path) {
    return path.error();
  }
  e.path = std::move(*path);
  auto filename = take_string(rest, r.filename_len, "filename");
  if (!filename) {
    return filename.error();
  }
  e.filename = std::move(*filename);
  auto interp = take_string(rest, r.interp_len, "interpreter");
  if (!interp) {
    return interp.error();
  }
  e.interp = std::move(*interp);
  if (r.args_len > rest.size()) {
    return Error::format("args length {} runs past the record", r.args_len);
  }
  e.argv = split_args(std::string_view(reinterpret_cast<const char*>(rest.data()), r.args_len));
  return Record{std::move(e)};
}

}  // namespace

Result<Record> decode_record(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(cg_record_header)) {
    return Error::format("record of {} bytes is shorter than its header", bytes.size());
  }
  const auto hdr = load<cg_record_header>(bytes);
  if (hdr.size != bytes.size()) {
    return Error::format("record header says {} bytes, ring buffer delivered {}", hdr.size,
                         bytes.size());
  }
  switch (hdr.type) {
    case CG_RECORD_EXEC:
      return decode_exec(bytes);
    case CG_RECORD_EXIT: {
      if (bytes.size() != sizeof(cg_exit_record)) {
        return Error::format("exit record of {} bytes", bytes.size());
      }
      const auto r = load<cg_exit_record>(bytes);
      return Record{ExitEvent{hdr.ktime_ns, r.exec_id, r.tgid, r.exit_code}};
    }
    case CG_RECORD_ESCAPE: {
      if (bytes.size() != sizeof(cg_escape_record)) {
        return Error::format("escape record of {} bytes", bytes.size());
      }
      const auto r = load<cg_escape_record>(bytes);
      return Record{EscapeEvent{hdr.ktime_ns, r.exec_id, r.target_tgid, r.sender_tgid,
                                r.sender_uid, r.signal, r.kill_sent != 0}};
    }
    default:
      return Error::format("unknown record type {}", hdr.type);
  }
}

}  // namespace cmdgate
