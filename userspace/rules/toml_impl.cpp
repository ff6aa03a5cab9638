// The toml++ implementation, compiled once into cmdgate_rules.
//
// Debian's libtomlplusplus.so is built with exceptions enabled, so it only exports the
// toml::v3::ex ABI. cmdgate_rules builds with TOML_EXCEPTIONS=0 (toml::v3::noex), whose
// non-inline functions would otherwise be undefined at link time.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
