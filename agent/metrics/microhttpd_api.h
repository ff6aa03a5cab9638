#pragma once
// libmicrohttpd's functions, from the library opened when metrics are first served
// (common/shared_library.h): a daemon without --metrics-listen never maps it, nor gnutls with it.

#include <microhttpd.h>

#include "common/result.h"
#include "common/shared_library.h"

namespace cmdgate {

// clang-format off
#define CMDGATE_MICROHTTPD_FUNCTIONS(X) \
  X(MHD_start_daemon) \
  X(MHD_stop_daemon) \
  X(MHD_create_response_from_buffer) \
  X(MHD_add_response_header) \
  X(MHD_queue_response) \
  X(MHD_destroy_response)
// clang-format on

struct MicrohttpdApi {
  CMDGATE_MICROHTTPD_FUNCTIONS(CMDGATE_LIBRARY_FUNCTION_POINTER)
};

// Opens the library once per process; every later call gives the same table, or the same error.
[[nodiscard]] Result<const MicrohttpdApi*> microhttpd_api();

}  // namespace cmdgate
