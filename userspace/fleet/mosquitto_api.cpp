#include "fleet/mosquitto_api.h"

namespace cmdgate::fleet {
namespace {

Result<MosquittoApi> load() {
  auto opened = CMDGATE_OPEN_LIBRARY_TABLE(MosquittoApi, CMDGATE_MOSQUITTO_FUNCTIONS,
                                           CMDGATE_MOSQUITTO_SONAME, "the fleet's MQTT client");
  if (!opened) {
    return opened.error();
  }
  const MosquittoApi& api = *opened;
  if (const int rc = api.mosquitto_lib_init(); rc != MOSQ_ERR_SUCCESS) {
    return Error::format("{}: mosquitto_lib_init: {}", CMDGATE_MOSQUITTO_SONAME,
                         api.mosquitto_strerror(rc));
  }
  return api;
}

}  // namespace

Result<const MosquittoApi*> mosquitto_api() {
  static const Result<MosquittoApi> api = load();  // never cleaned up: clients live until exit
  return table_or_error(api);
}

}  // namespace cmdgate::fleet
