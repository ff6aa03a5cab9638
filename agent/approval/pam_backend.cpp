#include "approval/pam_backend.h"

#include <fmt/format.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

#include "common/shared_library.h"

namespace cmdgate {
namespace {

// libpam is opened when an approver first authenticates (common/shared_library.h): a daemon
// nobody approves through never maps it, nor the audit and capability libraries it brings.
// clang-format off
#define CMDGATE_PAM_FUNCTIONS(X) \
  X(pam_start) \
  X(pam_end) \
  X(pam_authenticate) \
  X(pam_acct_mgmt) \
  X(pam_set_item) \
  X(pam_get_item) \
  X(pam_strerror)
// clang-format on

struct PamApi {
  CMDGATE_PAM_FUNCTIONS(CMDGATE_LIBRARY_FUNCTION_POINTER)
};

std::optional<AuthItem::Kind> kind_of(int style) {
  switch (style) {
    case PAM_PROMPT_ECHO_OFF:
      return AuthItem::Kind::kSecret;
    case PAM_PROMPT_ECHO_ON:
      return AuthItem::Kind::kVisible;
    case PAM_ERROR_MSG:
      return AuthItem::Kind::kError;
    case PAM_TEXT_INFO:
      return AuthItem::Kind::kInfo;
    default:
      return std::nullopt;  // binary and radio prompts: nothing a terminal can answer
  }
}

void free_responses(pam_response* r, int n) {
  for (int i = 0; i < n; ++i) {
    if (r[i].resp != nullptr) {
      ::explicit_bzero(r[i].resp, ::strlen(r[i].resp));
      ::free(r[i].resp);
    }
  }
  ::free(r);
}

// Linux-PAM passes an array of pointers to messages (msg[i]), not a pointer to an array.
int converse(int n, const pam_message** msg, pam_response** resp, void* data) {
  *resp = nullptr;
  if (n <= 0 || n > PAM_MAX_NUM_MSG) {
    return PAM_CONV_ERR;
  }
  std::vector<AuthItem> items;
  for (int i = 0; i < n; ++i) {
    auto kind = kind_of(msg[i]->msg_style);
    if (!kind) {
      return PAM_CONV_ERR;
    }
    items.push_back({*kind, msg[i]->msg != nullptr ? msg[i]->msg : ""});
  }
  auto answers = static_cast<AuthConversation*>(data)->ask(items);
  if (!answers) {
    return PAM_CONV_ERR;
  }
  auto* out = static_cast<pam_response*>(::calloc(static_cast<size_t>(n), sizeof(pam_response)));
  int rc = out != nullptr ? PAM_SUCCESS : PAM_BUF_ERR;
  for (int i = 0; i < n && rc == PAM_SUCCESS; ++i) {
    std::string& a = (*answers)[static_cast<size_t>(i)];
    if (!items[static_cast<size_t>(i)].asks()) {
      continue;
    }
    if (a.size() >= PAM_MAX_RESP_SIZE || a.find('\0') != std::string::npos) {
      rc = PAM_CONV_ERR;
      break;
    }
    out[i].resp = ::strdup(a.c_str());
    rc = out[i].resp != nullptr ? PAM_SUCCESS : PAM_BUF_ERR;
  }
  for (auto& a : *answers) {
    wipe(a);
  }
  if (rc != PAM_SUCCESS) {
    if (out != nullptr) {
      free_responses(out, n);
    }
    return rc;
  }
  *resp = out;
  return PAM_SUCCESS;
}

class PamBackend final : public AuthBackend {
 public:
  PamBackend(std::string service, std::string soname)
      : service_(std::move(service)), soname_(std::move(soname)) {}

  AuthVerdict authenticate(const std::string& user, AuthConversation& conv) override {
    // Opened at each authentication, which a person paces: once loaded, dlopen only counts a
    // reference, and the library stays mapped.
    const auto api = CMDGATE_OPEN_LIBRARY_TABLE(PamApi, CMDGATE_PAM_FUNCTIONS, soname_.c_str(),
                                                "authenticating approvers");
    if (!api) {
      return {false, fmt::format("PAM cannot be used: {}", api.error().message)};
    }
    const PamApi& pam = *api;
    const pam_conv pc{converse, &conv};
    pam_handle_t* h = nullptr;
    int rc = pam.pam_start(service_.c_str(), user.c_str(), &pc, &h);
    if (rc != PAM_SUCCESS) {
      return {false,
              fmt::format("PAM service {} cannot start: {}", service_, pam.pam_strerror(h, rc))};
    }
    AuthVerdict v = run(pam, h, user, rc);
    pam.pam_end(h, rc);
    return v;
  }

 private:
  AuthVerdict run(const PamApi& pam, pam_handle_t* h, const std::string& user, int& rc) {
    // Who asks is the account itself: its approval is on its own behalf.
    (void)pam.pam_set_item(h, PAM_RUSER, user.c_str());
    rc = pam.pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
    if (rc != PAM_SUCCESS) {
      return {false, fmt::format("authentication failed: {}", pam.pam_strerror(h, rc))};
    }
    rc = pam.pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_NEW_AUTHTOK_REQD) {
      return {false, "the password has expired: change it (passwd), then approve again"};
    }
    if (rc != PAM_SUCCESS) {
      return {false, fmt::format("the account may not approve: {}", pam.pam_strerror(h, rc))};
    }
    // A module may rename the user; the approval stands only for the peer's own account.
    const void* item = nullptr;
    if (pam.pam_get_item(h, PAM_USER, &item) != PAM_SUCCESS || item == nullptr ||
        user != static_cast<const char*>(item)) {
      rc = PAM_AUTH_ERR;
      return {false, "PAM authenticated another user than the approver's"};
    }
    return {true, {}};
  }

  const std::string service_;
  const std::string soname_;
};

}  // namespace

std::shared_ptr<AuthBackend> pam_backend(std::string service) {
  return pam_backend_from(std::move(service), CMDGATE_PAM_SONAME);
}

std::shared_ptr<AuthBackend> pam_backend_from(std::string service, std::string soname) {
  return std::make_shared<PamBackend>(std::move(service), std::move(soname));
}

}  // namespace cmdgate
