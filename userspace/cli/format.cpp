#include "cli/format.h"

#include <chrono>

#include <fmt/format.h>

namespace cmdgate::cli {

using nlohmann::json;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
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
  std::string out;
  for (int i = 0; i < r.argv_size(); ++i) {
    out += (i ? " " : "") + r.argv(i);
  }
  return out.empty() ? r.exe() : out;
}

json to_json(const protocol::ApprovalRequest& r) {
  json lineage = json::array();
  for (const auto& a : r.lineage()) {
    lineage.push_back({{"pid", a.pid()}, {"comm", a.comm()}, {"exe", a.exe()}});
  }
  json j = {{"id", r.id()},
            {"pid", r.pid()},
            {"uid", r.uid()},
            {"user", r.user()},
            {"exe", r.exe()},
            {"argv", json(std::vector<std::string>(r.argv().begin(), r.argv().end()))},
            {"cwd", r.cwd()},
            {"lineage", lineage},
            {"rule", r.rule_id()},
            {"rule_description", r.rule_description()},
            {"parked_unix_ms", r.parked_unix_ms()},
            {"deadline_unix_ms", r.deadline_unix_ms()},
            {"timeout_verdict", r.timeout_verdict() == protocol::VERDICT_ALLOW ? "allow" : "deny"},
            {"tty", r.tty()}};
  if (!r.script().empty()) {
    j["script"] = r.script();
  }
  return j;
}

json to_json(const protocol::DecisionEvent& e) {
  return {{"unix_ms", e.unix_ms()},
          {"pid", e.pid()},
          {"uid", e.uid()},
          {"exe", e.exe()},
          {"argv", json(std::vector<std::string>(e.argv().begin(), e.argv().end()))},
          {"rule", e.rule_id()},
          {"action", e.action()},
          {"mode", e.mode()},
          {"outcome", e.outcome()},
          {"decided_by", e.decided_by()},
          {"latency_us", e.latency_us()}};
}

json to_json(const protocol::Status& s) {
  json counters = json::object();
  for (const auto& [k, v] : s.counters()) {
    counters[k] = v;
  }
  return {{"mode", s.mode()},
          {"rules", s.rules()},
          {"generation", s.generation()},
          {"enforcement", s.enforcement()},
          {"parked", s.parked()},
          {"reloads", s.reloads()},
          {"reload_failures", s.reload_failures()},
          {"last_reload_error", s.last_reload_error()},
          {"uptime_seconds", s.uptime_seconds()},
          {"clients", s.clients()},
          {"rule_sources",
           json(std::vector<std::string>(s.rule_sources().begin(), s.rule_sources().end()))},
          {"counters", counters}};
}

json to_json(const protocol::RequestClosed& c) {
  return {{"id", c.id()},
          {"outcome", c.outcome()},
          {"decided_by", c.decided_by()},
          {"approver_uid", c.approver_uid()},
          {"approver_pid", c.approver_pid()}};
}

}  // namespace cmdgate::cli
