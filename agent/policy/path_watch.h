#pragma once
// inotify on what a policy depends on: its rule files and directories, and the files its
// exact-path rules name (a package upgrade replaces a binary with a new inode; a rule naming a
// missing path starts matching when the file appears). Any change there triggers a reload.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/fd.h"
#include "common/result.h"

namespace cmdgate {

class PathWatch {
 public:
  [[nodiscard]] static Result<std::unique_ptr<PathWatch>> create();

  // rule_paths: files or directories (a directory: any *.toml in it); files: exact paths.
  void watch(const std::vector<std::string>& rule_paths, const std::vector<std::string>& files);

  [[nodiscard]] int fd() const { return fd_.get(); }
  // Consumes pending events; true if one concerned a watched name.
  [[nodiscard]] bool consume();

 private:
  PathWatch() = default;
  // added: this watch()'s directories so far, with their watch descriptors (-1: none).
  void add(const std::string& dir, const std::string& name,
           std::unordered_map<std::string, int>& added);

  struct Dir {
    std::string path;
    std::set<std::string> names;  // "*.toml" stands for every TOML file
  };
  Fd fd_;
  std::map<int, Dir> dirs_;
};

}  // namespace cmdgate
