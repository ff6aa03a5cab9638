#pragma once
// The approver's account, asked through PAM (service "cmdgate", /etc/pam.d/cmdgate), the way
// sudo and polkit ask: pam_authenticate, then pam_acct_mgmt, both with
// PAM_DISALLOW_NULL_AUTHTOK so that an account without a password (a stack with nullok)
// proves nothing. The user name comes from the daemon (the peer's uid), never from the client.

#include <memory>
#include <string>

#include "approval/auth_service.h"

namespace cmdgate {

inline constexpr const char* kPamService = "cmdgate";

[[nodiscard]] std::shared_ptr<AuthBackend> pam_backend(std::string service = kPamService);

// The same through the PAM library `soname` (the one the daemon was built against, above). If
// it cannot be opened, every authentication fails.
[[nodiscard]] std::shared_ptr<AuthBackend> pam_backend_from(std::string service,
                                                            std::string soname);

}  // namespace cmdgate
