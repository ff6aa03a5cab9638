#pragma once
// Who must prove to be a person before an approval counts ([approval] authenticate). The tree
// and group checks keep an agent from approving through its own processes; they cannot tell an
// agent's helper that runs outside its tree (a tmux server, `at`, `systemd-run --user`, ssh to
// localhost) from the person whose uid it shares. A password typed at the approver's terminal
// can (docs/approvals.md).

#include <cstdint>
#include <string_view>

#include "common/words.h"

namespace cmdgate {

// Besides root, the group whose members may approve, unless configured otherwise; the package
// makes it (packaging/deb/postinst, systemd/cmdgate.sysusers). A missing group means root only.
inline constexpr const char* kDefaultApproverGroup = "cmdgate";

enum class AuthenticateWhen : uint8_t {
  kSameUid,  // when the approver's uid is the requester's
  kAlways,   // every approval
  kNever,    // none: any process of an approver's uid outside the tree may approve
};

inline constexpr Words<AuthenticateWhen, 3> kAuthenticateWords{
    {{{"same-uid", AuthenticateWhen::kSameUid},
      {"always", AuthenticateWhen::kAlways},
      {"never", AuthenticateWhen::kNever}}}};

[[nodiscard]] inline std::string_view to_string(AuthenticateWhen when) {
  return kAuthenticateWords.name(when);
}

// Whether an approval of a request of `requester_uid` by `approver_uid` needs authentication.
// Denials never do: a denial makes nothing run, and a password in its way would only delay the
// safe answer. Root approving root's request is exempt under same-uid: a root agent can unload
// the programs that park it, so a password would protect nothing there.
[[nodiscard]] bool must_authenticate(AuthenticateWhen when, uint32_t approver_uid,
                                     uint32_t requester_uid);

}  // namespace cmdgate
