#pragma once
// Seam over /proc/<pid>/..., so context building is testable without real processes.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace cmdgate {

class ProcFs {
 public:
  virtual ~ProcFs() = default;
  // Contents of /proc/<pid>/<entry>, at most max_bytes.
  [[nodiscard]] virtual Result<std::string> read(uint32_t pid, std::string_view entry,
                                                 size_t max_bytes = 1 << 16) const = 0;
  [[nodiscard]] virtual Result<std::string> read_link(uint32_t pid,
                                                      std::string_view entry) const = 0;
  [[nodiscard]] virtual Result<Fd> open(uint32_t pid, std::string_view entry) const = 0;
};

class SystemProcFs final : public ProcFs {
 public:
  Result<std::string> read(uint32_t pid, std::string_view entry, size_t max_bytes) const override;
  Result<std::string> read_link(uint32_t pid, std::string_view entry) const override;
  Result<Fd> open(uint32_t pid, std::string_view entry) const override;
};

}  // namespace cmdgate
