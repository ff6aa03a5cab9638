#pragma once
// A field most rules leave empty (a string, a container) or unset (an optional). A policy keeps
// every rule for as long as it is in force, so such a field costs one pointer, null while the
// field is empty, instead of the value's own size. Reads see a const T; writes go through
// assignment or edit().

#include <memory>
#include <utility>

namespace cmdgate::rules {

template <class T>
class Sparse {
 public:
  Sparse() = default;
  Sparse(T value) { assign(std::move(value)); }  // NOLINT: reads as the value it holds
  Sparse(const Sparse& other) { assign(other.get()); }
  Sparse(Sparse&&) noexcept = default;
  Sparse& operator=(const Sparse& other) {
    if (this != &other) {
      assign(other.get());
    }
    return *this;
  }
  Sparse& operator=(Sparse&&) noexcept = default;
  Sparse& operator=(T value) {
    assign(std::move(value));
    return *this;
  }
  ~Sparse() = default;

  [[nodiscard]] const T& get() const { return value_ ? *value_ : fallback(); }
  operator const T&() const { return get(); }  // NOLINT: reads see the value
  const T& operator*() const { return get(); }
  const T* operator->() const { return &get(); }

  // The value, to change in place.
  [[nodiscard]] T& edit() {
    if (!value_) {
      value_ = std::make_unique<T>();
    }
    return *value_;
  }
  void reset() { value_.reset(); }

  friend bool operator==(const Sparse& a, const Sparse& b) { return a.get() == b.get(); }

 private:
  static bool is_default(const T& value) {
    if constexpr (requires { value.has_value(); }) {
      return !value.has_value();
    } else {
      return value.empty();
    }
  }
  void assign(T value) {
    if (is_default(value)) {
      value_.reset();
    } else {
      value_ = std::make_unique<T>(std::move(value));
    }
  }
  static const T& fallback() {
    static const T kDefault{};
    return kDefault;
  }

  std::unique_ptr<T> value_;  // null while the value is empty
};

}  // namespace cmdgate::rules
