#include "service/notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

#include <fmt/format.h>

namespace cmdgate {
namespace {

uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

void SdNotifier::ready(std::string_view status) {
  sd_notify(0, fmt::format("READY=1\nSTATUS={}", status).c_str());
}

void SdNotifier::reloading() {
  // MONOTONIC_USEC lets Type=notify-reload units match this to the reload they asked for.
  sd_notify(0, fmt::format("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()).c_str());
}

void SdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SdNotifier::status(std::string_view status) {
  sd_notify(0, fmt::format("STATUS={}", status).c_str());
}

void SdNotifier::watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> SdNotifier::watchdog_timeout() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(usec);
}

}  // namespace cmdgate
