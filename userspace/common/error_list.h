#pragma once
// Errors gathered while reading on past the first one (a linter reports every mistake in one
// run). Keeps the first `limit` in the order found and counts the rest, so a file full of
// mistakes cannot make the report unbounded.

#include <cstddef>
#include <utility>
#include <vector>

#include "common/result.h"

namespace cmdgate {

class ErrorList {
 public:
  explicit ErrorList(size_t limit) : limit_(limit) {}

  void add(Error e) {
    if (kept_.size() < limit_) {
      kept_.push_back(std::move(e));
    } else {
      ++unreported_;
    }
  }
  // Adds a failed status's error; true when it failed.
  bool failed(const Status& s) {
    if (s) {
      return false;
    }
    add(s.error());
    return true;
  }

  [[nodiscard]] bool empty() const { return size() == 0; }
  [[nodiscard]] size_t size() const { return kept_.size() + unreported_; }
  [[nodiscard]] const std::vector<Error>& kept() const { return kept_; }
  [[nodiscard]] size_t unreported() const { return unreported_; }

 private:
  size_t limit_;
  std::vector<Error> kept_;
  size_t unreported_ = 0;
};

}  // namespace cmdgate
