#pragma once
// The values of one predicate of a Match. A rule uses one or two of a Match's dozen predicates,
// and a policy keeps every rule for as long as it is in force, so an unused predicate costs one
// pointer instead of an empty std::vector (a quarter of the size). Reads see a const
// std::vector; writes go through edit() or assignment.

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

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
  PredicateList(const PredicateList& other) { assign(other.values()); }
  PredicateList(PredicateList&&) noexcept = default;
  PredicateList& operator=(const PredicateList& other) {
    if (this != &other) {
      assign(other.values());
    }
    return *this;
  }
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

  [[nodiscard]] const std::vector<T>& values() const { return values_ ? *values_ : none(); }
  operator const std::vector<T>&() const { return values(); }  // NOLINT: reads see a vector

  [[nodiscard]] bool empty() const { return values().empty(); }
  [[nodiscard]] size_t size() const { return values().size(); }
  [[nodiscard]] const_iterator begin() const { return values().begin(); }
  [[nodiscard]] const_iterator end() const { return values().end(); }
  [[nodiscard]] const T& operator[](size_t i) const { return values()[i]; }
  [[nodiscard]] const T& front() const { return values().front(); }
  [[nodiscard]] const T& back() const { return values().back(); }

  // The values, to change in place.
  [[nodiscard]] std::vector<T>& edit() {
    if (!values_) {
      values_ = std::make_unique<std::vector<T>>();
    }
    return *values_;
  }
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
    if (values.empty()) {
      values_.reset();
    } else {
      values.shrink_to_fit();
      values_ = std::make_unique<std::vector<T>>(std::move(values));
    }
  }
  static const std::vector<T>& none() {
    static const std::vector<T> kNone;
    return kNone;
  }

  std::unique_ptr<std::vector<T>> values_;  // null when there are none
};

}  // namespace cmdgate::rules
