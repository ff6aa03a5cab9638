// libpam is opened when an approver authenticates, not when the daemon starts. Without it no
// approval that needs authentication counts. The control, the same backend with the library the
// daemon was built against running real PAM transactions, is tests/root/approval_auth_test.cpp.

#include "approval/pam_backend.h"

#include <gtest/gtest.h>

#include <string>

namespace cmdgate {
namespace {

class CountingConversation final : public AuthConversation {
 public:
  std::optional<std::vector<std::string>> ask(const std::vector<AuthItem>& items) override {
    ++asked;
    return std::vector<std::string>(items.size(), "secret");
  }
  int asked = 0;
};

TEST(PamBackend, WithoutItsLibraryEveryApprovalIsRefused) {
  const auto backend = pam_backend_from(kPamService, "libcmdgate-no-such-pam.so.0");
  CountingConversation conv;
  for (int i = 0; i < 2; ++i) {  // a second try meets the same refusal
    const AuthVerdict v = backend->authenticate("root", conv);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.message.rfind("PAM cannot be used: ", 0), 0u) << v.message;
    EXPECT_NE(v.message.find("libcmdgate-no-such-pam.so.0"), std::string::npos) << v.message;
  }
  EXPECT_EQ(conv.asked, 0) << "nobody is asked for a password that nothing would check";
}

}  // namespace
}  // namespace cmdgate
