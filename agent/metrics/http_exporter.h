#pragma once
// Serves the latest rendered metrics (GET /metrics), opt-in: on a loopback address unless the
// operator allows others ([metrics] exposure = "network"; there is no authentication). libmicrohttpd
// answers on its own thread and reads the text through a lock-free cell that the event loop
// refreshes; it never touches daemon state.

#include <memory>
#include <string>

#include "common/result.h"
#include "common/snapshot_cell.h"

struct MHD_Daemon;

namespace cmdgate {

struct MicrohttpdApi;

class HttpExporter {
 public:
  // listen: "127.0.0.1:9469" or "[::1]:9469"; with beyond_loopback any address ("0.0.0.0:9469",
  // "[::]:9469", "10.0.0.5:9469"), else anything but a loopback address is refused.
  [[nodiscard]] static Result<std::unique_ptr<HttpExporter>> start(const std::string& listen,
                                                                   bool beyond_loopback);
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  // Called on the event loop with freshly rendered text.
  void update(std::string text) { text_.publish(std::make_unique<std::string>(std::move(text))); }
  [[nodiscard]] uint16_t port() const { return port_; }
  // For the HTTP thread only (it owns the cell's one reader slot).
  [[nodiscard]] std::string text() const { return *text_.read(0); }
  [[nodiscard]] const MicrohttpdApi& mhd_api() const { return api_; }

 private:
  explicit HttpExporter(const MicrohttpdApi& api) : api_(api) {}

  const MicrohttpdApi& api_;
  SnapshotCell<std::string> text_;
  MHD_Daemon* mhd_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace cmdgate
