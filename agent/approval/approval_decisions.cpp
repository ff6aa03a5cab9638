#include "approval/approval_decisions.h"

#include <spdlog/spdlog.h>

#include "approval/local_rules.h"
#include "approval/messages.h"
#include "rules/file_digest.h"

namespace cmdgate {
namespace {

// A denial is for this process only, whatever scope it names.
protocol::Scope scope_of(const DecideRequest& r) {
  if (r.verdict != protocol::VERDICT_ALLOW || r.scope == protocol::SCOPE_UNSPECIFIED) {
    return protocol::SCOPE_ONCE;
  }
  return r.scope;
}

}  // namespace

Result<const PendingRequest*> ApprovalDecisions::checked(const DecideRequest& r) const {
  if (r.verdict != protocol::VERDICT_ALLOW && r.verdict != protocol::VERDICT_DENY) {
    return Error{"decide needs a verdict: allow or deny"};
  }
  const PendingRequest* p = d_.pipeline.pending().find(r.id);
  if (p == nullptr) {
    return Error::format("request {} is not pending (decided, timed out or gone)", r.id);
  }
  const protocol::Scope scope = scope_of(r);
  if (scope == protocol::SCOPE_SIMILAR &&
      (r.minutes == 0 || r.minutes > settings_.max_grant_minutes)) {
    return Error::format("minutes must be 1..{}", settings_.max_grant_minutes);
  }
  // The reload after writing the rule must load it.
  if (scope == protocol::SCOPE_PERMANENT &&
      (settings_.local_rules_file.empty() ||
       !covered_by_rule_paths(settings_.local_rules_file, d_.policy.store().rule_paths()))) {
    return Error{
        "permanent approvals need [approval] local_rules_file set to a file the daemon loads "
        "rules from"};
  }
  return p;
}

Status ApprovalDecisions::check(const DecideRequest& r) const {
  if (auto p = checked(r); !p) {
    return p.error();
  }
  return {};
}

DecideAnswer ApprovalDecisions::decide(const DecideRequest& r) {
  auto checked_request = checked(r);
  if (!checked_request) {
    return checked_request.error();
  }
  const PendingRequest& p = **checked_request;
  const protocol::Scope scope = scope_of(r);
  std::optional<rules::Sha256> digest;
  if (scope == protocol::SCOPE_PERMANENT) {
    digest = known_digest(p);
    if (!digest) {
      digest = r.hashed;
    }
    if (!digest) {
      auto source = digest_source(p, paths_);
      if (!source) {
        return Error::format(
            "a permanent approval pins the SHA-256 of {}, which cannot be read: {}; approve once "
            "or for a while instead",
            permanent_path(p), source.error().message);
      }
      return NeedsDigest{std::move(*source)};
    }
  }
  if (scope == protocol::SCOPE_SIMILAR) {
    auto granted = d_.pipeline.grants().add(p, d_.clock.steady() + std::chrono::minutes(r.minutes));
    if (!granted) {
      return Error::format("a 'similar' approval needs the exact command, and {}: approve once",
                           granted.error().message);
    }
  }
  if (scope == protocol::SCOPE_PERMANENT) {
    if (auto st = write_rule(p, r, *digest); !st) {
      return st.error();
    }
  }
  // Taken before the decision removes the request: the approver's confirmation shows it.
  protocol::ApprovalRequest shown = to_request(p);
  auto outcome = d_.pipeline.decide(r.id, r.verdict == protocol::VERDICT_ALLOW, r.approver);
  if (!outcome) {
    return outcome.error();
  }
  if (scope == protocol::SCOPE_PERMANENT) {
    d_.policy.reload("a permanent approval was written");
  }
  return Decided{r.id, *outcome, std::move(shown)};
}

Status ApprovalDecisions::write_rule(const PendingRequest& p, const DecideRequest& r,
                                     const rules::Sha256& digest) {
  PermanentApproval a;
  a.exe = permanent_path(p);
  a.sha256 = rules::to_hex(digest);
  a.uid = p.event.uid;
  a.argv = p.argv;
  a.request_id = p.id;
  a.approved_by = fmt::format("approved permanently by uid {} (pid {}, {})", r.approver.uid,
                              r.approver.pid, r.approver.exe);
  auto id = append_permanent_approval(settings_.local_rules_file, a);
  if (!id) {
    return id.error();
  }
  spdlog::info("request {}: wrote rule {} to {}", p.id, *id, settings_.local_rules_file);
  return {};
}

}  // namespace cmdgate
