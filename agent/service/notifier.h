#pragma once
// The service manager's view of the daemon (sd_notify protocol): READY only once BPF is attached
// and a policy is in force, RELOADING/READY around every reload, STOPPING, WATCHDOG pets.

#include <chrono>
#include <optional>
#include <string_view>

namespace cmdgate {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;
  virtual void ready(std::string_view status) = 0;
  virtual void reloading() = 0;
  virtual void stopping() = 0;
  virtual void status(std::string_view status) = 0;
  virtual void watchdog() = 0;
  // How often the service manager expects WATCHDOG=1 (WatchdogSec=), if it expects it at all.
  [[nodiscard]] virtual std::optional<std::chrono::microseconds> watchdog_timeout() const = 0;
};

// libsystemd's sd_notify; a no-op when NOTIFY_SOCKET is unset.
class SdNotifier final : public ServiceNotifier {
 public:
  void ready(std::string_view status) override;
  void reloading() override;
  void stopping() override;
  void status(std::string_view status) override;
  void watchdog() override;
  // WATCHDOG_USEC, when WATCHDOG_PID is unset or names this process (sd_watchdog_enabled).
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_timeout() const override;
};

}  // namespace cmdgate
