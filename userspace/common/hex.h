#pragma once
// One hexadecimal digit's value, for every parser that reads escapes or digests.

namespace cmdgate {

// 0-15, or -1 when c is not a hexadecimal digit (either case).
[[nodiscard]] constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace cmdgate
