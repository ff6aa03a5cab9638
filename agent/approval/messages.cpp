#include "approval/messages.h"


#include <algorithm>
#include <chrono>
#include <string_view>

#include "common/accounts.h"
#include "probe/abi_check.h"
#include "protocol/framing.h"

namespace cmdgate {
namespace {

// The least argument text a listed request keeps however many are listed: enough to see what
// the command is, with the cut shown.
constexpr size_t kMinSentArgvBytes = 4u << 10;

// argv in order until `budget` bytes of it are sent; the argument that crosses the budget is cut
// there and the rest are counted, never silently dropped.
template <typename Message, typename Args>
void set_argv(Message& m, const Args& argv, size_t budget) {
  uint64_t omitted = 0;
  for (const auto& a : argv) {
    const std::string_view arg(a);
    if (omitted == 0 && arg.size() <= budget) {
      m.add_argv(std::string(arg));
      budget -= arg.size();
    } else if (omitted == 0 && budget > 0) {
      m.add_argv(std::string(arg.substr(0, budget)));
      omitted += arg.size() - budget;
      budget = 0;
    } else {
      omitted += arg.size();
    }
  }
  m.set_argc(static_cast<uint32_t>(argv.size()));
  m.set_argv_omitted_bytes(omitted);
}

}  // namespace

protocol::ApprovalRequest to_request(const PendingRequest& r, size_t argv_budget) {
  protocol::ApprovalRequest m;
  m.set_id(r.id);
  m.set_pid(r.event.tgid);
  m.set_uid(r.event.uid);
  m.set_user(user_name_of(r.event.uid).value_or(std::to_string(r.event.uid)));
  m.set_exe(r.event.path);
  set_argv(m, r.argv, argv_budget);
  m.set_cwd(r.cwd);
  for (const auto& a : r.lineage) {
    auto* p = m.add_lineage();
    p->set_pid(a.pid);
    p->set_comm(a.comm);
    p->set_exe(a.exe);
  }
  if (const rules::Rule* rule = r.judgement.decision.rule) {
    m.set_rule_id(rule->id);
    m.set_rule_description(*rule->description);
  }
  m.set_parked_unix_ms(r.parked_unix_ms);
  m.set_deadline_unix_ms(r.deadline_unix_ms);
  m.set_timeout_verdict(r.judgement.timeout_action == rules::Action::kAllow
                            ? protocol::VERDICT_ALLOW
                            : protocol::VERDICT_DENY);
  m.set_tty(r.event.has(CG_EXEC_TTY));
  m.set_script(r.script_path);
  if (r.exe_sha256) {
    m.set_exe_sha256(std::string(reinterpret_cast<const char*>(r.exe_sha256->data()),
                                 r.exe_sha256->size()));
  }
  return m;
}

protocol::PendingList to_pending_list(const std::vector<const PendingRequest*>& list) {
  // Besides the requests a frame holds the ServerMessage around them and `omitted`.
  constexpr size_t kEnvelopeBytes = 64;
  // Each request's tag and length.
  constexpr size_t kPerRequestBytes = 6;
  // Half the frame for argv, shared equally; paths and lineage take the rest.
  const size_t argv_budget =
      std::clamp<size_t>(protocol::kMaxFrameBytes / 2 / std::max<size_t>(list.size(), 1),
                         kMinSentArgvBytes, kMaxSentArgvBytes);
  protocol::PendingList out;
  size_t bytes = kEnvelopeBytes;
  for (const PendingRequest* p : list) {
    protocol::ApprovalRequest r = to_request(*p, argv_budget);
    const size_t size = r.ByteSizeLong() + kPerRequestBytes;
    if (bytes + size > protocol::kMaxFrameBytes) {
      out.set_omitted(out.omitted() + 1);
      continue;
    }
    bytes += size;
    *out.add_requests() = std::move(r);
  }
  return out;
}

protocol::DecisionEvent to_event(const DecisionRecord& r) {
  protocol::DecisionEvent m;
  m.set_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
  const ExecEvent& e = *r.event;
  m.set_pid(e.tgid);
  m.set_uid(e.uid);
  m.set_exe(e.path);
  if (r.input != nullptr) {
    set_argv(m, r.input->argv, kMaxSentArgvBytes);
  } else {
    set_argv(m, e.argv, kMaxSentArgvBytes);
  }
  if (r.judgement != nullptr) {
    const rules::Decision& d = r.judgement->decision;
    if (d.rule != nullptr) {
      m.set_rule_id(d.rule->id);
    }
    m.set_action(rules::to_string(d.action));
    m.set_mode(rules::to_string(d.mode));
  }
  m.set_outcome(std::string(to_string(r.outcome)));
  m.set_decided_by(std::string(to_string(r.decided_by)));
  m.set_latency_us(static_cast<double>(r.latency_ns) / 1000.0);
  return m;
}

}  // namespace cmdgate
