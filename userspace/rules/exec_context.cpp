#include "rules/exec_context.h"

#include <array>
#include <bit>

namespace cmdgate::rules {

const char* to_string(Unknown u) {
  // Indexed by bit position, in the order of the enum.
  static constexpr std::array<const char*, kUnknownBitCount> kNames = {
      "file", "sha256", "argv", "groups", "cgroup", "lineage", "path", "agent", "trust"};
  const uint32_t bits = static_cast<uint32_t>(u);
  if (!std::has_single_bit(bits) || (bits & kUnknownAll) == 0) {
    return "?";
  }
  return kNames[std::countr_zero(bits)];
}

}  // namespace cmdgate::rules
