#pragma once
// DecisionRecord -> one JSON line. Attacker-controlled bytes (argv, paths) are escaped, and
// invalid UTF-8 is never passed through: the exe, argv, comm and ancestors' exe and comm are
// written as common/json_bytes.h says (exact bytes in NAME_base64 when not UTF-8), so that
// `cmdgate replay` judges the bytes that ran; other fields replace invalid UTF-8.

#include <string>

#include "log/decision_record.h"

namespace cmdgate {

// The version of the decision-record schema (docs/decision-log.md); raised when a field changes
// meaning or type, not when one is added.
inline constexpr int kDecisionSchema = 2;

[[nodiscard]] std::string to_json_line(const DecisionRecord& r);

}  // namespace cmdgate
