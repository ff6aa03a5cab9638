#pragma once
// Temporary approvals ("allow this command for N minutes"): the same uid running the same file
// with the same argv is resumed without asking again until the grant expires.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "rules/exec_context.h"

namespace cmdgate {

class Grants {
 public:
  using Time = std::chrono::steady_clock::time_point;

  void add(uint32_t uid, const rules::FileId& file, const std::vector<std::string>& argv,
           Time until);
  [[nodiscard]] bool allows(uint32_t uid, const rules::FileId& file,
                            const std::vector<std::string>& argv, Time now);
  [[nodiscard]] size_t size() const { return grants_.size(); }

 private:
  using Key = std::tuple<uint32_t, uint64_t, uint64_t, std::string>;
  static Key key(uint32_t uid, const rules::FileId& file, const std::vector<std::string>& argv);
  std::map<Key, Time> grants_;
};

}  // namespace cmdgate
