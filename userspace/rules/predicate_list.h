#pragma once
// The values of one predicate of a Match. A rule uses one or two of a Match's dozen predicates,
// so an unused one costs a pointer (rules/sparse.h) instead of an empty std::vector. Reads see a
// const std::vector; writes go through edit() or assignment.

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include "rules/sparse.h"

namespace cmdgate::rules {

template <class T>
class PredicateList {
 public:
  using value_type = T;
  using const_iterator = typename std::vector<T>::const_iterator;
  using iterator = const_iterator;
  using size_type = size_t;

  PredicateList() = default;
  PredicateList(std::initializer_list<T> values) { assign(std::vector<T>(values)); }
  PredicateList(std::vector<T> values) { assign(std::move(values)); }  // NOLINT: a vector is a list
  PredicateList(const PredicateList&) = default;
  PredicateList(PredicateList&&) noexcept = default;
  PredicateList& operator=(const PredicateList&) = default;
  PredicateList& operator=(PredicateList&&) noexcept = default;
  PredicateList& operator=(std::vector<T> values) {
    assign(std::move(values));
    return *this;
  }
  PredicateList& operator=(std::initializer_list<T> values) {
    assign(std::vector<T>(values));
    return *this;
  }
  ~PredicateList() = default;

  [[nodiscard]] const std::vector<T>& values() const { return values_.get(); }
  operator const std::vector<T>&() const { return values(); }  // NOLINT: reads see a vector

  [[nodiscard]] bool empty() const { return values().empty(); }
  [[nodiscard]] size_t size() const { return values().size(); }
  [[nodiscard]] const_iterator begin() const { return values().begin(); }
  [[nodiscard]] const_iterator end() const { return values().end(); }
  [[nodiscard]] const T& operator[](size_t i) const { return values()[i]; }
  [[nodiscard]] const T& front() const { return values().front(); }
  [[nodiscard]] const T& back() const { return values().back(); }

  // The values, to change in place.
  [[nodiscard]] std::vector<T>& edit() { return values_.edit(); }
  void push_back(T value) { edit().push_back(std::move(value)); }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    return edit().emplace_back(std::forward<Args>(args)...);
  }
  void clear() { values_.reset(); }

  friend bool operator==(const PredicateList& a, const PredicateList& b) {
    return a.values() == b.values();
  }

 private:
  void assign(std::vector<T> values) {
    values.shrink_to_fit();
    values_ = std::move(values);
  }

  Sparse<std::vector<T>> values_;
};

}  // namespace cmdgate::rules
