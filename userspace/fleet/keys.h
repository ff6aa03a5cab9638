#pragma once
// Ed25519 signing keys (libsodium) and their files. A key is named by its id: the hex of the
// first 8 bytes of BLAKE2b-256 of the public key. Files are one line each:
//   <prefix>.pub  "cmdgate-ed25519-public <base64 of 32 bytes>"   mode 0644
//   <prefix>.key  "cmdgate-ed25519-secret <base64 of 64 bytes>"   mode 0600, refused otherwise
// Agents trust every *.pub file in their trusted-keys directory.

#include <sodium.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cmdgate::fleet {

// sodium_init() once; every function here calls it.
void ensure_sodium();

using PublicKeyBytes = std::array<uint8_t, crypto_sign_PUBLICKEYBYTES>;

struct PublicKey {
  PublicKeyBytes bytes{};
  std::string id;
  std::string origin;  // the file it came from, for messages
};

// Move-only; the key material is wiped when it goes away.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_), id_(std::move(other.id_)) {
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  SecretKey& operator=(SecretKey&& other) noexcept {
    bytes_ = other.bytes_;
    id_ = std::move(other.id_);
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
    return *this;
  }

  [[nodiscard]] static Result<SecretKey> from_bytes(std::string_view bytes);
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] PublicKey public_key() const;
  // crypto_sign_detached over exactly `message`.
  [[nodiscard]] std::string sign(std::string_view message) const;

 private:
  friend std::string format_secret_key(const SecretKey& key);
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> bytes_{};
  std::string id_;
};

[[nodiscard]] std::string key_id(const PublicKeyBytes& public_key);
[[nodiscard]] SecretKey generate_secret_key();
// True when signature is a valid Ed25519 signature of exactly `message` by `key`.
[[nodiscard]] bool verify_signature(const PublicKey& key, std::string_view message,
                                    std::string_view signature);

[[nodiscard]] std::string format_public_key(const PublicKey& key);
[[nodiscard]] std::string format_secret_key(const SecretKey& key);
[[nodiscard]] Result<PublicKey> parse_public_key(std::string_view text, std::string_view origin);
[[nodiscard]] Result<SecretKey> parse_secret_key(std::string_view text, std::string_view origin);

// Files, with the permission checks of secure_file.h.
[[nodiscard]] Result<SecretKey> read_secret_key(const std::string& path);
[[nodiscard]] Result<PublicKey> read_public_key(const std::string& path);
// Writes <prefix>.key (0600) and <prefix>.pub (0644); refuses to overwrite either.
[[nodiscard]] Status write_key_pair(const SecretKey& key, const std::string& prefix);

// The keys an agent (or `cmdgate bundle verify --trusted DIR`) accepts signatures from.
class TrustedKeys {
 public:
  // Every *.pub in dir. Any unreadable, malformed or badly protected file is an error naming it,
  // as is an empty directory: a typo must not leave an agent trusting nothing, or anything.
  [[nodiscard]] static Result<TrustedKeys> load_dir(const std::string& dir);
  [[nodiscard]] static TrustedKeys of(std::vector<PublicKey> keys);

  [[nodiscard]] const PublicKey* find(std::string_view id) const;
  [[nodiscard]] std::vector<std::string> ids() const;
  [[nodiscard]] size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

}  // namespace cmdgate::fleet
