// The CLI says which release it is, and it is the project's version (CMakeLists.txt); the
// daemon's: daemon_binary_test.cpp.

#include <gtest/gtest.h>

#include <string>

#include "common/version.h"
#include "processes.h"

namespace cmdgate {
namespace {

TEST(Version, TheCliPrintsTheProjectVersion) {
  const test::CommandOutput r = test::run_shell(std::string(CMDGATE_CLI_PATH) + " --version 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, std::string("cmdgate ") + CMDGATE_PROJECT_VERSION + "\n");
  EXPECT_STREQ(kVersion, CMDGATE_PROJECT_VERSION);
}

}  // namespace
}  // namespace cmdgate
