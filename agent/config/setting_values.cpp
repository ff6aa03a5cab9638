#include "config/setting_values.h"

namespace cmdgate {

std::optional<uint32_t> parse_socket_mode(std::string_view text) {
  if (text.empty() || text.size() > 4) {
    return std::nullopt;
  }
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return std::nullopt;
    }
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode <= 0777 ? std::optional(mode) : std::nullopt;
}

bool valid_ringbuf_size(uint64_t bytes) {
  return bytes >= 4096 && bytes <= (uint64_t{1} << 30) && (bytes & (bytes - 1)) == 0;
}

}  // namespace cmdgate
