#pragma once
// Bundles to and from bytes: encoding, signing, and the checks every received or stored bundle
// goes through before anything else looks at it. Each error says what is wrong and where.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fleet/bundle.h"
#include "fleet/keys.h"

namespace cmdgate::fleet {

// Serialized Bundle (the payload that gets signed). The bundle must pass validate().
[[nodiscard]] std::string encode_payload(const Bundle& bundle);
// Payload bytes -> Bundle, validated.
[[nodiscard]] Result<Bundle> decode_payload(std::string_view payload);
// Every rule a bundle's content must follow, whatever produced it: format, group and file names,
// version >= 1, rollback below from_version, known actions, limits.
[[nodiscard]] Status validate(const Bundle& bundle);

// The SignedBundle envelope: payload, Ed25519 signature over exactly those bytes, key id.
[[nodiscard]] std::string sign_bundle(const Bundle& bundle, const SecretKey& key);

struct Envelope {
  std::string payload;
  std::string signature;
  std::string key_id;
};
// Size limit first, then the envelope's own shape; the payload is not looked at.
[[nodiscard]] Result<Envelope> decode_envelope(std::string_view bytes, size_t max_bytes);

// decode_envelope, key lookup, signature check over the exact payload bytes, decode_payload.
// Nothing of the payload is interpreted before its signature is known good.
[[nodiscard]] Result<VerifiedBundle> verify_bundle(std::string_view bytes, const TrustedKeys& keys,
                                                   size_t max_bytes = kDefaultMaxBundleBytes);

}  // namespace cmdgate::fleet
