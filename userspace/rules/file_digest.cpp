#include "rules/file_digest.h"

#include <sodium.h>
#include <unistd.h>

#include <vector>

#include "common/errno_error.h"

namespace cmdgate::rules {

Result<Sha256> sha256_of_fd(int fd) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<unsigned char> buf(1 << 16);
  off_t off = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("reading a file to hash it");
    }
    if (n == 0) {
      break;
    }
    crypto_hash_sha256_update(&st, buf.data(), static_cast<unsigned long long>(n));
    off += n;
  }
  Sha256 out;
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

std::string to_hex(const Sha256& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace cmdgate::rules
