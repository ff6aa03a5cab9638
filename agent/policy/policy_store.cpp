#include "policy/policy_store.h"

#include "policy/combined_rules.h"

namespace cmdgate {

Result<Snapshot> PolicyStore::build(const PolicySource& source) const {
  auto set = load_policy_rules(source, names_);
  if (!set) {
    return set.error();
  }
  if (source.mode_override) {
    set->mode = *source.mode_override;
    for (auto& r : set->rules) {
      r.mode = *source.mode_override;
    }
  }
  auto policy = rules::Policy::compile(std::move(*set), files_);
  if (!policy) {
    return policy.error();
  }
  Snapshot s;
  s.generation = current() ? current()->generation + 1 : 1;
  s.policy = std::move(*policy);
  s.verdicts = std::make_shared<const rules::KernelVerdicts>(*s.policy);
  s.kernel = s.verdicts->policy();
  return s;
}

void PolicyStore::commit(Snapshot s) {
  history_.push_back(std::move(s));
  while (history_.size() > kHistory) {
    history_.pop_front();
  }
}

const Snapshot* PolicyStore::find(uint32_t generation) const {
  for (const auto& s : history_) {
    if (s.generation == generation) {
      return &s;
    }
  }
  return nullptr;
}

}  // namespace cmdgate
