#include "notify/request_json.h"

#include "common/display_text.h"
#include "common/host_name.h"
#include "probe/abi_check.h"
#include "rules/file_digest.h"

namespace cmdgate {

nlohmann::json request_json(const PendingRequest& r) {
  using nlohmann::json;
  const rules::Rule* rule = r.judgement.decision.rule;
  json argv = json::array();
  for (const auto& a : r.argv) {
    argv.push_back(display_text(a));
  }
  json j = {{"request", r.id},
            {"host", host_name().value_or("")},
            {"pid", r.event.tgid},
            {"uid", r.event.uid},
            {"exe", display_text(r.event.path)},
            {"command", display_words(r.argv)},
            {"argv", std::move(argv)},
            {"cwd", display_text(r.cwd)},
            {"rule", rule != nullptr ? json(rule->id) : json(nullptr)},
            {"message", rule != nullptr ? json(display_text(rules::told(*rule))) : json("")},
            {"parked_unix_ms", r.parked_unix_ms},
            {"deadline_unix_ms", r.deadline_unix_ms},
            {"then", r.judgement.timeout_action == rules::Action::kAllow ? "allowed" : "denied"},
            {"answer_with", "cmdgate prompt"}};
  if (rule != nullptr && !rule->url->empty()) {
    j["url"] = *rule->url;
  }
  if (!r.script_path.empty()) {
    j["script"] = display_text(r.script_path);
  }
  if (r.exe_sha256) {
    j["exe_sha256"] = rules::to_hex(*r.exe_sha256);
  }
  return j;
}

}  // namespace cmdgate
