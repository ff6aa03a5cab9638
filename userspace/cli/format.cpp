#include "cli/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "common/display_text.h"
#include "common/json_bytes.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;
using Strings = google::protobuf::RepeatedPtrField<std::string>;

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    out += fmt::format("{:02x}", c);
  }
  return out;
}

std::string command_text(const Strings& argv, uint32_t argc, uint64_t omitted_bytes,
                         const std::string& exe) {
  std::string out = argv.empty() ? display_word(exe) : display_words(argv);
  const auto sent = static_cast<uint32_t>(argv.size());
  if (omitted_bytes > 0 || argc > sent) {
    // Unquoted and with spaces: no argument renders like this, so the cut cannot be faked.
    out += fmt::format(" [cut: {} more bytes not shown, {} arguments in all]", omitted_bytes,
                       std::max(argc, sent));
  }
  return out;
}

}  // namespace

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dump(const json& j, int indent) {
  // Every string put in is UTF-8 already (json_text); replace only keeps a slip from throwing.
  return j.dump(indent, ' ', true, json::error_handler_t::replace);
}

std::string duration_text(int64_t ms) {
  if (ms < 0) {
    return "-";
  }
  const int64_t s = ms / 1000;
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  if (s < 3600) {
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string command_line(const protocol::ApprovalRequest& r) {
  return command_text(r.argv(), r.argc(), r.argv_omitted_bytes(), r.exe());
}

std::string command_line(const protocol::DecisionEvent& e) {
  return command_text(e.argv(), e.argc(), e.argv_omitted_bytes(), e.exe());
}

json to_json(const protocol::ApprovalRequest& r) {
  json lineage = json::array();
  for (const auto& a : r.lineage()) {
    json entry = {{"pid", a.pid()}};
    put_bytes(entry, "comm", a.comm());
    put_bytes(entry, "exe", a.exe());
    lineage.push_back(std::move(entry));
  }
  json j = {{"id", r.id()},
            {"pid", r.pid()},
            {"uid", r.uid()},
            {"lineage", lineage},
            {"rule", r.rule_id()},
            {"rule_description", r.rule_description()},
            {"parked_unix_ms", r.parked_unix_ms()},
            {"deadline_unix_ms", r.deadline_unix_ms()},
            {"timeout_verdict", r.timeout_verdict() == protocol::VERDICT_ALLOW ? "allow" : "deny"},
            {"tty", r.tty()},
            {"argc", std::max<uint32_t>(r.argc(), static_cast<uint32_t>(r.argv_size()))},
            {"argv_omitted_bytes", r.argv_omitted_bytes()}};
  put_bytes(j, "user", r.user());
  put_bytes(j, "exe", r.exe());
  put_bytes_list(j, "argv", r.argv());
  put_bytes(j, "cwd", r.cwd());
  if (!r.script().empty()) {
    put_bytes(j, "script", r.script());
  }
  if (!r.exe_sha256().empty()) {
    j["exe_sha256"] = hex(r.exe_sha256());
  }
  return j;
}

json to_json(const protocol::DecisionEvent& e) {
  json j = {{"unix_ms", e.unix_ms()},
            {"pid", e.pid()},
            {"uid", e.uid()},
            {"argc", std::max<uint32_t>(e.argc(), static_cast<uint32_t>(e.argv_size()))},
            {"argv_omitted_bytes", e.argv_omitted_bytes()},
            {"rule", e.rule_id()},
            {"action", e.action()},
            {"mode", e.mode()},
            {"outcome", e.outcome()},
            {"decided_by", e.decided_by()},
            {"latency_us", e.latency_us()}};
  put_bytes(j, "exe", e.exe());
  put_bytes_list(j, "argv", e.argv());
  return j;
}

json to_json(const protocol::Status& s) {
  json counters = json::object();
  for (const auto& [k, v] : s.counters()) {
    counters[k] = v;
  }
  json j = {{"mode", s.mode()},
            {"rules", s.rules()},
            {"generation", s.generation()},
            {"enforcement", s.enforcement()},
            {"parked", s.parked()},
            {"reloads", s.reloads()},
            {"reload_failures", s.reload_failures()},
            {"last_reload_error", json_text(s.last_reload_error())},
            {"local_rules_fallback", json_text(s.local_rules_fallback())},
            {"uptime_seconds", s.uptime_seconds()},
            {"clients", s.clients()},
            {"counters", counters}};
  put_bytes_list(j, "rule_sources", s.rule_sources());
  return j;
}

json to_json(const protocol::RequestClosed& c) {
  return {{"id", c.id()},
          {"outcome", c.outcome()},
          {"decided_by", c.decided_by()},
          {"approver_uid", c.approver_uid()},
          {"approver_pid", c.approver_pid()}};
}

}  // namespace cmdgate::cli
