// Exact-path rules name a file by the identity stat() reports; the kernel must judge execs by
// that same identity, also where stat() does not report the superblock's device (btrfs,
// overlayfs over several file systems) and where root cannot stat the file at all (FUSE without
// allow_other). Each test mounts its own file system in its work directory and unmounts it in
// TearDown, whatever happened. A deny rule must hold its file; a file no rule names must run.

#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

std::string find_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    const std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) {
      return p;
    }
  }
  return "";
}

std::optional<std::string> missing_tool(const std::string& name) {
  if (!find_tool(name).empty()) {
    return std::nullopt;
  }
  return name + " is not installed (scripts/deps)";
}

// A tool the test needs (scripts/deps installs it).
#define REQUIRE_TOOL(name) CMDGATE_REQUIRE(missing_tool(name))

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

// Rules that allow everything but kill each of paths.
std::string deny_rules(const std::vector<std::string>& paths) {
  std::string toml = "default_action = \"allow\"\n";
  for (size_t i = 0; i < paths.size(); ++i) {
    toml += fmt::format("[[rule]]\nid = \"deny-{}\"\naction = \"deny\"\npath = \"{}\"\n", i,
                        paths[i]);
  }
  return toml;
}

// argv as uid:gid with no supplementary groups; waits up to timeout.
RunResult run_as(uid_t uid, gid_t gid, const std::vector<std::string>& argv,
                 std::chrono::milliseconds timeout = 10s) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(126);
    }
    exec_argv(argv);
  }
  RunResult r;
  auto status = wait_status(pid, timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_status(pid, 5s);
  }
  if (status) {
    r.exited = WIFEXITED(*status);
    r.code = r.exited ? WEXITSTATUS(*status) : -1;
    r.signal = WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
  }
  return r;
}

class FileIdentity : public MarkerTargetTest {
 protected:
  void TearDown() override {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
      if (::umount(it->c_str()) != 0) {
        ::umount2(it->c_str(), MNT_DETACH);
      }
    }
    mounts_.clear();
  }

  // Runs a shell command; its output goes into the failure message.
  ::testing::AssertionResult sh(const std::string& command) {
    const RunResult r = run({"/bin/sh", "-c", command + " 2>&1"});
    if (r.exited && r.code == 0) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << command << ": status " << r.code << "\n" << r.out;
  }

  std::string dir(const std::string& name, mode_t mode = 0755) {
    const std::string p = work_->file(name);
    ::mkdir(p.c_str(), mode);
    ::chmod(p.c_str(), mode);
    return p;
  }

  // A btrfs image mounted at work/btrfs, with a subvolume "sub"; returns the mount point.
  std::string mount_btrfs() {
    const std::string image = work_->file("btrfs.img");
    const std::string point = dir("btrfs");
    EXPECT_TRUE(sh(fmt::format("truncate -s 256M {0} && mkfs.btrfs -q -f {0}", image)));
    if (sh(fmt::format("mount -o loop {} {}", image, point))) {
      mounts_.push_back(point);
    }
    EXPECT_TRUE(sh(fmt::format("btrfs -q subvolume create {}/sub", point)));
    return point;
  }

  // An overlay of work/lower (on the work directory's file system) at work/merged. upper_fs:
  // the upper layer on a tmpfs of its own, else next to the lower one.
  std::string mount_overlay(bool upper_fs, const std::string& options) {
    const std::string lower = dir("lower");
    std::string base = work_->path();
    if (upper_fs) {
      base = dir("upperfs");
      if (::mount("tmpfs", base.c_str(), "tmpfs", 0, "mode=0755") == 0) {
        mounts_.push_back(base);
      } else {
        ADD_FAILURE() << "tmpfs: " << std::strerror(errno);
      }
    }
    const std::string upper = base + "/upper";
    const std::string workdir = base + "/work";
    ::mkdir(upper.c_str(), 0755);
    ::mkdir(workdir.c_str(), 0755);
    const std::string merged = dir("merged");
    const std::string data = fmt::format("lowerdir={},upperdir={},workdir={}{}", lower, upper,
                                         workdir, options.empty() ? "" : "," + options);
    if (::mount("overlay", merged.c_str(), "overlay", 0, data.c_str()) == 0) {
      mounts_.push_back(merged);
    } else {
      ADD_FAILURE() << "overlay " << data << ": " << std::strerror(errno);
    }
    return merged;
  }

  // bindfs of work/fsrc at work/fuse, mounted for nobody without allow_other: root gets EACCES
  // on every file in it. Marker files go to out_, which nobody can write.
  std::string mount_fuse() {
    const std::string src = dir("fsrc");
    const std::string point = dir("fuse");
    out_ = dir("out", 01777);
    ::chown(src.c_str(), kNobody, kNobody);
    ::chown(point.c_str(), kNobody, kNobody);
    // libfuse names the mount's owner by its real ids; the effective ones stay root's so that
    // it may open /dev/fuse and mount.
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, 0, 0) != 0 ||
          ::setresuid(kNobody, 0, 0) != 0) {
        ::_exit(126);
      }
      exec_argv({find_tool("bindfs"), "--no-allow-other", src, point});
    }
    const auto status = wait_status(pid, 10s);
    if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
      mounts_.push_back(point);
    } else {
      ADD_FAILURE() << "bindfs did not mount " << point;
    }
    return point;
  }

  // Puts a copy of the marker program in the backing directory, owned by nobody.
  std::string fuse_target(const std::string& name) {
    const std::string backing = work_->file("fsrc/" + name);
    copy_file(marker_path(), backing);
    ::chown(backing.c_str(), kNobody, kNobody);
    return work_->file("fuse/" + name);
  }

  // The exec of path was killed before its first instruction, by the kernel or the daemon.
  void expect_held(const RunResult& r, const std::string& m) {
    EXPECT_EQ(r.signal, SIGKILL) << "status " << r.code;
    EXPECT_FALSE(exists(m)) << "its first instruction ran";
  }

  void expect_ran(const RunResult& r, const std::string& m) {
    EXPECT_TRUE(r.exited && r.code == 0) << "signal " << r.signal << ", status " << r.code;
    EXPECT_TRUE(exists(m)) << "it did not run";
  }

  // The denied exec's record names the file by the identity stat() reports.
  void expect_record_identity(Agent& agent, const std::string& path, const struct stat& st) {
    auto d = agent.wait_decision(
        [&](const json& j) { return j["exe"] == path && j["action"] == "deny"; });
    ASSERT_TRUE(d) << agent.log_text();
    EXPECT_EQ((*d)["dev"], static_cast<uint64_t>(st.st_dev)) << path;
    EXPECT_EQ((*d)["ino"], static_cast<uint64_t>(st.st_ino)) << path;
  }

  std::vector<std::string> mounts_;
  std::string out_;
};

// Every subvolume numbers its files from the same start under one superblock: the first file
// of the top level and of a subvolume share an inode number, and only stat()'s per-subvolume
// device tells them apart.
class Btrfs : public FileIdentity {
 protected:
  void SetUp() override {
    FileIdentity::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    REQUIRE_TOOL("mkfs.btrfs");
    REQUIRE_TOOL("btrfs");
    const std::string vol = mount_btrfs();
    top_ = vol + "/target";
    sub_ = vol + "/sub/target";
    copy_file(marker_path(), top_);
    copy_file(marker_path(), sub_);
    const struct stat a = stat_of(top_);
    const struct stat b = stat_of(sub_);
    ASSERT_EQ(a.st_ino, b.st_ino) << "the twins this test is about";
    ASSERT_NE(a.st_dev, b.st_dev);
  }

  std::string top_;
  std::string sub_;
};

TEST_F(Btrfs, ExactPathDenyHoldsTheTopLevelFileAndNotItsTwinInASubvolume) {
  auto agent = Agent::start({deny_rules({top_})});
  ASSERT_TRUE(agent);
  expect_held(run({top_, marker("top")}), marker("top"));
  expect_ran(run({sub_, marker("sub")}), marker("sub"));
  expect_record_identity(*agent, top_, stat_of(top_));
}

TEST_F(Btrfs, ExactPathDenyHoldsASubvolumeFileAndNotItsTwinAtTheTopLevel) {
  auto agent = Agent::start({deny_rules({sub_})});
  ASSERT_TRUE(agent);
  expect_held(run({sub_, marker("sub")}), marker("sub"));
  expect_ran(run({top_, marker("top")}), marker("top"));
  expect_record_identity(*agent, sub_, stat_of(sub_));
}

// Files of every origin an overlay gives one: only in the lower layer; copied up (its origin
// stays known); a lower hard link copied up (which gets its own inode); created in the upper
// layer. Plus one no rule names.
class Overlay : public FileIdentity {
 protected:
  void check(bool upper_fs, const std::string& options) {
    const std::string lower = dir("lower");
    for (const char* name : {"lower-only", "copied-up", "linked", "free"}) {
      copy_file(marker_path(), lower + "/" + name);
    }
    ASSERT_EQ(::link((lower + "/linked").c_str(), (lower + "/linked2").c_str()), 0);
    const std::string merged = mount_overlay(upper_fs, options);
    ASSERT_FALSE(HasFailure());
    for (const char* name : {"copied-up", "linked"}) {
      ASSERT_EQ(::chmod((merged + "/" + name).c_str(), 0755), 0) << "copy-up of " << name;
    }
    copy_file(marker_path(), merged + "/fresh");

    const std::vector<std::string> held = {merged + "/lower-only", merged + "/copied-up",
                                           merged + "/linked", merged + "/fresh"};
    auto agent = Agent::start({deny_rules(held)});
    ASSERT_TRUE(agent);
    for (const std::string& path : held) {
      SCOPED_TRACE(path);
      const std::string m = path.substr(path.rfind('/') + 1);
      expect_held(run({path, marker(m)}), marker(m));
      expect_record_identity(*agent, path, stat_of(path));
    }
    expect_ran(run({merged + "/free", marker("free")}), marker("free"));
  }
};

// Layers on two file systems without xino: stat() reports a pseudo device per layer, not the
// overlay's device.
TEST_F(Overlay, ExactPathDenyHoldsEveryKindOfFileAcrossTwoFileSystems) {
  check(true, "xino=off");
}

TEST_F(Overlay, ExactPathDenyHoldsEveryKindOfFileAcrossTwoFileSystemsWithXino) {
  check(true, "xino=on");
}

TEST_F(Overlay, ExactPathDenyHoldsEveryKindOfFileOnOneFileSystem) {
  check(false, "");
}

// Mounted for another user without allow_other: root can neither stat the file (exact-path
// rules) nor open /proc/PID/exe (sha256 rules). Only that user can run it.
class Fuse : public FileIdentity {
 protected:
  void SetUp() override {
    FileIdentity::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    REQUIRE_TOOL("bindfs");
    mount_fuse();
    ASSERT_FALSE(HasFailure());
    target_ = fuse_target("target");
    struct stat st {};
    const int rc = ::stat(target_.c_str(), &st);
    const int err = errno;
    ASSERT_NE(rc, 0) << "root can stat: allow_other?";
    ASSERT_EQ(err, EACCES) << std::strerror(err);
  }

  RunResult run_target(const std::string& m) {
    return run_as(kNobody, kNobody, {target_, out_ + "/" + m});
  }
  std::string out(const std::string& m) const { return out_ + "/" + m; }
};

TEST_F(Fuse, ExactPathDenyHoldsAFileRootCannotStat) {
  auto agent = Agent::start({deny_rules({target_})});
  ASSERT_TRUE(agent);
  expect_held(run_target("exact"), out("exact"));
  auto d = agent->wait_decision(
      [&](const json& j) { return j["exe"] == target_ && j["action"] == "deny"; });
  ASSERT_TRUE(d) << agent->log_text();
  EXPECT_EQ((*d)["rule"], "deny-0");
}

// The daemon cannot read the file, so its sha256 is unknown: a sha256 deny rule that could match
// it must hold it (fail closed), and the decision must say why the hash is missing.
TEST_F(Fuse, Sha256DenyHoldsAFileRootCannotRead) {
  const std::string rules = fmt::format(R"(default_action = "allow"
[[rule]]
id = "deny-content"
action = "deny"
sha256 = "{}"
)",
                                        sha256_hex(marker_path()));
  auto agent = Agent::start({rules});
  ASSERT_TRUE(agent);
  const RunResult r = run_target("hash");
  auto d = agent->wait_decision([&](const json& j) { return j["exe"] == target_; });
  ASSERT_TRUE(d) << agent->log_text();
  ASSERT_TRUE(d->contains("gaps")) << d->dump();
  EXPECT_NE((*d)["gaps"].dump().find("sha256 unknown: the executed file cannot be read"),
            std::string::npos)
      << d->dump();
  expect_held(r, out("hash"));
}

TEST_F(Fuse, AFileNoRuleNamesRuns) {
  const std::string other = fuse_target("other");
  auto agent = Agent::start({deny_rules({other})});
  ASSERT_TRUE(agent);
  expect_ran(run_target("control"), out("control"));
  expect_held(run_as(kNobody, kNobody, {other, out("other")}), out("other"));
}

}  // namespace
}  // namespace cmdgate::test
