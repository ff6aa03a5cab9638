#include "trust/md5.h"

namespace cmdgate::trust {
namespace {

Result<NettleMd5Api> load() {
  auto library = SharedLibrary::open(CMDGATE_NETTLE_SONAME);
  if (!library) {
    return library.error().context("MD5 for trust = \"package\"");
  }
  NettleMd5Api api;
  if (auto loaded = CMDGATE_LOAD_LIBRARY_FUNCTIONS(CMDGATE_NETTLE_MD5_FUNCTIONS, *library, api);
      !loaded) {
    return loaded.error();
  }
  return api;
}

}  // namespace

Result<const NettleMd5Api*> nettle_md5_api() {
  static const Result<NettleMd5Api> api = load();
  if (!api) {
    return api.error();
  }
  return &api.value();
}

}  // namespace cmdgate::trust
