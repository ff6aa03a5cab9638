#pragma once
// Three-valued truth, for judging a rule over facts that may be unknown: a predicate holds, does
// not, or may (it reads a fact nobody could establish). Ordered so that a conjunction is the
// minimum of its terms and a disjunction the maximum.

#include <algorithm>
#include <cstdint>

namespace cmdgate::rules {

enum class Tri : uint8_t { kNo, kMaybe, kYes };

[[nodiscard]] constexpr Tri known(bool holds) {
  return holds ? Tri::kYes : Tri::kNo;
}
[[nodiscard]] constexpr Tri tri_and(Tri a, Tri b) {
  return std::min(a, b);
}
[[nodiscard]] constexpr Tri tri_or(Tri a, Tri b) {
  return std::max(a, b);
}

}  // namespace cmdgate::rules
