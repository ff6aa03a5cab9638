#include "pipeline_fakes.h"

#include <cstring>

#include "probe/abi_check.h"

namespace cmdgate::test {
namespace {

class MemoryWriter final : public LineWriter {
 public:
  explicit MemoryWriter(std::vector<std::string>& lines) : lines_(lines) {}
  void write(std::string_view line) override { lines_.emplace_back(line); }
  void flush() override {}

 private:
  std::vector<std::string>& lines_;
};

template <typename Map>
Result<std::string> lookup(const Map& map, uint32_t pid, std::string_view entry,
                           const char* missing) {
  auto it = map.find({pid, std::string(entry)});
  if (it == map.end()) {
    return Error{missing};
  }
  return it->second;
}

}  // namespace

Result<std::string> FakeProcFs::read(uint32_t pid, std::string_view entry, size_t) const {
  return lookup(files, pid, entry, "no such file");
}

Result<std::string> FakeProcFs::read_link(uint32_t pid, std::string_view entry) const {
  return lookup(links, pid, entry, "no link");
}

std::optional<ParkedEntry> FakeParked::lookup(uint32_t tgid) const {
  auto it = entries.find(tgid);
  return it == entries.end() ? std::nullopt : std::optional(it->second);
}

bool FakeParked::erase(uint32_t tgid, uint64_t exec_id) {
  auto it = entries.find(tgid);
  if (it == entries.end() || it->second.exec_id != exec_id) {
    return false;
  }
  entries.erase(it);
  return true;
}

std::vector<ParkedEntry> FakeParked::list() const {
  std::vector<ParkedEntry> out;
  for (const auto& [tgid, entry] : entries) {
    out.push_back(entry);
  }
  return out;
}

Result<ProcessHandle> FakeControl::pin(uint32_t tgid, uint64_t exec_id) {
  auto e = parked_.lookup(tgid);
  if (!e || e->exec_id != exec_id) {
    return Error{"not parked"};
  }
  return ProcessHandle{tgid, exec_id, Fd()};
}

Status FakeControl::resume(ProcessHandle& p) {
  parked_.erase(p.tgid, p.exec_id);
  actions.push_back("resume " + std::to_string(p.tgid));
  return {};
}

Status FakeControl::kill(ProcessHandle& p) {
  parked_.erase(p.tgid, p.exec_id);
  actions.push_back("kill " + std::to_string(p.tgid));
  return {};
}

std::optional<rules::FileId> FakeFiles::identity(const std::string& path) const {
  if (path == kTargetPath) {
    return kTargetId;
  }
  return std::nullopt;
}

void ImmediateFiles::establish(const ExecEvent& e, uint32_t, const std::vector<rules::HeldTool>&,
                               Done done) {
  ExecFiles f;
  f.argv = e.argv;
  f.exe_sha256 = exe_sha256;
  done(std::move(f));
}

std::vector<std::byte> exec_record_bytes(const RecordSpec& spec) {
  cg_exec_record r{};
  r.hdr.type = CG_RECORD_EXEC;
  r.hdr.ktime_ns = spec.exec_id;
  r.exec_id = spec.exec_id;
  r.dev = (8u << 20) | 1u;  // kernel encoding of 8:1
  r.ino = 42;
  r.pid = r.tgid = spec.tgid;
  r.uid = 1001;
  r.loginuid = spec.loginuid;
  r.sessionid = spec.sessionid;
  r.flags = spec.flags;
  r.verdict = spec.verdict;
  r.policy_generation = spec.generation;
  r.lineage_depth = 1;
  r.lineage[0].tgid = 999;
  std::strcpy(r.lineage[0].comm, "bash");
  std::strcpy(r.comm, "target");
  std::string data = spec.path + '\0';
  r.path_len = static_cast<uint16_t>(data.size());
  std::string args;
  for (const auto& a : spec.argv) {
    args += a + '\0';
  }
  r.args_len = static_cast<uint16_t>(args.size());
  data += args;
  r.hdr.size = static_cast<uint32_t>(sizeof(r) + data.size());
  std::vector<std::byte> out(r.hdr.size);
  std::memcpy(out.data(), &r, sizeof(r));
  std::memcpy(out.data() + sizeof(r), data.data(), data.size());
  return out;
}

PipelineOnFakes::PipelineOnFakes(const PolicyStore& store, PipelineOptions options,
                                 std::unique_ptr<LineWriter> writer)
    : policies(store),
      log(writer != nullptr ? std::move(writer) : std::make_unique<MemoryWriter>(lines)),
      pipeline(PipelineDeps{clock, proc, files, contexts, control, parked, learner, policies, log},
               options) {}

ExecEvent PipelineOnFakes::parked_exec(uint32_t tgid, std::vector<std::string> argv) {
  ExecEvent e;
  e.tgid = e.pid = tgid;
  e.exec_id = next_exec_id++;
  e.ktime_ns = clock.now;
  e.file = kTargetId;
  e.path = kTargetPath;
  e.argv = std::move(argv);
  e.verdict = rules::KernelVerdict::kEvaluate;
  e.flags = CG_EXEC_PARKED;
  e.generation = policies.current()->generation;
  parked.entries[tgid] = {tgid, e.exec_id, clock.now, false};
  return e;
}

}  // namespace cmdgate::test
