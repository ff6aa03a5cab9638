#include "metrics/microhttpd_api.h"

namespace cmdgate {
namespace {

Result<MicrohttpdApi> load() {
  auto library = SharedLibrary::open(CMDGATE_MICROHTTPD_SONAME);
  if (!library) {
    return library.error().context("serving metrics");
  }
  MicrohttpdApi api;
  if (auto loaded = CMDGATE_LOAD_LIBRARY_FUNCTIONS(CMDGATE_MICROHTTPD_FUNCTIONS, *library, api);
      !loaded) {
    return loaded.error();
  }
  return api;
}

}  // namespace

Result<const MicrohttpdApi*> microhttpd_api() {
  // Never cleaned up: the server thread may run until exit.
  static const Result<MicrohttpdApi> api = load();
  if (!api) {
    return api.error();
  }
  return &api.value();
}

}  // namespace cmdgate
