#pragma once
// Owns cmdgate's BPF objects: open -> set rodata -> size maps -> load -> attach, and the handles
// the rest of the daemon needs. This directory is the only code that includes libbpf.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "probe/abi_check.h"
#include "probe/owner.h"
#include "probe/pin_dir.h"

struct cmdgate_exec;
struct bpf_link;
struct bpf_map;
struct bpf_object;
struct bpf_object_skeleton;

namespace cmdgate::probe {

class GuardProbe;

struct ProbeOptions {
  uint32_t ringbuf_bytes = CG_DEFAULT_RINGBUF_BYTES;  // power of two, at least one page
  pid_t daemon_tgid = 0;
  // bpffs root of the state that outlives the daemon (probe/pin_dir.h). Empty: nothing is
  // pinned, and enforcement ends with the daemon.
  std::string pin_dir = "/sys/fs/bpf/cmdgate";
};

// A program's link, named after the program (its pin name).
struct NamedLink {
  std::string program;
  bpf_link* link = nullptr;
};

// Every attached program of a skeleton.
[[nodiscard]] std::vector<NamedLink> links_of(const bpf_object_skeleton* skeleton);

class BpfProbe {
 public:
  [[nodiscard]] static Result<std::unique_ptr<BpfProbe>> load(const ProbeOptions& options);
  ~BpfProbe();
  BpfProbe(const BpfProbe&) = delete;
  BpfProbe& operator=(const BpfProbe&) = delete;

  // Attaches the exec/fork/exit programs and the guard. They act once this daemon owns the
  // state (PolicyMaps::take_ownership); until then a predecessor's pinned programs enforce.
  [[nodiscard]] Status attach();
  // The exec and guard programs' links, once attached.
  [[nodiscard]] std::vector<NamedLink> links() const;

  [[nodiscard]] const PinDir& pins() const { return pins_; }
  // The predecessor whose pinned state this daemon adopted: its policy stays in force until
  // this daemon publishes one.
  [[nodiscard]] const std::optional<Owner>& adopted() const { return adopted_; }

  [[nodiscard]] int events_fd() const;
  [[nodiscard]] int counters_fd() const;
  [[nodiscard]] int parked_fd() const;
  [[nodiscard]] int lineage_fd() const;
  [[nodiscard]] int rule_inodes_fd() const;
  [[nodiscard]] int learned_fd() const;
  [[nodiscard]] uint32_t learned_capacity() const;
  [[nodiscard]] int path_trie_fd() const;
  [[nodiscard]] int agent_label_fd() const;
  [[nodiscard]] int agent_files_fd() const;
  [[nodiscard]] int agent_dirs_fd() const;
  [[nodiscard]] int agent_names_fd() const;
  [[nodiscard]] int rcu_barrier_fd() const;
  [[nodiscard]] int barrier_inner_fd() const;

  // Shared with the programs through the mmapped .bss; write with single aligned stores.
  [[nodiscard]] cg_control* control() const;
  [[nodiscard]] cg_policy_meta* policy_meta(uint32_t slot) const;

  // For objects that share this one's maps (probe/lsm_probe.h).
  [[nodiscard]] const bpf_object* object() const;
  [[nodiscard]] const bpf_map* bss_map() const;

  [[nodiscard]] uint32_t abi_version() const;
  // Whether the in-kernel escape guard is loaded, and why not when it is not.
  [[nodiscard]] bool has_guard() const { return guard_ != nullptr; }
  // Which guard build, or why none.
  [[nodiscard]] const std::string& guard_status() const { return guard_status_; }
  [[nodiscard]] uint32_t ringbuf_bytes() const { return ringbuf_bytes_; }

 private:
  explicit BpfProbe(PinDir pins);

  // Pins the maps every object shares, adopting a predecessor's where they exist.
  [[nodiscard]] Status pin_maps(uint32_t* ringbuf_bytes);

  PinDir pins_;
  std::optional<Owner> adopted_;
  cmdgate_exec* skel_ = nullptr;
  std::unique_ptr<GuardProbe> guard_;
  std::string guard_status_;
  uint32_t ringbuf_bytes_ = 0;
};

}  // namespace cmdgate::probe
