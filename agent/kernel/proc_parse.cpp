#include "kernel/proc_parse.h"

#include <charconv>

namespace cmdgate {
namespace {

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

// Parses one decimal field and advances past it; false when there is none.
template <typename T>
bool next_number(std::string_view& s, T& out) {
  s = skip_blanks(s);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) {
    return false;
  }
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return true;
}

// The rest of the line that starts with key (at the start of the text or after a newline).
std::optional<std::string_view> status_line(std::string_view status, std::string_view key) {
  size_t at = status.find(key);
  while (at != std::string_view::npos && at != 0 && status[at - 1] != '\n') {
    at = status.find(key, at + 1);
  }
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view line = status.substr(at + key.size());
  return line.substr(0, line.find('\n'));
}

}  // namespace

uint32_t status_field(std::string_view status, std::string_view key, int column) {
  auto line = status_line(status, key);
  if (!line) {
    return 0;
  }
  uint32_t v = 0;
  for (int i = 0; i <= column; ++i) {
    if (!next_number(*line, v)) {
      return 0;
    }
  }
  return v;
}

uint64_t status_mask(std::string_view status, std::string_view key) {
  auto line = status_line(status, key);
  if (!line) {
    return 0;
  }
  std::string_view v = skip_blanks(*line);
  uint64_t mask = 0;
  std::from_chars(v.data(), v.data() + v.size(), mask, 16);
  return mask;
}

std::vector<uint32_t> status_groups(std::string_view status) {
  std::vector<uint32_t> out;
  auto line = status_line(status, "Groups:");
  uint32_t g = 0;
  while (line && next_number(*line, g)) {
    out.push_back(g);
  }
  return out;
}

std::optional<ProcStat> parse_stat(std::string_view stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 >= stat.size()) {
    return std::nullopt;
  }
  std::string_view rest = stat.substr(close + 2);
  ProcStat s;
  s.state = rest.front();
  rest.remove_prefix(1);
  if (!next_number(rest, s.ppid) || !next_number(rest, s.pgrp) ||
      !next_number(rest, s.session) || !next_number(rest, s.tty_nr)) {
    return std::nullopt;
  }
  return s;
}

uint32_t session_of(const ProcFs& proc, uint32_t pid) {
  auto stat = proc.read(pid, "stat");
  if (!stat) {
    return 0;
  }
  auto parsed = parse_stat(*stat);
  return parsed ? parsed->session : 0;
}

}  // namespace cmdgate
