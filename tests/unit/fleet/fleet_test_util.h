#pragma once
// Bundles and keys for fleet unit tests.

#include <string>

#include "fleet/bundle.h"
#include "fleet/bundle_codec.h"
#include "fleet/keys.h"

namespace cmdgate::fleet::testing {

inline Bundle make_bundle(std::string group, uint64_t version, uint64_t created = 1000) {
  Bundle b;
  b.group = std::move(group);
  b.version = version;
  b.created_unix_ms = created;
  b.files = {{"10-base.toml",
              "default_action = \"allow\"\n[[rule]]\nid = \"no-nc\"\naction = \"deny\"\n"
              "path = \"/usr/bin/nc\"\n"}};
  return b;
}

inline VerifiedBundle verified(const Bundle& b, const SecretKey& key) {
  auto v = verify_bundle(sign_bundle(b, key), TrustedKeys::of({key.public_key()}));
  return std::move(*v);
}

}  // namespace cmdgate::fleet::testing
