#include "pipeline/decider.h"

#include "probe/abi_check.h"

namespace cmdgate {

using rules::Action;
using rules::KernelVerdict;

const char* to_string(Response r) {
  switch (r) {
    case Response::kNone:
      return "none";
    case Response::kResume:
      return "resume";
    case Response::kKill:
      return "kill";
    case Response::kPark:
      return "park";
  }
  return "?";
}

Judgement decide(const ExecEvent& e, const EvalInput& in, const rules::Policy& policy) {
  Judgement j;
  // The executed file, then every file it stands for: the held tool it is a copy of, a script
  // chain (innermost first, so that on a tie the script execve named explains the decision),
  // the program a loader runs. The strictest of them decides.
  const rules::Decision exe = policy.evaluate(in.exe);
  j.decision = exe;
  if (in.copy_of) {
    j.decision = rules::combine_script(policy.evaluate(*in.copy_of), j.decision);
  }
  for (auto s = in.scripts.rbegin(); s != in.scripts.rend(); ++s) {
    j.decision = rules::combine_script(policy.evaluate(*s), j.decision);
  }
  if (in.loaded) {
    j.decision = rules::combine_script(policy.evaluate(*in.loaded), j.decision);
  }
  if (!in.scripts.empty() || in.loaded) {
    j.interpreter = exe;
  }

  const Action effect = j.decision.effect();
  // A failed SIGSTOP leaves the process running with a parked-map entry: it is not parked.
  const bool parked = e.has(CG_EXEC_PARKED) && !e.has(CG_EXEC_SIGNAL_FAILED);
  // Refused inside execve, or killed before its first instruction: nothing ran.
  const bool killed =
      e.has(CG_EXEC_LSM_DENIED) || (e.has(CG_EXEC_KILLED) && !e.has(CG_EXEC_SIGNAL_FAILED));

  if (parked) {
    switch (effect) {
      case Action::kAllow:
      case Action::kAudit:
        j.response = Response::kResume;
        break;
      case Action::kDeny:
        j.response = Response::kKill;
        break;
      case Action::kAsk: {
        const rules::Rule* r = j.decision.rule;
        const rules::RuleSet& rs = policy.rule_set();
        j.response = Response::kPark;
        j.ask_timeout = r && r->ask_timeout ? *r->ask_timeout : rs.ask_timeout;
        j.timeout_action = r && r->timeout_action ? *r->timeout_action : rs.timeout_action;
        break;
      }
    }
  } else if (!killed && (e.verdict == KernelVerdict::kEvaluate ||
                         e.verdict == KernelVerdict::kDeny) &&
             effect >= Action::kAsk) {
    // The kernel could not stop or kill it (signal failed): it may be running. It cannot be
    // parked after the fact, so what would have been held is killed.
    j.response = Response::kKill;
  }

  j.kernel_disagrees = (e.verdict == KernelVerdict::kDeny && effect != Action::kDeny) ||
                       (e.verdict == KernelVerdict::kAudit && effect >= Action::kAsk) ||
                       (e.verdict == KernelVerdict::kAllow && effect != Action::kAllow);
  return j;
}

}  // namespace cmdgate
