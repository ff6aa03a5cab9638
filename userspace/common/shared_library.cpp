#include "common/shared_library.h"

namespace cmdgate {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname) {
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Error::format("cannot load {}: {}", soname, why != nullptr ? why : "unknown error");
  }
  return SharedLibrary(handle, soname);
}

}  // namespace cmdgate
