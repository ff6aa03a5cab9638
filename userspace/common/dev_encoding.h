#pragma once
// The kernel keeps dev_t as MAJOR << 20 | MINOR (MINORBITS = 20); stat(2) reports the glibc
// encoding. Records carry the former, rules and caches use the latter.

#include <sys/sysmacros.h>

#include <cstdint>

namespace cmdgate {

inline uint64_t user_dev_from_kernel(uint64_t kdev) {
  return makedev(static_cast<unsigned>(kdev >> 20), static_cast<unsigned>(kdev & 0xfffff));
}

inline uint64_t kernel_dev_from_user(uint64_t udev) {
  return (static_cast<uint64_t>(major(udev)) << 20) | minor(udev);
}

}  // namespace cmdgate
