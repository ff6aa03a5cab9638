#include "fleet/secure_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "processes.h"

namespace cmdgate::fleet {
namespace {

// A pid no process has: a child that was reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  return child;
}

class AtomicWrite : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  void touch(const std::string& name) const { std::ofstream(file(name)) << "left over"; }
  bool exists(const std::string& name) const { return std::filesystem::exists(file(name)); }

  test::TempDir dir_;
};

TEST_F(AtomicWrite, ReplacesTheFileAndLeavesNoTemporary) {
  ASSERT_TRUE(write_file_atomically(file("copy.json"), "one", 0600));
  ASSERT_TRUE(write_file_atomically(file("copy.json"), "two", 0600));
  EXPECT_EQ(test::read_file(file("copy.json")), "two");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()),
                          std::filesystem::directory_iterator()),
            1);
}

// A writer killed between creating its temporary file and renaming it leaves the file behind;
// the next write removes it. What a live process may be writing, another target's temporary
// and names that only look alike stay.
TEST_F(AtomicWrite, RemovesWhatDeadWritersLeftAndNothingElse) {
  const std::string dead = ".copy.json.tmp." + std::to_string(dead_pid());
  const std::string own = ".copy.json.tmp." + std::to_string(::getpid());
  const std::string live = ".copy.json.tmp." + std::to_string(::getppid());
  const std::string other_target = ".other.json.tmp." + std::to_string(dead_pid());
  const std::string not_a_pid = ".copy.json.tmp.12ab";
  for (const auto& name : {dead, own, live, other_target, not_a_pid}) {
    touch(name);
  }
  ASSERT_TRUE(write_file_atomically(file("copy.json"), "new", 0600));
  EXPECT_EQ(test::read_file(file("copy.json")), "new");
  EXPECT_FALSE(exists(dead));
  EXPECT_FALSE(exists(own));
  EXPECT_TRUE(exists(live));
  EXPECT_TRUE(exists(other_target));
  EXPECT_TRUE(exists(not_a_pid));
}

}  // namespace
}  // namespace cmdgate::fleet
