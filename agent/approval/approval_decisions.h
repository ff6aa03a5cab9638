#pragma once
// What an approver's verdict on a parked request does, whoever sent it and however: the request
// is allowed or denied through the pipeline, exactly once; an allow for `similar` also grants
// the same command for a while (park/grants.h), one for `permanent` writes an allow rule pinned
// to the file's SHA-256 into the local rules file (local_rules.h, approval_digest.h) and reloads
// the policy. Who may decide is the gate's question (approver_gate.h), asked before.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "approval/approval_digest.h"
#include "cmdgate.pb.h"
#include "common/result.h"
#include "kernel/clock.h"
#include "pipeline/exec_pipeline.h"
#include "policy/policy_manager.h"

namespace cmdgate {

struct DecisionSettings {
  std::string local_rules_file;  // for "allow permanently"; empty: refused
  uint32_t max_grant_minutes = 24 * 60;
};

struct DecisionDeps {
  ExecPipeline& pipeline;
  PolicyManager& policy;
  const Clock& clock;
  const ProcFs& proc;  // where a permanent approval's file is found when it must be hashed
};

struct DecideRequest {
  uint64_t id = 0;  // of the pending request
  protocol::Verdict verdict = protocol::VERDICT_UNSPECIFIED;
  protocol::Scope scope = protocol::SCOPE_UNSPECIFIED;  // unspecified: once
  uint32_t minutes = 0;                                 // of a `similar` grant
  ApproverInfo approver;
  // The SHA-256 a permanent approval pins, hashed for this request after an earlier NeedsDigest.
  std::optional<rules::Sha256> hashed;
};

struct Decided {
  uint64_t id = 0;
  Outcome outcome = Outcome::kDenied;
  protocol::ApprovalRequest request;  // what was decided, as the approver was shown it
};

// A permanent approval waits for this file to be hashed (read_digest(), which blocks); then the
// same request again, with the digest in `hashed`.
struct NeedsDigest {
  DigestSource file;
};

// An error leaves the request as it was: pending, when it was.
using DecideAnswer = std::variant<Decided, NeedsDigest, Error>;

class ApprovalDecisions {
 public:
  ApprovalDecisions(DecisionSettings settings, DecisionDeps deps)
      : settings_(std::move(settings)), d_(deps), paths_(deps.proc) {}

  // What can be refused before the approver is asked to authenticate.
  [[nodiscard]] Status check(const DecideRequest& r) const;
  [[nodiscard]] DecideAnswer decide(const DecideRequest& r);

 private:
  // The pending request r decides, once everything check() checks holds.
  [[nodiscard]] Result<const PendingRequest*> checked(const DecideRequest& r) const;
  // Writes the rule of a permanent approval of p, pinned to `digest`.
  [[nodiscard]] Status write_rule(const PendingRequest& p, const DecideRequest& r,
                                  const rules::Sha256& digest);

  DecisionSettings settings_;
  DecisionDeps d_;
  ProcessPaths paths_;
};

}  // namespace cmdgate
