// trust = "package" end to end: a tiny .deb built here and installed with dpkg holds the marker
// program; the policy denies everything in the package's directory and in the test's work
// directory unless dpkg vouches for it. The system's own package files are never touched: the
// test's package is removed again in TearDown, whatever happened.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"
#include "trust/md5.h"

namespace cmdgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPackage = "cmdgate-trust-test";
constexpr const char* kInstallDir = "/usr/lib/cmdgate-trust-test";

std::optional<std::string> missing_dpkg() {
  for (const char* tool : {"/usr/bin/dpkg", "/usr/bin/dpkg-deb"}) {
    if (::access(tool, X_OK) != 0) {
      return std::string(tool) + " is not installed";
    }
  }
  return std::nullopt;
}

std::string md5_hex(const std::string& bytes) {
  std::string out;
  for (uint8_t b : trust::md5_of(bytes).value()) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

class PackageTrust : public MarkerTargetTest {
 protected:
  void SetUp() override {
    MarkerTargetTest::SetUp();
    CMDGATE_REQUIRE_ROOT_BPF();
    CMDGATE_REQUIRE(missing_dpkg());
    ASSERT_FALSE(exists(kInstallDir)) << kInstallDir << " exists: a previous run left it?";
    // The package: the marker as /usr/lib/cmdgate-trust-test/marker, with its md5sums as
    // dh_md5sums writes them.
    const std::string tree = work_->file("pkg");
    std::filesystem::create_directories(tree + "/DEBIAN");
    std::filesystem::create_directories(tree + kInstallDir);
    installed_ = std::string(kInstallDir) + "/marker";
    copy_file(marker_path(), tree + installed_);
    original_ = read_file(marker_path());
    ASSERT_FALSE(original_.empty());
    std::ofstream(tree + "/DEBIAN/control")
        << "Package: " << kPackage << "\nVersion: 1.0\nArchitecture: all\n"
        << "Maintainer: cmdgate tests <root@localhost>\n"
        << "Description: cmdgate's package trust test\n";
    std::ofstream(tree + "/DEBIAN/md5sums")
        << md5_hex(original_) << "  " << installed_.substr(1) << "\n";
    const std::string deb = work_->file("pkg.deb");
    const RunResult built = run({"/usr/bin/dpkg-deb", "--root-owner-group", "--build", tree, deb});
    ASSERT_TRUE(built.exited && built.code == 0) << "dpkg-deb failed";
    const RunResult installed = run({"/usr/bin/dpkg", "-i", deb}, 120s);
    installed_ok_ = installed.exited && installed.code == 0;
    ASSERT_TRUE(installed_ok_) << "dpkg -i failed";
    ASSERT_TRUE(exists(installed_));
  }

  void TearDown() override {
    if (installed_ok_ || exists(kInstallDir)) {
      const RunResult removed = run({"/usr/bin/dpkg", "--purge", kPackage}, 120s);
      EXPECT_TRUE(removed.exited && removed.code == 0) << "dpkg --purge " << kPackage << " failed";
    }
  }

  // Default-deny over the package's directory and the work directory; everything else on the
  // host runs as usual (the host's builds must not meet this policy).
  std::string rules() const {
    return fmt::format(R"(
default_action = "allow"

[[rule]]
id = "packaged"
action = "allow"
trust = "package"
path = ["{0}/*", "{1}/*"]

[[rule]]
id = "deny-rest"
action = "deny"
path = ["{0}/*", "{1}/*"]
)",
                       kInstallDir, work_->path());
  }

  std::string installed_;
  std::string original_;
  bool installed_ok_ = false;
};

TEST_F(PackageTrust, AModifiedPackageFileLosesTrust) {
  auto agent = Agent::start({rules()});
  ASSERT_TRUE(agent);

  // The file dpkg installed, unmodified: it runs, decided by the daemon, which checked it.
  const RunResult ok = run({installed_, marker("installed"), "hi", "3"});
  EXPECT_TRUE(ok.exited);
  EXPECT_EQ(ok.code, 3);
  EXPECT_TRUE(exists(marker("installed")));
  auto allowed = agent->wait_decision(
      [&](const json& j) { return j["exe"] == installed_ && j["outcome"] == "allowed"; });
  ASSERT_TRUE(allowed) << agent->log_text();
  EXPECT_EQ((*allowed)["rule"], "packaged");
  // Learned: the next exec stays in the kernel.
  const RunResult again = run({installed_, marker("again"), "hi", "4"});
  EXPECT_EQ(again.code, 4);
  EXPECT_TRUE(exists(marker("again")));

  // Control: the same bytes outside dpkg are owned by no package.
  const std::string copy = work_->file("copy");
  copy_file(installed_, copy);
  const RunResult copied = run({copy, marker("copy")});
  EXPECT_FALSE(copied.exited && copied.code == 0);
  EXPECT_FALSE(exists(marker("copy")));
  auto copy_denied = agent->wait_decision([&](const json& j) { return j["exe"] == copy; });
  ASSERT_TRUE(copy_denied) << agent->log_text();
  EXPECT_EQ((*copy_denied)["rule"], "deny-rest");

  // One byte appended to the installed file: no longer what dpkg recorded.
  {
    const int fd = ::open(installed_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "\n", 1), 1);
    ::close(fd);
  }
  const RunResult modified = run({installed_, marker("modified")});
  EXPECT_FALSE(modified.exited && modified.code == 0);
  EXPECT_FALSE(exists(marker("modified")));
  auto denied = agent->wait_decision(
      [&](const json& j) { return j["exe"] == installed_ && j["outcome"] != "allowed"; });
  ASSERT_TRUE(denied) << agent->log_text();
  EXPECT_EQ((*denied)["rule"], "deny-rest");
}

}  // namespace
}  // namespace cmdgate::test
