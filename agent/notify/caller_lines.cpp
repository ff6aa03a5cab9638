#include "notify/caller_lines.h"

#include <fmt/format.h>

#include "common/display_text.h"

namespace cmdgate::caller_lines {
namespace {

constexpr size_t kCommandShown = 200;

// The command as one quoted, escaped string, cut to a readable length.
std::string command(std::span<const std::string_view> argv) {
  std::string text = display_words(argv);
  if (text.size() > kCommandShown) {
    text.resize(kCommandShown);
    text += "...";
  }
  return display_word(text);
}

std::string why(const rules::Rule* rule) {
  if (rule == nullptr) {
    return "the policy's default";
  }
  const std::string& message = rules::told(*rule);
  std::string out = message.empty() ? fmt::format("rule {}", display_text(rule->id))
                                    : fmt::format("{} (rule {})", display_text(message),
                                                  display_text(rule->id));
  if (!rule->url->empty()) {
    out += fmt::format(". See {}", *rule->url);
  }
  return out;
}

std::string duration(std::chrono::milliseconds ms) {
  const auto s = ms.count() / 1000;
  if (s % 3600 == 0 && s >= 3600) {
    return fmt::format("{}h", s / 3600);
  }
  if (s % 60 == 0 && s >= 60) {
    return fmt::format("{}m", s / 60);
  }
  return s > 0 ? fmt::format("{}s", s) : fmt::format("{}ms", ms.count());
}

}  // namespace

std::string denied(std::span<const std::string_view> argv, const rules::Rule* rule,
                   std::string_view note) {
  std::string line = fmt::format("cmdgate: denied {}: {}", command(argv), why(rule));
  if (!note.empty()) {
    line += fmt::format(" ({})", note);
  }
  return line;
}

std::string waiting(std::span<const std::string_view> argv, uint64_t request,
                    const rules::Rule* rule, std::chrono::milliseconds timeout,
                    rules::Action timeout_action) {
  const std::string rule_id = rule != nullptr ? display_text(rule->id) : "default";
  std::string line = fmt::format(
      "cmdgate: waiting for a person to approve {} (request {}, rule {}, up to {}, then {})",
      command(argv), request, rule_id, duration(timeout),
      timeout_action == rules::Action::kAllow ? "allowed" : "denied");
  if (rule != nullptr && !rules::told(*rule).empty()) {
    line += ": " + display_text(rules::told(*rule));
  }
  if (rule != nullptr && !rule->url->empty()) {
    line += fmt::format(". See {}", *rule->url);
  }
  return line + ". A person answers it with: cmdgate prompt";
}

std::string decided(uint64_t request, std::string_view how) {
  return fmt::format("cmdgate: request {} {}", request, how);
}

}  // namespace cmdgate::caller_lines
