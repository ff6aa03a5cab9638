// Both binaries say which release they are, and it is the project's version (CMakeLists.txt).

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

#include "common/version.h"

namespace cmdgate {
namespace {

struct CliRun {
  std::string out;
  int status = -1;
};

CliRun run(const std::string& command) {
  CliRun r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    r.out.append(buf, n);
  }
  r.status = ::pclose(p);
  return r;
}

TEST(Version, TheCliPrintsTheProjectVersion) {
  const CliRun r = run(std::string(CMDGATE_CLI_PATH) + " --version");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, std::string("cmdgate ") + CMDGATE_PROJECT_VERSION + "\n");
  EXPECT_STREQ(kVersion, CMDGATE_PROJECT_VERSION);
}

TEST(Version, TheDaemonPrintsTheProjectVersionWithoutStarting) {
  const CliRun r = run(std::string(CMDGATED_PATH) + " --version");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, std::string("cmdgated ") + CMDGATE_PROJECT_VERSION + "\n");
}

}  // namespace
}  // namespace cmdgate
