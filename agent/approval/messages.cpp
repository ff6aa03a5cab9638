#include "approval/messages.h"

#include <pwd.h>

#include <chrono>

#include "probe/abi_check.h"

namespace cmdgate {
namespace {

std::string user_name(uint32_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != nullptr) {
    return pw.pw_name;
  }
  return std::to_string(uid);
}

}  // namespace

protocol::ApprovalRequest to_request(const PendingRequest& r) {
  protocol::ApprovalRequest m;
  m.set_id(r.id);
  m.set_pid(r.event.tgid);
  m.set_uid(r.event.uid);
  m.set_user(user_name(r.event.uid));
  m.set_exe(r.event.path);
  for (const auto& a : r.argv) {
    m.add_argv(a);
  }
  m.set_cwd(r.cwd);
  for (const auto& a : r.lineage) {
    auto* p = m.add_lineage();
    p->set_pid(a.pid);
    p->set_comm(a.comm);
    p->set_exe(a.exe);
  }
  if (const rules::Rule* rule = r.judgement.decision.rule) {
    m.set_rule_id(rule->id);
    m.set_rule_description(rule->description);
  }
  m.set_parked_unix_ms(r.parked_unix_ms);
  m.set_deadline_unix_ms(r.deadline_unix_ms);
  m.set_timeout_verdict(r.judgement.timeout_action == rules::Action::kAllow
                            ? protocol::VERDICT_ALLOW
                            : protocol::VERDICT_DENY);
  m.set_tty(r.event.has(CG_EXEC_TTY));
  m.set_script(r.script_path);
  return m;
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
    for (auto a : r.input->argv) {
      m.add_argv(std::string(a));
    }
  } else {
    for (const auto& a : e.argv) {
      m.add_argv(a);
    }
  }
  if (r.judgement != nullptr) {
    const rules::Decision& d = r.judgement->decision;
    if (d.rule != nullptr) {
      m.set_rule_id(d.rule->id);
    }
    m.set_action(rules::to_string(d.action));
    m.set_mode(rules::to_string(d.mode));
  }
  m.set_outcome(r.outcome);
  m.set_decided_by(to_string(r.decided_by));
  m.set_latency_us(static_cast<double>(r.latency_ns) / 1000.0);
  return m;
}

}  // namespace cmdgate
