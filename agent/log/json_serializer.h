#pragma once
// DecisionRecord -> one JSON line. Attacker-controlled bytes (argv, paths) are escaped, and
// invalid UTF-8 is replaced, never passed through.

#include <string>

#include "log/decision_record.h"

namespace cmdgate {

[[nodiscard]] std::string to_json_line(const DecisionRecord& r);

}  // namespace cmdgate
