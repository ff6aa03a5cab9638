#pragma once
// Terminal conventions for the CLI: colour only when stdout is a terminal and NO_COLOR is unset.

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace cmdgate::cli {

// Exit statuses shared by the subcommands (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;      // the operation failed or was refused
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNoDaemon = 3;    // cannot reach cmdgated

inline bool use_colour() {
  static const bool on = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  return on;
}

inline std::string paint(std::string_view text, std::string_view sgr) {
  if (!use_colour()) {
    return std::string(text);
  }
  return "\x1b[" + std::string(sgr) + "m" + std::string(text) + "\x1b[0m";
}

inline std::string bold(std::string_view t) { return paint(t, "1"); }
inline std::string red(std::string_view t) { return paint(t, "31"); }
inline std::string green(std::string_view t) { return paint(t, "32"); }
inline std::string yellow(std::string_view t) { return paint(t, "33"); }
inline std::string dim(std::string_view t) { return paint(t, "2"); }

// The approval socket: --socket, else $CMDGATE_SOCKET, else the default.
inline std::string socket_path(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  const char* env = std::getenv("CMDGATE_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/cmdgate/cmdgate.sock";
}

}  // namespace cmdgate::cli
