#pragma once
// "Allow permanently": an approval written as an allow rule into the local approvals file,
// which must be one of the daemon's rule paths so that the reload it triggers loads it.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace cmdgate {

struct PermanentApproval {
  std::string exe;                // the file to allow (the script, for #! execs)
  std::string sha256;             // its content, hex: a file put at that path later differs
  uint32_t uid = 0;               // for this user only
  std::vector<std::string> argv;  // exactly this command line
  std::string approved_by;        // who and when, for the rule's description
  uint64_t request_id = 0;
};

// Appends an allow rule for the approval to path (created if missing); returns the rule id.
// Fails, writing nothing, when the command cannot be expressed in a rules file (not UTF-8).
[[nodiscard]] Result<std::string> append_permanent_approval(const std::string& path,
                                                            const PermanentApproval& a);

// True when path would be loaded from rule_paths (listed itself, or in a listed directory).
[[nodiscard]] bool covered_by_rule_paths(const std::string& path,
                                         const std::vector<std::string>& rule_paths);

}  // namespace cmdgate
