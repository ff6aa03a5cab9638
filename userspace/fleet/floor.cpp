#include "fleet/floor.h"

#include <sodium.h>

#include <array>
#include <nlohmann/json.hpp>

#include "fleet/keys.h"

namespace cmdgate::fleet {

std::string payload_sha256(std::string_view payload) {
  ensure_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> hash{};
  crypto_hash_sha256(hash.data(), reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size());
  std::string hex(hash.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
  hex.pop_back();
  return hex;
}

std::string encode_floor(const Floor& f) {
  const nlohmann::json j = {{"version", f.version},
                            {"key_id", f.key_id},
                            {"payload_sha256", f.payload_sha256},
                            {"created_floor_unix_ms", f.created_floor_unix_ms}};
  return j.dump() + "\n";
}

Result<Floor> decode_floor(std::string_view text, std::string_view origin) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](std::string_view why) {
    return Error::format("{}: unreadable rollback floor record: {}", origin, why);
  };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  const auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  };
  const auto* version = field("version");
  const auto* key_id = field("key_id");
  const auto* digest = field("payload_sha256");
  const auto* created = field("created_floor_unix_ms");
  if (version == nullptr || !version->is_number_unsigned() || key_id == nullptr ||
      !key_id->is_string() || digest == nullptr || !digest->is_string() || created == nullptr ||
      !created->is_number_unsigned()) {
    return bad("expected version, key_id, payload_sha256 and created_floor_unix_ms");
  }
  Floor f;
  f.version = version->get<uint64_t>();
  f.key_id = key_id->get<std::string>();
  f.payload_sha256 = digest->get<std::string>();
  f.created_floor_unix_ms = created->get<uint64_t>();
  if (f.version == 0 || f.payload_sha256.size() != 2 * crypto_hash_sha256_BYTES) {
    return bad("no version or no payload digest");
  }
  return f;
}

Floor higher_floor(const Floor& a, const Floor& b) {
  Floor out = a.version >= b.version ? a : b;
  out.created_floor_unix_ms = std::max(a.created_floor_unix_ms, b.created_floor_unix_ms);
  if (out.unknown.empty()) {
    out.unknown = a.unknown.empty() ? b.unknown : a.unknown;
  }
  return out;
}

}  // namespace cmdgate::fleet
