#include "policy/policy_store.h"

#include "policy/combined_rules.h"
#include "rules/compiled_policy.h"
#include "rules/mode_override.h"

namespace cmdgate {
namespace {

// A denial by a rule with something to tell its caller goes through the daemon, on both hooks:
// the kernel's SIGKILL leaves nobody to tell, and a caller refused inside execve (the BPF LSM)
// is usually gone before a line written afterwards could reach it (`bash -c CMD` exits 126 at
// once). Parked first, the process is told, then killed, before its first instruction.
constexpr bool kTellDenials = true;

}  // namespace

Result<Snapshot> PolicyStore::build(const PolicySource& source, rules::MatchEngine engine) const {
  std::vector<rules::RulesText> read;
  auto set = load_policy_rules(source, names_, &read);
  if (!set) {
    return set.error();
  }
  if (source.mode_override) {
    rules::override_mode(*set, *source.mode_override);
  }
  auto policy = rules::compile_policy(std::move(*set), files_, rules::CompileOptions{engine});
  if (!policy) {
    return policy.error();
  }
  Snapshot s;
  s.policy = *policy;
  s.verdicts_policy = s.policy;
  s.verdicts = std::make_shared<const rules::KernelVerdicts>(
      *s.verdicts_policy, rules::file_starts_with_shebang, kTellDenials);
  s.kernel = s.verdicts->policy();
  s.held_tools = rules::held_tools(*s.policy);
  if (s.policy->needs() & rules::kNeedTrust) {
    auto packages = trust::DpkgDatabase::load(std::string(trust::kDpkgAdminDir));
    if (packages) {
      s.packages = std::make_shared<const trust::DpkgDatabase>(std::move(*packages));
    } else {
      s.packages_error = packages.error().message;
    }
  }
  s.final_engine = engine != rules::MatchEngine::kRe2;
  if (!read.empty()) {
    s.local_files = std::make_shared<const std::vector<rules::RulesText>>(std::move(read));
  }
  return s;
}

Result<std::shared_ptr<const rules::Policy>> PolicyStore::recompile(
    const Snapshot& s, rules::MatchEngine engine) const {
  auto policy =
      rules::compile_policy(s.policy->rule_set(), files_, rules::CompileOptions{engine});
  if (!policy) {
    return policy.error();
  }
  return std::shared_ptr<const rules::Policy>(*policy);
}

void PolicyStore::commit(Snapshot s) {
  history_.push_back(std::make_shared<const Snapshot>(std::move(s)));
}

void PolicyStore::forget_older() {
  while (history_.size() > 1) {
    history_.pop_front();
  }
}

bool PolicyStore::upgrade(uint32_t generation, std::shared_ptr<const rules::Policy> policy) {
  for (auto& h : history_) {
    if (h->generation != generation) {
      continue;
    }
    Snapshot next = *h;
    // The analysis only reads the rules, which are the same: rebuild it on the new policy so
    // the first build can be freed (it would double the daemon's memory).
    next.verdicts = std::make_shared<const rules::KernelVerdicts>(
        *policy, rules::file_starts_with_shebang, kTellDenials);
    next.verdicts_policy = policy;
    next.policy = std::move(policy);
    next.final_engine = true;
    h = std::make_shared<const Snapshot>(std::move(next));
    return true;
  }
  return false;
}

const Snapshot* PolicyStore::find(uint32_t generation) const {
  return find_shared(generation).get();
}

std::shared_ptr<const Snapshot> PolicyStore::find_shared(uint32_t generation) const {
  for (const auto& s : history_) {
    if (s->generation == generation) {
      return s;
    }
  }
  return nullptr;
}

}  // namespace cmdgate
