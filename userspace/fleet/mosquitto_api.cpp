#include "fleet/mosquitto_api.h"

namespace cmdgate::fleet {
namespace {

Result<MosquittoApi> load() {
  auto library = SharedLibrary::open(CMDGATE_MOSQUITTO_SONAME);
  if (!library) {
    return library.error().context("the fleet's MQTT client");
  }
  MosquittoApi api;
  if (auto loaded = CMDGATE_LOAD_LIBRARY_FUNCTIONS(CMDGATE_MOSQUITTO_FUNCTIONS, *library, api);
      !loaded) {
    return loaded.error();
  }
  if (const int rc = api.mosquitto_lib_init(); rc != MOSQ_ERR_SUCCESS) {
    return Error::format("{}: mosquitto_lib_init: {}", CMDGATE_MOSQUITTO_SONAME,
                         api.mosquitto_strerror(rc));
  }
  return api;
}

}  // namespace

Result<const MosquittoApi*> mosquitto_api() {
  static const Result<MosquittoApi> api = load();  // never cleaned up: clients live until exit
  if (!api) {
    return api.error();
  }
  return &api.value();
}

}  // namespace cmdgate::fleet
