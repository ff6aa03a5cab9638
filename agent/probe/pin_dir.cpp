#include "probe/pin_dir.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/errno_error.h"
#include "probe/abi_check.h"
#include "probe/libbpf_error.h"
#include "probe/owner.h"

namespace cmdgate::probe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLinks = "links";
constexpr std::string_view kParked = "parked";

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return errno_error("creating " + path);
  }
  return {};
}

// A parked process of a pinned parked map (of any version: the key is a tgid in every one).
struct ParkedProcess {
  uint32_t tgid = 0;
  Fd pidfd;  // empty when the process is gone
};

// pidfd first, entry second: if the entry still exists once the pidfd does, the pidfd is that
// process (the kernel removes the entry of a parked process that exits, before its pid is free).
std::vector<ParkedProcess> parked_processes(const std::string& map_path) {
  std::vector<ParkedProcess> out;
  Fd map(bpf_obj_get(map_path.c_str()));
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (!map || bpf_obj_get_info_by_fd(map.get(), &info, &len) != 0 || info.key_size != 4) {
    return out;
  }
  std::vector<std::byte> value(info.value_size);
  uint32_t key = 0;
  uint32_t next = 0;
  const uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(map.get(), prev, &next) == 0) {
    ParkedProcess p{next, Fd(static_cast<int>(::syscall(SYS_pidfd_open, next, 0)))};
    if (p.pidfd && bpf_map_lookup_elem(map.get(), &next, value.data()) != 0) {
      p.pidfd.reset();
    }
    out.push_back(std::move(p));
    key = next;
    prev = &key;
  }
  return out;
}

std::string parked_map_of(const std::string& tree) {
  std::error_code ec;
  return fs::is_directory(tree, ec) ? tree + "/" + std::string(kParked) : tree;
}

void unpin_links(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir + "/" + std::string(kLinks), ec)) {
    fs::remove(entry.path(), ec);
  }
}

}  // namespace

std::string PinDir::dir() const { return fmt::format("{}/abi{}", root_, CG_ABI_VERSION); }

std::string PinDir::map(std::string_view name) const { return fmt::format("{}/{}", dir(), name); }

std::string PinDir::link(std::string_view program) const {
  return fmt::format("{}/{}/{}", dir(), kLinks, program);
}

Status PinDir::create() const {
  for (const std::string& d : {root_, dir(), dir() + "/" + std::string(kLinks)}) {
    if (auto s = make_dir(d); !s) {
      return s;
    }
  }
  return {};
}

Status PinDir::replace_link(bpf_link* link, std::string_view program) const {
  const std::string path = this->link(program);
  // Holding the predecessor's link until ours is pinned keeps both attached for that moment;
  // only the owner's programs act, so nothing is judged twice.
  Fd previous(bpf_obj_get(path.c_str()));
  if (previous && ::unlink(path.c_str()) != 0) {
    return errno_error("unpinning " + path);
  }
  if (int err = bpf_link__pin(link, path.c_str())) {
    return libbpf_error("pinning " + path, err);
  }
  return {};
}

void PinDir::remove_other_links(const std::vector<std::string>& keep) const {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir() + "/" + std::string(kLinks), ec)) {
    const std::string name = entry.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) {
      spdlog::info("unpinning {}: a predecessor's program this daemon did not load", name);
      fs::remove(entry.path(), ec);
    }
  }
}

std::vector<std::string> PinDir::foreign_state() const {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string own = dir();
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string path = entry.path().string();
    const std::string name = entry.path().filename().string();
    if (path != own && (name.starts_with("abi") || name == kParked)) {
      out.push_back(path);
    }
  }
  return out;
}

std::vector<uint32_t> sweep_foreign(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    unpin_links(path);
  }
  std::vector<uint32_t> tgids;
  for (const ParkedProcess& p : parked_processes(parked_map_of(path))) {
    if (p.pidfd) {
      tgids.push_back(p.tgid);
    }
  }
  fs::remove_all(path, ec);
  return tgids;
}

Status uninstall(const PinDir& pins, rules::Action on_stop) {
  std::error_code ec;
  if (!pins.enabled() || !fs::exists(pins.root(), ec)) {
    return {};
  }
  if (auto owner = read_owner(pins.map("bss")); owner && owner_running(*owner)) {
    return Error::format("cmdgated (pid {}) enforces from {}: stop it first", owner->tgid,
                         pins.dir());
  }
  std::vector<std::string> trees = pins.foreign_state();
  if (fs::exists(pins.dir(), ec)) {
    trees.push_back(pins.dir());
  }
  // Pin every parked process while the kernel still removes the entries of those that exit, so
  // no recycled pid is signalled; then stop enforcement; then settle them.
  std::vector<ParkedProcess> parked;
  for (const std::string& t : trees) {
    for (ParkedProcess& p : parked_processes(parked_map_of(t))) {
      if (p.pidfd) {
        parked.push_back(std::move(p));
      }
    }
  }
  for (const std::string& t : trees) {
    if (fs::is_directory(t, ec)) {
      unpin_links(t);
    }
  }
  const int sig = on_stop == rules::Action::kAllow ? SIGCONT : SIGKILL;
  for (const ParkedProcess& p : parked) {
    ::syscall(SYS_pidfd_send_signal, p.pidfd.get(), sig, nullptr, 0);
  }
  if (!parked.empty()) {
    spdlog::info("{} {} parked process(es)", sig == SIGCONT ? "resumed" : "killed", parked.size());
  }
  fs::remove_all(pins.root(), ec);
  if (ec) {
    return Error::format("removing {}: {}", pins.root(), ec.message());
  }
  return {};
}

}  // namespace cmdgate::probe
