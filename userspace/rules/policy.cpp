// The free parts of policy.h: combining script decisions and the real file resolver.

#include "rules/policy.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace cmdgate::rules {

Decision combine_script(const Decision& script, const Decision& interpreter) {
  return interpreter.effect() > script.effect() ? interpreter : script;
}

std::optional<FileId> SystemFileResolver::identity(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

std::string SystemFileResolver::canonical(const std::string& path) const {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                       &std::free);
  return resolved != nullptr ? std::string(resolved.get()) : path;
}

}  // namespace cmdgate::rules
