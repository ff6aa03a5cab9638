// cg_unit_sandbox UNIT [--rw PATH]... -- COMMAND [ARGS...]
//
// Runs COMMAND (as root) inside the sandbox that the [Service] section of a systemd unit file
// describes, as far as it can be built without systemd as PID 1, and execs it:
//
//   Group=                   the primary group, when it exists on this host (else gid 0 stays)
//   CapabilityBoundingSet=   the bounding set (root's capabilities after exec follow it)
//   NoNewPrivileges=         PR_SET_NO_NEW_PRIVS
//   SystemCallFilter=        a seccomp allow list; groups are expanded by
//                            `systemd-analyze syscall-filter`, later lines add or (~) remove,
//                            as systemd does; SystemCallErrorNumber= is the failing errno
//   SystemCallArchitectures=native, RestrictAddressFamilies=, MemoryDenyWriteExecute=,
//   LockPersonality=         seccomp filters with systemd's rules
//   ProtectSystem=strict, ProtectHome=read-only, ReadWritePaths=, RuntimeDirectory=,
//   StateDirectory=, LogsDirectory=
//                            a private mount namespace in which everything is read-only but
//                            /dev, /proc, the named writable paths (when they exist) and --rw
//
// Any other sandbox setting is reported on stderr as not applied. The unit's settings are read
// from the file itself, so a test run through this helper tests the unit as written.

#include <errno.h>
#include <grp.h>
#include <linux/mount.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "cg_unit_sandbox: %s\n", what.c_str());
  std::exit(111);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

using Settings = std::multimap<std::string, std::string>;

Settings read_service_section(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    die("cannot read " + path);
  }
  Settings out;
  std::string line, section;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line[0] == '[') {
      section = line;
      continue;
    }
    const size_t eq = line.find('=');
    if (section == "[Service]" && eq != std::string::npos) {
      out.emplace(line.substr(0, eq), line.substr(eq + 1));
    }
  }
  return out;
}

std::vector<std::string> all(const Settings& s, const std::string& key) {
  std::vector<std::string> out;
  auto [b, e] = s.equal_range(key);
  for (auto it = b; it != e; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::string last(const Settings& s, const std::string& key) {
  const auto v = all(s, key);
  return v.empty() ? "" : v.back();
}

// ---- capabilities ----------------------------------------------------------------------------

const char* const kCapNames[] = {"CAP_CHOWN",
                                 "CAP_DAC_OVERRIDE",
                                 "CAP_DAC_READ_SEARCH",
                                 "CAP_FOWNER",
                                 "CAP_FSETID",
                                 "CAP_KILL",
                                 "CAP_SETGID",
                                 "CAP_SETUID",
                                 "CAP_SETPCAP",
                                 "CAP_LINUX_IMMUTABLE",
                                 "CAP_NET_BIND_SERVICE",
                                 "CAP_NET_BROADCAST",
                                 "CAP_NET_ADMIN",
                                 "CAP_NET_RAW",
                                 "CAP_IPC_LOCK",
                                 "CAP_IPC_OWNER",
                                 "CAP_SYS_MODULE",
                                 "CAP_SYS_RAWIO",
                                 "CAP_SYS_CHROOT",
                                 "CAP_SYS_PTRACE",
                                 "CAP_SYS_PACCT",
                                 "CAP_SYS_ADMIN",
                                 "CAP_SYS_BOOT",
                                 "CAP_SYS_NICE",
                                 "CAP_SYS_RESOURCE",
                                 "CAP_SYS_TIME",
                                 "CAP_SYS_TTY_CONFIG",
                                 "CAP_MKNOD",
                                 "CAP_LEASE",
                                 "CAP_AUDIT_WRITE",
                                 "CAP_AUDIT_CONTROL",
                                 "CAP_SETFCAP",
                                 "CAP_MAC_OVERRIDE",
                                 "CAP_MAC_ADMIN",
                                 "CAP_SYSLOG",
                                 "CAP_WAKE_ALARM",
                                 "CAP_BLOCK_SUSPEND",
                                 "CAP_AUDIT_READ",
                                 "CAP_PERFMON",
                                 "CAP_BPF",
                                 "CAP_CHECKPOINT_RESTORE"};

void apply_group(const Settings& s) {
  const std::string name = last(s, "Group");
  if (name.empty()) {
    return;
  }
  const group* g = getgrnam(name.c_str());
  if (g == nullptr) {
    std::fprintf(stderr, "cg_unit_sandbox: group %s does not exist here, gid stays 0\n",
                 name.c_str());
    return;
  }
  if (setgroups(0, nullptr) != 0 || setresgid(g->gr_gid, g->gr_gid, g->gr_gid) != 0) {
    die("Group=" + name + ": " + std::strerror(errno));
  }
}

void apply_capabilities(const Settings& s) {
  const auto lines = all(s, "CapabilityBoundingSet");
  if (lines.empty()) {
    return;
  }
  std::set<int> keep;
  for (const auto& line : lines) {
    for (const auto& name : words(line)) {
      if (name[0] == '~') {
        die("CapabilityBoundingSet=~... is not supported here");
      }
      int cap = -1;
      for (int i = 0; i < static_cast<int>(std::size(kCapNames)); ++i) {
        if (name == kCapNames[i]) {
          cap = i;
        }
      }
      if (cap < 0) {
        die("unknown capability " + name);
      }
      keep.insert(cap);
    }
  }
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; ++cap) {
    if (!keep.contains(cap) && prctl(PR_CAPBSET_DROP, cap) != 0) {
      die("PR_CAPBSET_DROP: " + std::string(std::strerror(errno)));
    }
  }
}

// ---- file system ----------------------------------------------------------------------------

int mount_setattr_(const char* path, unsigned flags, uint64_t set, uint64_t clr) {
  mount_attr attr{};
  attr.attr_set = set;
  attr.attr_clr = clr;
  return static_cast<int>(
      syscall(SYS_mount_setattr, AT_FDCWD, path, flags | AT_RECURSIVE, &attr, sizeof(attr)));
}

void apply_file_system(const Settings& s, const std::vector<std::string>& extra_rw) {
  const std::string system = last(s, "ProtectSystem");
  if (system.empty() || system == "no") {
    return;
  }
  if (system != "strict") {
    die("ProtectSystem=" + system + " is not supported here");
  }
  const std::string home = last(s, "ProtectHome");
  if (!home.empty() && home != "read-only" && home != "no") {
    die("ProtectHome=" + home + " is not supported here");
  }
  // Writable: the API file systems strict leaves alone, and what the unit names.
  std::vector<std::string> rw = {"/dev", "/proc"};
  for (const auto& line : all(s, "ReadWritePaths")) {
    for (const auto& p : words(line)) {
      rw.push_back(p);
    }
  }
  for (const auto& [key, base] :
       std::vector<std::pair<std::string, std::string>>{{"RuntimeDirectory", "/run/"},
                                                        {"StateDirectory", "/var/lib/"},
                                                        {"LogsDirectory", "/var/log/"}}) {
    for (const auto& line : all(s, key)) {
      for (const auto& d : words(line)) {
        rw.push_back(base + d);
      }
    }
  }
  rw.insert(rw.end(), extra_rw.begin(), extra_rw.end());

  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    die("private mount namespace: " + std::string(std::strerror(errno)));
  }
  std::vector<std::string> bound;
  for (const auto& p : rw) {
    if (access(p.c_str(), F_OK) != 0) {
      std::fprintf(stderr, "cg_unit_sandbox: %s does not exist here, not bound\n", p.c_str());
      continue;
    }
    if (mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      die("bind " + p + ": " + std::strerror(errno));
    }
    bound.push_back(p);
  }
  if (mount_setattr_("/", 0, MOUNT_ATTR_RDONLY, 0) != 0) {
    die("read-only /: " + std::string(std::strerror(errno)));
  }
  for (const auto& p : bound) {
    if (mount_setattr_(p.c_str(), 0, 0, MOUNT_ATTR_RDONLY) != 0) {
      die("writable " + p + ": " + std::strerror(errno));
    }
  }
}

// ---- seccomp ----------------------------------------------------------------------------------

// The members of a systemd syscall group, nested groups expanded.
void expand_group(const std::string& group, std::set<std::string>& out) {
  const std::string cmd = "systemd-analyze syscall-filter --no-pager '" + group + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    die("cannot run systemd-analyze");
  }
  std::vector<std::string> nested;
  char buf[256];
  bool first = true;
  while (std::fgets(buf, sizeof(buf), p) != nullptr) {
    const auto w = words(buf);
    if (first || w.empty() || w[0][0] == '#') {
      first = false;
      continue;
    }
    if (w[0][0] == '@') {
      nested.push_back(w[0]);
    } else {
      out.insert(w[0]);
    }
  }
  if (pclose(p) != 0) {
    die("systemd-analyze syscall-filter " + group + " failed");
  }
  for (const auto& g : nested) {
    expand_group(g, out);
  }
}

void load(scmp_filter_ctx ctx, const char* what) {
  if (seccomp_load(ctx) != 0) {
    die(std::string("loading the ") + what + " filter");
  }
  seccomp_release(ctx);
}

void apply_syscall_filter(const Settings& s) {
  const auto lines = all(s, "SystemCallFilter");
  if (lines.empty()) {
    return;
  }
  if (lines.front()[0] == '~') {
    die("a deny-list SystemCallFilter= is not supported here");
  }
  std::set<std::string> allowed;
  for (const auto& line : lines) {
    const bool remove = line[0] == '~';
    for (const auto& name : words(remove ? line.substr(1) : line)) {
      std::set<std::string> names;
      if (name[0] == '@') {
        expand_group(name, names);
      } else {
        names.insert(name);
      }
      for (const auto& n : names) {
        remove ? (void)allowed.erase(n) : (void)allowed.insert(n);
      }
    }
  }
  int err = EPERM;
  if (const std::string e = last(s, "SystemCallErrorNumber"); !e.empty()) {
    if (e != "EPERM") {
      die("SystemCallErrorNumber=" + e + " is not supported here");
    }
  } else {
    err = -1;  // systemd's default: kill the process
  }
  scmp_filter_ctx ctx = seccomp_init(err < 0 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(err));
  // systemd always allows these, whatever the list says.
  for (const char* n : {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"}) {
    allowed.insert(n);
  }
  size_t added = 0;
  for (const auto& n : allowed) {
    const int nr = seccomp_syscall_resolve_name(n.c_str());
    if (nr == __NR_SCMP_ERROR || nr < 0) {
      continue;  // not a system call on this architecture
    }
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
      die("seccomp_rule_add " + n);
    }
    ++added;
  }
  std::fprintf(stderr, "cg_unit_sandbox: %zu system calls allowed\n", added);
  load(ctx, "system call");
}

void apply_address_families(const Settings& s) {
  const std::string line = last(s, "RestrictAddressFamilies");
  if (line.empty()) {
    return;
  }
  const std::map<std::string, int> known = {{"AF_UNIX", AF_UNIX},
                                            {"AF_INET", AF_INET},
                                            {"AF_INET6", AF_INET6},
                                            {"AF_NETLINK", AF_NETLINK},
                                            {"AF_PACKET", AF_PACKET}};
  std::set<int> allowed;
  for (const auto& w : words(line)) {
    if (!known.contains(w)) {
      die("RestrictAddressFamilies: unknown " + w);
    }
    allowed.insert(known.at(w));
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  for (int af = 0; af < AF_MAX; ++af) {
    if (!allowed.contains(af)) {
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                       SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(af)));
    }
  }
  load(ctx, "address family");
}

void apply_memory_and_personality(const Settings& s) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  bool any = false;
  if (last(s, "MemoryDenyWriteExecute") == "yes") {
    // systemd's rules: no writable+executable mappings, nothing made executable later.
    const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
                     SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx));
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    any = true;
  }
  if (last(s, "LockPersonality") == "yes") {
    const scmp_datum_t current = static_cast<scmp_datum_t>(personality(0xffffffff));
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                     SCMP_A0(SCMP_CMP_NE, current));
    any = true;
  }
  any ? load(ctx, "memory/personality") : seccomp_release(ctx);
}

void report_not_applied(const Settings& s) {
  for (const char* key :
       {"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
        "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictNamespaces",
        "RestrictRealtime", "RestrictSUIDSGID", "DevicePolicy", "PrivateTmp", "PrivateDevices"}) {
    if (s.contains(key)) {
      std::fprintf(stderr, "cg_unit_sandbox: %s= not applied\n", key);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    die("usage: cg_unit_sandbox UNIT [--rw PATH]... -- COMMAND [ARGS...]");
  }
  const Settings s = read_service_section(argv[1]);
  std::vector<std::string> rw;
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--rw") == 0 && i + 1 < argc) {
      rw.push_back(argv[++i]);
    } else {
      die(std::string("unknown argument ") + argv[i]);
    }
  }
  if (i + 1 >= argc) {
    die("no command after --");
  }
  if (last(s, "SystemCallArchitectures") != "" && last(s, "SystemCallArchitectures") != "native") {
    die("SystemCallArchitectures= other than native is not supported here");
  }
  report_not_applied(s);
  apply_file_system(s, rw);
  apply_group(s);
  apply_capabilities(s);
  if (last(s, "NoNewPrivileges") == "yes" && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    die("PR_SET_NO_NEW_PRIVS");
  }
  // Filters last: the steps above need calls the unit's filter may not allow.
  apply_address_families(s);
  apply_memory_and_personality(s);
  apply_syscall_filter(s);
  execv(argv[i + 1], argv + i + 1);
  die(std::string("exec ") + argv[i + 1] + ": " + std::strerror(errno));
}
