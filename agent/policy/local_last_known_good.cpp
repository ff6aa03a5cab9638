#include "policy/local_last_known_good.h"

#include <sodium.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "fleet/secure_file.h"
#include "fleet/status.h"

namespace cmdgate {
namespace {

using nlohmann::json;

// Rule files are at most rules::kMaxFileBytes each; the copy holds a few of them.
constexpr size_t kMaxCopyBytes = 4 * rules::kMaxFileBytes;

std::string encode(const std::vector<rules::RulesText>& files, uint64_t saved_unix_ms) {
  json list = json::array();
  for (const auto& f : files) {
    list.push_back({{"origin", f.origin}, {"text", f.text}});
  }
  // Compiled rule files are valid UTF-8 (TOML is); an origin may not be, and is kept readable.
  return json{{"saved_unix_ms", saved_unix_ms}, {"files", std::move(list)}}.dump(
             -1, ' ', false, json::error_handler_t::replace) +
         "\n";
}

// Every origin and text, each preceded by its length, so that no two lists share a digest.
std::array<unsigned char, 32> digest_of(const std::vector<rules::RulesText>& files) {
  crypto_generichash_state state;
  std::array<unsigned char, 32> out{};
  crypto_generichash_init(&state, nullptr, 0, out.size());
  const auto add = [&state](const std::string& bytes) {
    const uint64_t n = bytes.size();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&n), sizeof(n));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()), n);
  };
  for (const auto& f : files) {
    add(f.origin);
    add(f.text);
  }
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace

Status LocalLastKnownGood::save(const std::vector<rules::RulesText>& files) {
  const auto digest = digest_of(files);
  if (last_saved_ == digest) {
    return {};
  }
  const std::filesystem::path p(path_);
  if (p.has_parent_path()) {
    if (auto s = fleet::make_dirs(p.parent_path().string(), 0700); !s) {
      return s;
    }
  }
  if (auto s = fleet::write_file_atomically(path_, encode(files, fleet::now_unix_ms()), 0600);
      !s) {
    return s;
  }
  last_saved_ = digest;
  return {};
}

Result<LocalCopy> LocalLastKnownGood::load() const {
  auto bytes = fleet::read_protected_file(path_, fleet::Protection::kTrusted, kMaxCopyBytes);
  if (!bytes) {
    return bytes.error();
  }
  const json j = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&] {
    return Error::format("{}: not a last-known-good copy of the local rules", path_);
  };
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array() ||
      !j.contains("saved_unix_ms") || !j["saved_unix_ms"].is_number_unsigned()) {
    return bad();
  }
  LocalCopy copy;
  copy.saved_unix_ms = j["saved_unix_ms"].get<uint64_t>();
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("origin") || !f["origin"].is_string() ||
        !f.contains("text") || !f["text"].is_string()) {
      return bad();
    }
    copy.files.push_back({f["origin"].get<std::string>(), f["text"].get<std::string>()});
  }
  if (copy.files.empty()) {
    return bad();
  }
  return copy;
}

}  // namespace cmdgate
