#pragma once
// Transparent hashing so that maps keyed by std::string can be probed with a string_view
// without building a string (no allocation on the evaluation path).

#include <functional>
#include <string>
#include <string_view>

namespace cmdgate::rules {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace cmdgate::rules
