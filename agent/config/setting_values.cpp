#include "config/setting_values.h"

#include <charconv>

#include "common/display_text.h"
#include "fleet/broker_url.h"
#include "fleet/names.h"

namespace cmdgate {

Result<uint32_t> parse_socket_mode(std::string_view text) {
  const auto fail = [text] {
    return Error::format("expected an octal mode such as \"0660\" (at most 0777); got {}",
                         quoted_value(text));
  };
  if (text.empty() || text.size() > 4) {
    return fail();
  }
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return fail();
    }
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (mode > 0777) {
    return fail();
  }
  return mode;
}

Result<uint32_t> parse_ringbuf_size(int64_t bytes) {
  if (bytes < 4096 || bytes > (int64_t{1} << 30) || (bytes & (bytes - 1)) != 0) {
    return Error::format("expected a power of two from 4096 to 2^30; got {}", bytes);
  }
  return static_cast<uint32_t>(bytes);
}

Result<size_t> parse_audit_log_size(int64_t bytes) {
  if (bytes < (int64_t{1} << 20) || bytes > (int64_t{64} << 30)) {
    return Error::format("expected a number of bytes from 1 MiB to 64 GiB; got {}", bytes);
  }
  return static_cast<size_t>(bytes);
}

Result<size_t> parse_audit_log_files(int64_t count) {
  if (count < 1 || count > 1000) {
    return Error::format("expected a number of files from 1 to 1000; got {}", count);
  }
  return static_cast<size_t>(count);
}

Result<size_t> parse_max_bundle_size(int64_t bytes) {
  if (bytes < 1024 || bytes > (int64_t{64} << 20)) {
    return Error::format("expected a number of bytes from 1024 to 64 MiB; got {}", bytes);
  }
  return static_cast<size_t>(bytes);
}

Result<std::string> parse_broker(std::string_view text) {
  if (auto url = fleet::parse_broker_url(text); !url) {
    return url.error();
  }
  return std::string(text);
}

Result<std::string> parse_group(std::string_view text) {
  if (auto ok = fleet::check_name(text, "group"); !ok) {
    return ok.error();
  }
  return std::string(text);
}

Result<std::string> parse_host_id(std::string_view text) {
  if (auto ok = fleet::check_name(text, "host id"); !ok) {
    return ok.error();
  }
  return std::string(text);
}

Result<int64_t> parse_decimal(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error::format("expected a decimal number; got {}", quoted_value(text));
  }
  return value;
}

}  // namespace cmdgate
