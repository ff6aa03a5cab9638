#include "approval/auth_policy.h"

namespace cmdgate {

bool must_authenticate(AuthenticateWhen when, uint32_t approver_uid, uint32_t requester_uid) {
  switch (when) {
    case AuthenticateWhen::kAlways:
      return true;
    case AuthenticateWhen::kNever:
      return false;
    case AuthenticateWhen::kSameUid:
      return approver_uid == requester_uid && approver_uid != 0;
  }
  return true;
}

}  // namespace cmdgate
