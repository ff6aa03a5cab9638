#pragma once
// Seam for teaching the kernel a verdict the daemon derived for one file.

#include <cstdint>

#include "rules/exec_context.h"
#include "rules/kernel_policy.h"

namespace cmdgate {

class Learner {
 public:
  virtual ~Learner() = default;
  virtual void learn(const rules::FileId& file, int64_t ctime_sec, uint32_t ctime_nsec,
                     rules::InodeVerdict verdict, uint32_t generation) = 0;
};

}  // namespace cmdgate
