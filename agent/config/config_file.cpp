#include "config/config_file.h"

#include <algorithm>
#include <span>
#include <utility>

#include "common/regular_file.h"
#include "common/toml_reader.h"
#include "config/setting_values.h"

namespace cmdgate {
namespace {

// Far more than every setting written out with comments.
constexpr size_t kMaxConfigBytes = 1u << 20;

// A key of the config file: a setting, or a table of them.
struct Setting {
  std::string_view key;
  Status (*read)(const TomlValue& value, DaemonConfig& c) = nullptr;
  std::span<const Setting> table = {};
};

template <typename T, typename Field>
Status store(Result<T> value, Field& field) {
  if (!value) {
    return value.error();
  }
  field = std::move(*value);
  return {};
}

// Programs as argv lists: no shell, so nothing in a request can become a command.
Status read_notify(const TomlValue& value, DaemonConfig& c) {
  const toml::array* programs = value.node().as_array();
  if (programs == nullptr) {
    return value.wrong_type("an array of commands, each an array of strings");
  }
  c.notify.programs.clear();
  for (const toml::node& program : *programs) {
    const TomlValue command = value.element(program);
    auto argv = command.strings();
    if (!argv) {
      return argv.error();
    }
    if (!program.is_array() || argv->front().empty() || argv->front().front() != '/') {
      return command.error("each command is an array of strings whose first is an absolute path");
    }
    c.notify.programs.push_back(std::move(*argv));
  }
  return {};
}

Status read_groups(const TomlValue& value, DaemonConfig& c) {
  auto groups = value.strings();
  if (!groups) {
    return groups.error();
  }
  for (const std::string& group : *groups) {
    if (auto ok = parse_group(group); !ok) {
      return value.error(ok.error().message);
    }
  }
  c.fleet.groups = std::move(*groups);
  return {};
}

constexpr Setting kKernel[] = {
    {"ringbuf_size",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.integer(parse_ringbuf_size), c.ringbuf_bytes);
     }},
    {"delivery_failure",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kDeliveryFailureWords), c.delivery_failure);
     }},
    {"daemon_stale_after",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.duration(), c.daemon_stale_after); }},
    {"pin_dir", [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.pin_dir); }},
    {"enforcement",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kEnforcementWords), c.enforcement);
     }},
};

constexpr Setting kApproval[] = {
    {"socket",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.socket_path); }},
    {"approver_group",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.approver_group); }},
    {"socket_mode",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.parsed("an octal mode string such as \"0660\"", parse_socket_mode),
                    c.socket_mode);
     }},
    {"when_no_approver",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kWhenNoApproverWords), c.fallback_when_no_approver);
     }},
    {"local_rules_file",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.local_rules_file); }},
    {"unsafe_park",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kUnsafeParkWords), c.park_where_unsafe);
     }},
    {"notify", read_notify},
    {"notify_timeout",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.duration(), c.notify.timeout); }},
    {"authenticate",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kAuthenticateWords), c.authenticate);
     }},
};

constexpr Setting kMetrics[] = {
    {"listen",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.metrics_listen); }},
    {"exposure",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.word(kMetricsExposureWords), c.metrics_beyond_loopback);
     }},
};

// Names, paths and durations are read where they are written; fleet::validate checks how they
// fit together once the flags have been applied too.
constexpr Setting kFleet[] = {
    {"broker",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.parsed("a URL string", parse_broker), c.fleet.broker);
     }},
    {"groups", read_groups},
    {"host_id",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.parsed("a string", parse_host_id), c.fleet.host_id);
     }},
    {"trusted_keys",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.nonempty_string(), c.fleet.trusted_keys);
     }},
    {"state_dir", [](const TomlValue& v,
                     DaemonConfig& c) { return store(v.nonempty_string(), c.fleet.state_dir); }},
    {"ca_file", [](const TomlValue& v,
                   DaemonConfig& c) { return store(v.nonempty_string(), c.fleet.ca_file); }},
    {"cert_file", [](const TomlValue& v,
                     DaemonConfig& c) { return store(v.nonempty_string(), c.fleet.cert_file); }},
    {"key_file", [](const TomlValue& v,
                    DaemonConfig& c) { return store(v.nonempty_string(), c.fleet.key_file); }},
    {"username", [](const TomlValue& v,
                    DaemonConfig& c) { return store(v.nonempty_string(), c.fleet.username); }},
    {"password_file",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.nonempty_string(), c.fleet.password_file);
     }},
    {"keepalive",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.duration(), c.fleet.keepalive); }},
    {"reconnect_min", [](const TomlValue& v,
                         DaemonConfig& c) { return store(v.duration(), c.fleet.reconnect_min); }},
    {"reconnect_max", [](const TomlValue& v,
                         DaemonConfig& c) { return store(v.duration(), c.fleet.reconnect_max); }},
    {"max_bundle_size",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.integer(parse_max_bundle_size), c.fleet.max_bundle_bytes);
     }},
    {"allow_plaintext", [](const TomlValue& v,
                           DaemonConfig& c) { return store(v.boolean(), c.fleet.allow_plaintext); }},
};

constexpr Setting kTopLevel[] = {
    {"rules", [](const TomlValue& v, DaemonConfig& c) { return store(v.strings(), c.rule_paths); }},
    {"mode", [](const TomlValue& v,
                DaemonConfig& c) { return store(v.word(kModeWords), c.mode_override); }},
    {"audit_log",
     [](const TomlValue& v, DaemonConfig& c) { return store(v.string(), c.audit_log); }},
    {"audit_log_max_size",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.integer(parse_audit_log_size), c.audit_log_rotation.max_bytes);
     }},
    {"audit_log_files",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.integer(parse_audit_log_files), c.audit_log_rotation.max_files);
     }},
    {"last_known_good",
     [](const TomlValue& v, DaemonConfig& c) {
       return store(v.nonempty_string(), c.last_known_good);
     }},
    {"log_level", [](const TomlValue& v,
                     DaemonConfig& c) { return store(v.word(kLogLevelWords), c.log_level); }},
    {"on_shutdown", [](const TomlValue& v,
                       DaemonConfig& c) { return store(v.word(kOnShutdownWords), c.on_shutdown); }},
    {"kernel", nullptr, kKernel},
    {"approval", nullptr, kApproval},
    {"metrics", nullptr, kMetrics},
    {"fleet", nullptr, kFleet},
};

std::string keys_of(std::span<const Setting> settings) {
  std::string out;
  for (const Setting& s : settings) {
    out += fmt::format("{}{}", out.empty() ? "" : ", ", s.key);
  }
  return out;
}

Status read_settings(const TomlReader& reader, const toml::table& table,
                     std::span<const Setting> settings, DaemonConfig& c) {
  for (const auto& [key, node] : in_file_order(table)) {
    const auto setting = std::ranges::find(settings, key->str(), &Setting::key);
    if (setting == settings.end()) {
      return reader.unknown_key(*key, keys_of(settings));
    }
    const TomlValue value = reader.value(key->str(), *node);
    if (setting->read != nullptr) {
      if (auto s = setting->read(value, c); !s) {
        return s;
      }
      continue;
    }
    auto inner = value.table();
    if (!inner) {
      return inner.error();
    }
    if (auto s = read_settings(reader.section(key->str()), **inner, setting->table, c); !s) {
      return s;
    }
  }
  return {};
}

}  // namespace

Result<DaemonConfig> parse_config(std::string_view text, std::string_view origin, DaemonConfig c) {
  auto root = parse_toml(text, origin);
  if (!root) {
    return root.error();
  }
  if (auto s = read_settings(TomlReader(origin), *root, kTopLevel, c); !s) {
    return s.error();
  }
  return c;
}

std::vector<std::string> setting_keys() {
  std::vector<std::string> keys;
  for (const Setting& s : kTopLevel) {
    if (s.read != nullptr) {
      keys.emplace_back(s.key);
    }
    for (const Setting& inner : s.table) {
      keys.push_back(fmt::format("{}.{}", s.key, inner.key));
    }
  }
  return keys;
}

Result<DaemonConfig> load_config(const std::string& path, DaemonConfig base) {
  auto text = read_regular_file(path, kMaxConfigBytes);
  if (!text) {
    return text.error().context("cannot read config");
  }
  return parse_config(*text, path, std::move(base));
}

}  // namespace cmdgate
