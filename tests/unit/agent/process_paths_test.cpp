// Paths as a process named them, resolved in its own working directory and root.

#include "context/process_paths.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cmdgate {
namespace {

namespace fs = std::filesystem;

class ProcessPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / fmt::format("process-paths-{}", ::getpid());
    fs::create_directories(dir_ / "sub");
    std::ofstream(dir_ / "sub" / "script") << "#!/bin/sh\n";
    fs::create_symlink("sub/script", dir_ / "rel-link");
    old_cwd_ = fs::current_path();
    fs::current_path(dir_ / "sub");
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(dir_);
  }

  rules::FileId id_of(const fs::path& p) const {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return {st.st_dev, st.st_ino};
  }
  Resolution resolve(const std::string& path) const { return paths_.resolve(::getpid(), path); }

  SystemProcFs proc_;
  ProcessPaths paths_{proc_};
  fs::path dir_;
  fs::path old_cwd_;
};

TEST_F(ProcessPathsTest, RelativeAbsoluteDotDotAndSymlinks) {
  const rules::FileId want = id_of(dir_ / "sub" / "script");
  // Make sure the kernel's lookup cache has them, as it does for a path it just executed.
  for (const std::string& p :
       std::vector<std::string>{"./script", "../rel-link", (dir_ / "sub/script").string()}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    auto r = resolve(p);
    auto* f = std::get_if<ProcessFile>(&r);
    ASSERT_NE(f, nullptr) << p << ": " << std::get<Unresolved>(r).why;
    EXPECT_EQ(f->id, want) << p;
    EXPECT_EQ(f->path, (dir_ / "sub" / "script").string()) << p;
  }
}

TEST_F(ProcessPathsTest, MissingIsToldApartFromUnknown) {
  struct stat st {};
  ASSERT_NE(::stat("./no-such-file", &st), 0);  // as the failed lookup of an exec would cache it
  auto r = resolve("./no-such-file");
  ASSERT_TRUE(std::holds_alternative<Unresolved>(r));
  EXPECT_TRUE(std::get<Unresolved>(r).missing);
  r = resolve(".");  // a directory is no program
  ASSERT_TRUE(std::holds_alternative<Unresolved>(r));
  EXPECT_FALSE(std::get<Unresolved>(r).missing);
  r = resolve("");
  EXPECT_TRUE(std::get<Unresolved>(r).missing);
}

TEST_F(ProcessPathsTest, ItsOwnDescriptorsAreFollowedNotTheDaemons) {
  // A high number: resolve() opens descriptors of its own in this same process.
  const int low = ::open((dir_ / "sub" / "script").c_str(), O_RDONLY);
  const int fd = ::fcntl(low, F_DUPFD, 500);
  ::close(low);
  ASSERT_GE(fd, 500);
  for (const std::string& p :
       std::vector<std::string>{fmt::format("/dev/fd/{}", fd), fmt::format("/proc/self/fd/{}", fd)}) {
    auto r = resolve(p);
    auto* f = std::get_if<ProcessFile>(&r);
    ASSERT_NE(f, nullptr) << p << ": " << std::get<Unresolved>(r).why;
    EXPECT_EQ(f->id, id_of(dir_ / "sub" / "script")) << p;
  }
  ::close(fd);
  auto r = resolve(fmt::format("/dev/fd/{}", fd));
  ASSERT_TRUE(std::holds_alternative<Unresolved>(r));
  EXPECT_TRUE(std::get<Unresolved>(r).missing) << std::get<Unresolved>(r).why;
}

TEST_F(ProcessPathsTest, OtherMagicLinksAreUnknown) {
  // /proc/<pid>/exe is a magic link: following it would be the daemon's guess, not the kernel's.
  auto r = resolve(fmt::format("/proc/{}/exe", ::getpid()));
  ASSERT_TRUE(std::holds_alternative<Unresolved>(r));
  EXPECT_FALSE(std::get<Unresolved>(r).missing);
}

}  // namespace
}  // namespace cmdgate
