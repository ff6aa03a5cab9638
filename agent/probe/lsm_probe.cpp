#include "probe/lsm_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>

#include "cmdgate_exec.skel.h"
#include "cmdgate_lsm.skel.h"
#include "common/errno_error.h"
#include "probe/libbpf_error.h"
#include "probe/map_sharing.h"
#include "probe/verifier_stats.h"

namespace cmdgate::probe {
namespace {

// The LSM object uses the exec object's .bss (control, per-slot metadata) as its own, so both
// must lay it out identically: adding a global to one program and not the other breaks here.
using ExecBss = std::remove_pointer_t<decltype(cmdgate_exec::bss)>;
using LsmBss = std::remove_pointer_t<decltype(cmdgate_lsm::bss)>;
static_assert(sizeof(ExecBss) == sizeof(LsmBss));
static_assert(offsetof(ExecBss, cg_control) == offsetof(LsmBss, cg_control));
static_assert(offsetof(ExecBss, cg_policy_meta) == offsetof(LsmBss, cg_policy_meta));

// libbpf's messages while the LSM object loads go to the debug log, not stderr: a refusal here
// is an expected outcome on many kernels (the daemon falls back), not an error to shout about.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture() : previous_(libbpf_set_print(&LibbpfLogCapture::print)) { text_.clear(); }
  ~LibbpfLogCapture() { libbpf_set_print(previous_); }
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  void flush_to_debug_log() const {
    if (!text_.empty()) {
      spdlog::debug("libbpf, loading the LSM programs:\n{}", text_);
    }
  }

 private:
  static int print(libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) {
      return 0;
    }
    char line[4096];
    const int n = std::vsnprintf(line, sizeof(line), format, args);
    text_.append(line, n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof(line) - 1));
    return n;
  }

  static inline std::string text_;  // start-up is single-threaded
  libbpf_print_fn_t previous_;
};

// A two-instruction LSM program on the hook with BTF id `hook` (0: none); the load's fd or error.
int load_return_zero(__u32 hook) {
  const bpf_insn return_zero[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}};
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC, .attach_btf_id = hook);
  return bpf_prog_load(BPF_PROG_TYPE_LSM, "cg_lsm_probe", "GPL", return_zero,
                       std::size(return_zero), &opts);
}

// Whether this kernel loads BPF LSM programs at all, tried with that program on the
// bprm_check_security hook: where it refuses (a hypervisor's or lockdown's EPERM), the full object
// is not opened, relocated and refused program by program.
Status lsm_programs_load(const btf* vmlinux) {
  const int hook = btf__find_by_name_kind(vmlinux, "bpf_lsm_bprm_check_security", BTF_KIND_FUNC);
  if (hook < 0) {
    return Error{"the kernel has no bprm_check_security LSM hook"};
  }
  const int fd = load_return_zero(static_cast<__u32>(hook));
  if (fd < 0) {
    return libbpf_error("loading the LSM programs", fd);
  }
  ::close(fd);
  return {};
}

// "lsm/task_kill" -> "task_kill"
std::string hook_of(const bpf_program* prog) {
  std::string_view sec = bpf_program__section_name(prog);
  const size_t slash = sec.find('/');
  return std::string(slash == std::string_view::npos ? sec : sec.substr(slash + 1));
}

}  // namespace

Status lsm_programs_not_refused_outright() {
  const int fd = load_return_zero(0);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  if (fd == -EPERM) {
    return libbpf_error("loading the LSM programs", fd);
  }
  return {};  // the expected complaint about the missing hook: the kernel looked that far
}

Result<std::unique_ptr<LsmProbe>> LsmProbe::load(const BpfProbe& exec, pid_t daemon_tgid) {
  LibbpfLogCapture capture;
  auto probe = open_and_load(exec, daemon_tgid);
  if (!probe) {
    capture.flush_to_debug_log();
  }
  return probe;
}

Result<std::unique_ptr<LsmProbe>> LsmProbe::open_and_load(const BpfProbe& exec, pid_t daemon_tgid) {
  std::unique_ptr<LsmProbe> probe(new LsmProbe());
  probe->skel_ = cmdgate_lsm__open();
  if (probe->skel_ == nullptr) {
    return errno_error("opening the LSM BPF object");
  }
  cmdgate_lsm* skel = probe->skel_;
  skel->rodata->cg_daemon_tgid = static_cast<__u32>(daemon_tgid);

  // Per hook: load only what this kernel can attach (bpf_lsm_<hook> is in its BTF).
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) {
    return errno_error("reading the kernel's BTF");
  }
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel->obj) {
    const std::string hook = hook_of(prog);
    if (btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC) >= 0) {
      probe->hooks_.push_back(hook);
    } else {
      probe->missing_.push_back(hook);
      bpf_program__set_autoload(prog, false);
    }
  }
  const Status loads = lsm_programs_load(vmlinux);
  btf__free(vmlinux);
  if (!loads) {
    return loads.error();
  }

  if (auto s = share_maps(exec, skel->obj, skel->maps.bss); !s) {
    return s.error();
  }
  const VerifierStats stats(skel->obj);
  if (int err = cmdgate_lsm__load(skel)) {
    return libbpf_error("loading the LSM programs", err);
  }
  stats.log();
  if (skel->rodata->cg_abi_version != CG_ABI_VERSION) {
    return Error::format("LSM BPF object has ABI version {}, this daemon speaks {}",
                         skel->rodata->cg_abi_version, CG_ABI_VERSION);
  }
  return probe;
}

LsmProbe::~LsmProbe() {
  if (skel_ != nullptr) {
    cmdgate_lsm__destroy(skel_);
  }
}

std::vector<NamedLink> LsmProbe::links() const { return links_of(skel_->skeleton); }

Status LsmProbe::attach() {
  if (int err = cmdgate_lsm__attach(skel_)) {
    return libbpf_error("attaching the LSM programs", err);
  }
  return {};
}

}  // namespace cmdgate::probe
