#pragma once
// MD5, because it is the only digest dpkg records for a package's files. It says whether a file
// is the one dpkg installed, which needs second-preimage resistance (MD5 still has it), not
// collision resistance (it does not): see docs/threat-model.md.
//
// nettle computes it, opened when a hasher is first made (common/shared_library.h): only a policy
// with trust = "package" rules needs it, and a daemon without one never maps it.

#include <nettle/md5.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "common/shared_library.h"

namespace cmdgate::trust {

using Md5 = std::array<uint8_t, 16>;

// clang-format off
#define CMDGATE_NETTLE_MD5_FUNCTIONS(X) \
  X(nettle_md5_init) \
  X(nettle_md5_update) \
  X(nettle_md5_digest)
// clang-format on

struct NettleMd5Api {
  CMDGATE_NETTLE_MD5_FUNCTIONS(CMDGATE_LIBRARY_FUNCTION_POINTER)
};

// Opens nettle once per process; every later call gives the same table, or the same error.
[[nodiscard]] Result<const NettleMd5Api*> nettle_md5_api();

class Md5Hasher {
 public:
  // Fails when nettle cannot be opened: the digest is then unknown, never made up.
  [[nodiscard]] static Result<Md5Hasher> create() {
    auto api = nettle_md5_api();
    if (!api) {
      return api.error();
    }
    return Md5Hasher(*api);
  }
  void update(const void* data, size_t size) {
    api_->nettle_md5_update(&ctx_, size, static_cast<const uint8_t*>(data));
  }
  [[nodiscard]] Md5 finish() {
    Md5 out{};
    api_->nettle_md5_digest(&ctx_, out.size(), out.data());
    return out;
  }

 private:
  explicit Md5Hasher(const NettleMd5Api* api) : api_(api) { api_->nettle_md5_init(&ctx_); }

  const NettleMd5Api* api_;
  md5_ctx ctx_{};
};

[[nodiscard]] inline Result<Md5> md5_of(std::string_view bytes) {
  auto h = Md5Hasher::create();
  if (!h) {
    return h.error();
  }
  h->update(bytes.data(), bytes.size());
  return h->finish();
}

}  // namespace cmdgate::trust
