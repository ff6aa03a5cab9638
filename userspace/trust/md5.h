#pragma once
// MD5, because it is the only digest dpkg records for a package's files. It says whether a file
// is the one dpkg installed, which needs second-preimage resistance (MD5 still has it), not
// collision resistance (it does not): see docs/threat-model.md.

#include <nettle/md5.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cmdgate::trust {

using Md5 = std::array<uint8_t, 16>;

class Md5Hasher {
 public:
  Md5Hasher() { md5_init(&ctx_); }
  void update(const void* data, size_t size) {
    md5_update(&ctx_, size, static_cast<const uint8_t*>(data));
  }
  [[nodiscard]] Md5 finish() {
    Md5 out{};
    md5_digest(&ctx_, out.size(), out.data());
    return out;
  }

 private:
  md5_ctx ctx_{};
};

[[nodiscard]] inline Md5 md5_of(std::string_view bytes) {
  Md5Hasher h;
  h.update(bytes.data(), bytes.size());
  return h.finish();
}

}  // namespace cmdgate::trust
