#pragma once
// The lines a held or denied process is told on its stderr: what happened, why (the rule's
// message), and what to do. Every byte that came from the process is shown escaped, so argv
// cannot write control sequences to the caller's terminal or log.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "rules/model.h"

namespace cmdgate::caller_lines {

// A rule with message = "": its denials are not told.
[[nodiscard]] inline bool silent(const rules::Rule* rule) {
  return rule != nullptr && rule->message->has_value() && (*rule->message)->empty();
}

// "cmdgate: denied 'git push --force origin main': <message> (rule <id>). See <url>", and why it
// was not asked for when the rule says ask (note).
[[nodiscard]] std::string denied(std::span<const std::string_view> argv, const rules::Rule* rule,
                                 std::string_view note = {});

// "cmdgate: waiting for a person to approve 'rm -rf /srv/data' (request 42, rule <id>, up to 2m,
// then denied): <message>. A person answers it with: cmdgate prompt"
[[nodiscard]] std::string waiting(std::span<const std::string_view> argv, uint64_t request,
                                  const rules::Rule* rule, std::chrono::milliseconds timeout,
                                  rules::Action timeout_action);

// "cmdgate: request 42 approved by alice (uid 1000)" / "... denied by ..." / "... timed out:
// denied" / "... denied: parking is not escape-proof on this host"
[[nodiscard]] std::string decided(uint64_t request, std::string_view how);

}  // namespace cmdgate::caller_lines
