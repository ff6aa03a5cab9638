#pragma once
// A shared library opened when a feature first needs it instead of at exec. The daemon links
// neither libmosquitto (fleet) nor libmicrohttpd (metrics): with them come the TLS stacks (gnutls,
// OpenSSL, nettle, p11-kit, ...), megabytes of mapped and relocated pages and milliseconds of
// start for every daemon, including the many that use neither feature.

#include <dlfcn.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace cmdgate {

class SharedLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL). The library stays mapped until exit: what it handed
  // out (callbacks registered, threads started) may outlive any owner here.
  [[nodiscard]] static Result<SharedLibrary> open(const std::string& soname);

  // Sets `slot` to the function `name` (typed as the slot is); an error names the library and the
  // symbol, and leaves the slot alone.
  template <typename F>
  [[nodiscard]] Status load(F*& slot, const char* name) const {
    void* address = ::dlsym(handle_, name);
    if (address == nullptr) {
      return Error::format("{}: no function {}", soname_, name);
    }
    slot = reinterpret_cast<F*>(address);
    return {};
  }

 private:
  SharedLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}

  void* handle_;
  std::string soname_;
};

}  // namespace cmdgate

// A table of a library's functions, from an X-macro list of their names: each member is a pointer
// typed as the function's own declaration.
#define CMDGATE_LIBRARY_FUNCTION_POINTER(name) decltype(&::name) name = nullptr;

// Fills such a table from a SharedLibrary: the first missing function's error, or success.
#define CMDGATE_LOAD_LIBRARY_FUNCTIONS(LIST, library, table)   \
  [](const ::cmdgate::SharedLibrary& library_, auto& table_) { \
    ::cmdgate::Status found;                                   \
    LIST(CMDGATE_LOAD_LIBRARY_FUNCTION_)                       \
    return found;                                              \
  }(library, table)
#define CMDGATE_LOAD_LIBRARY_FUNCTION_(name) \
  found = found ? library_.load(table_.name, #name) : found;

namespace cmdgate {

// Opens `soname` and fills a table of its functions (Api, made with
// CMDGATE_LIBRARY_FUNCTION_POINTER) through fill(library, table); an error that the library cannot
// be opened says what needed it (`purpose`).
template <class Api, class Fill>
[[nodiscard]] Result<Api> open_library_table(const char* soname, std::string_view purpose,
                                             Fill fill) {
  auto library = SharedLibrary::open(soname);
  if (!library) {
    return library.error().context(purpose);
  }
  Api api;
  if (Status filled = fill(*library, api); !filled) {
    return filled.error();
  }
  return api;
}

// The same with the table's X-macro list of function names.
#define CMDGATE_OPEN_LIBRARY_TABLE(Api, LIST, soname, purpose)                                   \
  ::cmdgate::open_library_table<Api>(                                                            \
      soname, purpose, [](const ::cmdgate::SharedLibrary& opened_library_, Api& opened_table_) { \
        return CMDGATE_LOAD_LIBRARY_FUNCTIONS(LIST, opened_library_, opened_table_);             \
      })

// What a process-wide `static const Result<Api>` hands out: the table, or its error.
template <class Api>
[[nodiscard]] Result<const Api*> table_or_error(const Result<Api>& api) {
  if (!api) {
    return api.error();
  }
  return &api.value();
}

}  // namespace cmdgate
