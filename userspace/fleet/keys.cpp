#include "fleet/keys.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "fleet/secure_file.h"

namespace cmdgate::fleet {
namespace {

constexpr std::string_view kPublicTag = "cmdgate-ed25519-public";
constexpr std::string_view kSecretTag = "cmdgate-ed25519-secret";
constexpr size_t kMaxKeyFileBytes = 4096;

std::string to_base64(const uint8_t* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// "<tag> <base64>\n" -> exactly `size` bytes.
Result<std::string> parse_key_line(std::string_view text, std::string_view origin,
                                   std::string_view tag, size_t size) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (!text.starts_with(tag) || text.size() <= tag.size() || text[tag.size()] != ' ') {
    return Error::format("{}: not a cmdgate key file (expected a line starting with '{} ')", origin,
                         tag);
  }
  const std::string_view b64 = text.substr(tag.size() + 1);
  std::string bytes(size + 1, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), b64.data(),
                        b64.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size() || len != size) {
    return Error::format("{}: malformed key: expected base64 of {} bytes", origin, size);
  }
  bytes.resize(len);
  return bytes;
}

}  // namespace

void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) {
    std::abort();  // no randomness source: nothing here can work
  }
}

std::string key_id(const PublicKeyBytes& public_key) {
  ensure_sodium();
  std::array<uint8_t, 32> hash{};
  crypto_generichash(hash.data(), hash.size(), public_key.data(), public_key.size(), nullptr, 0);
  std::string hex(17, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash.data(), 8);
  hex.resize(16);
  return hex;
}

Result<SecretKey> SecretKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != crypto_sign_SECRETKEYBYTES) {
    return Error::format("secret key: {} bytes, expected {}", bytes.size(),
                         crypto_sign_SECRETKEYBYTES);
  }
  SecretKey k;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(k.bytes_.data()));
  k.id_ = key_id(k.public_key().bytes);
  return k;
}

PublicKey SecretKey::public_key() const {
  ensure_sodium();
  PublicKey p;
  crypto_sign_ed25519_sk_to_pk(p.bytes.data(), bytes_.data());
  p.id = id_.empty() ? key_id(p.bytes) : id_;
  return p;
}

std::string SecretKey::sign(std::string_view message) const {
  ensure_sodium();
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       bytes_.data());
  return sig;
}

SecretKey generate_secret_key() {
  ensure_sodium();
  PublicKeyBytes pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  auto key =
      SecretKey::from_bytes(std::string_view(reinterpret_cast<const char*>(sk.data()), sk.size()));
  sodium_memzero(sk.data(), sk.size());
  return std::move(*key);
}

bool verify_signature(const PublicKey& key, std::string_view message, std::string_view signature) {
  ensure_sodium();
  return signature.size() == crypto_sign_BYTES &&
         crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.bytes.data()) == 0;
}

std::string format_public_key(const PublicKey& key) {
  return fmt::format("{} {}\n", kPublicTag, to_base64(key.bytes.data(), key.bytes.size()));
}

std::string format_secret_key(const SecretKey& key) {
  // The key material passes through this string; callers write it out and wipe it.
  std::string b64 = to_base64(key.bytes_.data(), key.bytes_.size());
  std::string line = fmt::format("{} {}\n", kSecretTag, b64);
  sodium_memzero(b64.data(), b64.size());
  return line;
}

Result<PublicKey> parse_public_key(std::string_view text, std::string_view origin) {
  auto bytes = parse_key_line(text, origin, kPublicTag, crypto_sign_PUBLICKEYBYTES);
  if (!bytes) {
    return bytes.error();
  }
  PublicKey key;
  std::copy(bytes->begin(), bytes->end(), reinterpret_cast<char*>(key.bytes.data()));
  key.id = key_id(key.bytes);
  key.origin = std::string(origin);
  return key;
}

Result<SecretKey> parse_secret_key(std::string_view text, std::string_view origin) {
  auto bytes = parse_key_line(text, origin, kSecretTag, crypto_sign_SECRETKEYBYTES);
  if (!bytes) {
    return bytes.error();
  }
  auto key = SecretKey::from_bytes(*bytes);
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

Result<SecretKey> read_secret_key(const std::string& path) {
  auto text = read_protected_file(path, Protection::kSecret, kMaxKeyFileBytes);
  if (!text) {
    return text.error();
  }
  auto key = parse_secret_key(*text, path);
  sodium_memzero(text->data(), text->size());
  return key;
}

Result<PublicKey> read_public_key(const std::string& path) {
  auto text = read_protected_file(path, Protection::kTrusted, kMaxKeyFileBytes);
  if (!text) {
    return text.error();
  }
  return parse_public_key(*text, path);
}

Status write_key_pair(const SecretKey& key, const std::string& prefix) {
  const std::string secret_path = prefix + ".key";
  const std::string public_path = prefix + ".pub";
  for (const auto& p : {secret_path, public_path}) {
    if (std::filesystem::exists(std::filesystem::symlink_status(p))) {
      return Error::format("{}: already exists; not overwriting a key", p);
    }
  }
  std::string secret = format_secret_key(key);
  Status s = write_new_file(secret_path, secret, 0600);
  sodium_memzero(secret.data(), secret.size());
  if (!s) {
    return s;
  }
  return write_new_file(public_path, format_public_key(key.public_key()), 0644);
}

Result<TrustedKeys> TrustedKeys::load_dir(const std::string& dir) {
  if (auto s = check_protected_dir(dir); !s) {
    return Error::format("trusted keys: {}", s.error().message);
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 4 && name.front() != '.' && name.ends_with(".pub")) {
      files.push_back(it->path().string());
    }
  }
  if (ec) {
    return Error::format("trusted keys: {}: {}", dir, ec.message());
  }
  if (files.empty()) {
    return Error::format("trusted keys: {}: no *.pub files", dir);
  }
  std::sort(files.begin(), files.end());
  std::vector<PublicKey> keys;
  for (const auto& f : files) {
    auto key = read_public_key(f);
    if (!key) {
      return Error::format("trusted keys: {}", key.error().message);
    }
    keys.push_back(std::move(*key));
  }
  return of(std::move(keys));
}

TrustedKeys TrustedKeys::of(std::vector<PublicKey> keys) {
  TrustedKeys t;
  for (auto& k : keys) {
    const std::string id = k.id;
    t.keys_.emplace(id, std::move(k));
  }
  return t;
}

const PublicKey* TrustedKeys::find(std::string_view id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> TrustedKeys::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, k] : keys_) {
    out.push_back(id);
  }
  return out;
}

}  // namespace cmdgate::fleet
