// The toml++ implementation, compiled once into cmdgate_common.
//
// cmdgate uses toml++ without exceptions (toml::v3::noex). Debian's libtomlplusplus.so is built
// with exceptions and exports only toml::v3::ex, so it is not linked (userspace/CMakeLists.txt):
// this translation unit provides the implementation instead.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
