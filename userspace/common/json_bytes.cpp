#include "common/json_bytes.h"

#include <sodium.h>

namespace cmdgate {
namespace {

using nlohmann::json;

Result<std::string> from_base64(const std::string& key, const json& value) {
  if (!value.is_string()) {
    return Error::format("'{}' is not a string", key);
  }
  const std::string& text = value.get_ref<const std::string&>();
  std::string out(text.size(), '\0');
  size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Error::format("'{}' is not base64", key);
  }
  out.resize(n);
  return out;
}

}  // namespace

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

json json_text(std::string_view bytes) {
  return is_utf8(bytes) ? std::string(bytes) : display_text(bytes);
}

void put_bytes(json& j, const std::string& key, std::string_view bytes) {
  j[key] = json_text(bytes);
  if (!is_utf8(bytes)) {
    j[key + "_base64"] = base64(bytes);
  }
}

Result<std::string> read_bytes(const json& j, const std::string& key) {
  if (auto raw = j.find(key + "_base64"); raw != j.end()) {
    return from_base64(key + "_base64", *raw);
  }
  auto text = j.find(key);
  if (text == j.end() || !text->is_string()) {
    return Error::format("'{}' is missing or not a string", key);
  }
  return text->get<std::string>();
}

Result<std::vector<std::string>> read_bytes_list(const json& j, const std::string& key) {
  const bool exact = j.contains(key + "_base64");
  const std::string name = exact ? key + "_base64" : key;
  auto list = j.find(name);
  if (list == j.end() || !list->is_array()) {
    return Error::format("'{}' is missing or not an array", name);
  }
  std::vector<std::string> out;
  for (const json& e : *list) {
    if (!exact) {
      if (!e.is_string()) {
        return Error::format("'{}' holds something other than strings", name);
      }
      out.push_back(e.get<std::string>());
      continue;
    }
    auto bytes = from_base64(name, e);
    if (!bytes) {
      return bytes.error();
    }
    out.push_back(std::move(*bytes));
  }
  return out;
}

}  // namespace cmdgate
