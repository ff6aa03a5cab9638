// What the built daemon binary itself shows without starting: the release it is, and what the
// dynamic loader maps at its exec. Checks of the release build: sanitizer builds leave them (and
// the daemon) out, see tests/CMakeLists.txt.

#include <gtest/gtest.h>

#include <string>

#include "processes.h"

namespace cmdgate {
namespace {

TEST(DaemonBinary, PrintsTheProjectVersionWithoutStarting) {
  const test::CommandOutput r = test::run_shell(std::string(CMDGATED_PATH) + " --version 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, std::string("cmdgated ") + CMDGATE_PROJECT_VERSION + "\n");
}

// libmosquitto (the fleet) and libmicrohttpd (metrics) are opened when those start, libpam when
// an approver first authenticates, nettle when a trust = "package" rule first needs an MD5: not at
// exec.
TEST(DaemonBinary, ItsLoaderMapsNoOptionalLibraryNorWhatTheyBring) {
  // What the dynamic loader maps at exec, as ldd lists it, without running the daemon.
  const test::CommandOutput r =
      test::run_shell("LD_TRACE_LOADED_OBJECTS=1 " + std::string(CMDGATED_PATH) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("libbpf.so"), std::string::npos) << r.out;  // the listing is complete
  for (const char* absent : {"libmosquitto", "libmicrohttpd", "libgnutls", "libssl", "libcrypto",
                             "libp11-kit", "libpam.so", "libaudit", "libcap-ng", "libnettle"}) {
    EXPECT_EQ(r.out.find(absent), std::string::npos) << absent << " in\n" << r.out;
  }
}

}  // namespace
}  // namespace cmdgate
