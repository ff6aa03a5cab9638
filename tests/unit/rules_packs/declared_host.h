#pragma once
// A host described in a text file (corpus/host.txt): files, symbolic links and #! lines, so
// that the corpus is judged the same on every machine, with tools installed where their
// installers put them whether or not this machine has them.

#include <map>
#include <string>

#include "rules/exec_trace.h"

namespace cmdgate::rules::testing {

class DeclaredHost final : public ExecHost {
 public:
  // Reads the description; a line it cannot read fails the calling test, naming file:line.
  explicit DeclaredHost(const std::string& file);

  std::optional<FileId> identity(const std::string& path) const override;
  std::string canonical(const std::string& path) const override;
  std::vector<std::string> expand(const std::string& glob) const override;
  bool executable(const std::string& path) const override;
  std::optional<std::string> shebang_line(const std::string& path) const override;
  std::optional<Sha256> sha256(const std::string&) const override { return std::nullopt; }

 private:
  struct Entry {
    std::string link;     // target of a symbolic link; empty for a file
    std::string shebang;  // "#!..." of a script
    uint64_t ino = 0;
  };
  // The path with every symbolic link in it followed; nullopt when it leads nowhere.
  std::optional<std::string> resolve(const std::string& path) const;

  std::map<std::string, Entry> entries_;
};

}  // namespace cmdgate::rules::testing
