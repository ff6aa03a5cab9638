#include "approval/local_rules.h"

#include <fcntl.h>
#include <re2/re2.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "common/errno_error.h"

namespace cmdgate {
namespace {

// TOML strings are UTF-8 and toml++ would escape other bytes into different characters, so the
// rule would not name the command that was approved. nlohmann::json's strict encoder is the
// validator at hand.
bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

}  // namespace

bool covered_by_rule_paths(const std::string& path, const std::vector<std::string>& rule_paths) {
  namespace fs = std::filesystem;
  const fs::path p = fs::absolute(path).lexically_normal();
  for (const auto& r : rule_paths) {
    const fs::path rp = fs::absolute(r).lexically_normal();
    if (p == rp || (fs::is_directory(rp) && p.parent_path() == rp && p.extension() == ".toml")) {
      return true;
    }
  }
  return false;
}

Result<std::string> append_permanent_approval(const std::string& path,
                                              const PermanentApproval& a) {
  std::string cmdline;
  for (size_t i = 0; i < a.argv.size(); ++i) {
    cmdline += (i ? " " : "") + a.argv[i];
  }
  if (!valid_utf8(cmdline) || !valid_utf8(a.exe)) {
    return Error{"the command is not valid UTF-8 and cannot be written into a rules file"};
  }
  if (a.sha256.size() != 64) {
    return Error{"a permanent approval needs the SHA-256 of the file it allows"};
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string id = fmt::format("approved-{}-{}", now, a.request_id);

  toml::table rule{
      {"id", id},
      {"description", a.approved_by},
      {"action", "allow"},
      {"priority", 1000},
      {"path", a.exe},
      {"sha256", a.sha256},
      {"user", static_cast<int64_t>(a.uid)},
      {"cmdline", "^" + RE2::QuoteMeta(cmdline) + "$"},
  };
  toml::table doc{{"rule", toml::array{std::move(rule)}}};
  std::ostringstream text;
  text << "\n# Written by cmdgated for approval request " << a.request_id << "\n"
       << toml::toml_formatter(doc) << "\n";

  // What the daemon will read back must parse, or the file would break the next reload.
  if (auto check = toml::parse(text.str(), path); !check) {
    return Error::format("the command cannot be written into a rules file: {}",
                         check.error().description());
  }

  // One write(2) with O_APPEND: a concurrent reader sees the whole rule or none of it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno_error("opening " + path);
  }
  const std::string bytes = text.str();
  const ssize_t n = ::write(fd, bytes.data(), bytes.size());
  const int err = errno;
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) {
    return errno_error("writing " + path, err);
  }
  return id;
}

}  // namespace cmdgate
