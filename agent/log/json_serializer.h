#pragma once
// DecisionRecord -> one JSON line. Attacker-controlled bytes (argv, paths) are escaped, and
// invalid UTF-8 is replaced, never passed through.

#include <string>

#include "log/decision_record.h"

namespace cmdgate {

// The version of the decision-record schema (docs/decision-log.md); raised when a field changes
// meaning or type, not when one is added.
inline constexpr int kDecisionSchema = 2;

[[nodiscard]] std::string to_json_line(const DecisionRecord& r);

}  // namespace cmdgate
