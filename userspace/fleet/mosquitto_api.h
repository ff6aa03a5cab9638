#pragma once
// libmosquitto's functions, from the library opened on first use (common/shared_library.h): a
// daemon without a fleet broker never maps it, nor OpenSSL with it.

#include <mosquitto.h>

#include "common/result.h"
#include "common/shared_library.h"

namespace cmdgate::fleet {

// clang-format off
#define CMDGATE_MOSQUITTO_FUNCTIONS(X) \
  X(mosquitto_lib_init) \
  X(mosquitto_strerror) \
  X(mosquitto_connack_string) \
  X(mosquitto_new) \
  X(mosquitto_destroy) \
  X(mosquitto_int_option) \
  X(mosquitto_tls_set) \
  X(mosquitto_username_pw_set) \
  X(mosquitto_connect_callback_set) \
  X(mosquitto_disconnect_callback_set) \
  X(mosquitto_message_callback_set) \
  X(mosquitto_publish_callback_set) \
  X(mosquitto_subscribe_callback_set) \
  X(mosquitto_will_set) \
  X(mosquitto_connect_async) \
  X(mosquitto_reconnect_async) \
  X(mosquitto_publish) \
  X(mosquitto_subscribe) \
  X(mosquitto_disconnect) \
  X(mosquitto_socket) \
  X(mosquitto_want_write) \
  X(mosquitto_loop_read) \
  X(mosquitto_loop_write) \
  X(mosquitto_loop_misc) \
  X(mosquitto_loop)
// clang-format on

struct MosquittoApi {
  CMDGATE_MOSQUITTO_FUNCTIONS(CMDGATE_LIBRARY_FUNCTION_POINTER)
};

// Opens the library and initialises it (mosquitto_lib_init) once per process; every later call
// gives the same table, or the same error.
[[nodiscard]] Result<const MosquittoApi*> mosquitto_api();

}  // namespace cmdgate::fleet
