#include "metrics/microhttpd_api.h"

namespace cmdgate {

Result<const MicrohttpdApi*> microhttpd_api() {
  // Never cleaned up: the server thread may run until exit.
  static const Result<MicrohttpdApi> api = CMDGATE_OPEN_LIBRARY_TABLE(
      MicrohttpdApi, CMDGATE_MICROHTTPD_FUNCTIONS, CMDGATE_MICROHTTPD_SONAME, "serving metrics");
  return table_or_error(api);
}

}  // namespace cmdgate
