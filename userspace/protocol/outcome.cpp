#include "protocol/outcome.h"

#include <array>

namespace cmdgate {
namespace {

// Indexed by the enumerator: adding one without its name fails to compile.
constexpr std::array<std::string_view, 8> kOutcomeNames{
    "allowed", "audited", "denied", "killed", "parked", "would_deny", "would_ask", "gone"};
static_assert(kOutcomeNames.size() == static_cast<size_t>(Outcome::kGone) + 1);

constexpr std::array<std::string_view, 12> kDecidedByNames{
    "kernel", "lsm",      "daemon", "failsafe",    "timeout", "shutdown",
    "gone",   "approver", "grant",  "no_approver", "escape",  "unsafe_park"};
static_assert(kDecidedByNames.size() == static_cast<size_t>(DecidedBy::kUnsafePark) + 1);

}  // namespace

std::string_view to_string(Outcome o) {
  return kOutcomeNames[static_cast<size_t>(o)];
}

std::string_view to_string(DecidedBy d) {
  return kDecidedByNames[static_cast<size_t>(d)];
}

std::optional<Outcome> outcome_from_string(std::string_view name) {
  for (size_t i = 0; i < kOutcomeNames.size(); ++i) {
    if (kOutcomeNames[i] == name) {
      return static_cast<Outcome>(i);
    }
  }
  return std::nullopt;
}

}  // namespace cmdgate
