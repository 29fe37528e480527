#pragma once
// Shape: sizes or strides of a tensor. Stored inline up to rank 6 (no heap allocation for the
// shapes deep learning uses); larger ranks spill to the heap.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "loom/export.hpp"

namespace loom {

// The cold path of Shape::numel: 0 when an entry is 0 (an empty tensor of huge other sizes is
// fine), otherwise a ValueError "… has more elements than fit in 64 bits: (…)".
LOOM_API std::int64_t numel_overflow(const std::int64_t* d, std::size_t n);

class Shape {
 public:
  static constexpr int kInline = 6;
  using value_type = std::int64_t;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> v) { assign(v.begin(), v.size()); }
  Shape(const std::vector<std::int64_t>& v) { assign(v.data(), v.size()); }  // NOLINT
  explicit Shape(std::size_t n, std::int64_t value = 0) { resize(n, value); }
  template <typename It>
    requires(!std::is_integral_v<It>)
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
  }
  Shape(const Shape& o) {
    if (o.heap_) {
      assign(o.heap_, o.size_);
    } else {  // a fixed-size copy (a few vector moves), not a memcpy call: views copy shapes a lot
      std::memcpy(inline_, o.inline_, sizeof inline_);
      size_ = o.size_;
    }
  }
  Shape(Shape&& o) noexcept { move_from(o); }
  Shape& operator=(const Shape& o) {
    if (this == &o) return *this;
    if (!heap_ && !o.heap_) {  // fixed-size copy, as in the copy constructor
      std::memcpy(inline_, o.inline_, sizeof inline_);
      size_ = o.size_;
    } else {
      clear();
      assign(o.data(), o.size());
    }
    return *this;
  }
  Shape& operator=(Shape&& o) noexcept {
    if (this != &o) { release(); move_from(o); }
    return *this;
  }
  ~Shape() { release(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::int64_t* data() { return heap_ ? heap_ : inline_; }
  const std::int64_t* data() const { return heap_ ? heap_ : inline_; }
  std::int64_t& operator[](std::size_t i) { return data()[i]; }
  std::int64_t operator[](std::size_t i) const { return data()[i]; }
  std::int64_t* begin() { return data(); }
  std::int64_t* end() { return data() + size_; }
  const std::int64_t* begin() const { return data(); }
  const std::int64_t* end() const { return data() + size_; }
  std::int64_t back() const { return data()[size_ - 1]; }

  void clear() { size_ = 0; }
  void push_back(std::int64_t v) {
    reserve(size_ + 1);
    data()[size_++] = v;
  }
  void insert(std::size_t pos, std::int64_t v) {
    push_back(0);
    std::int64_t* d = data();
    std::memmove(d + pos + 1, d + pos, (size_ - 1 - pos) * sizeof(std::int64_t));
    d[pos] = v;
  }
  void erase(std::size_t pos) {
    std::int64_t* d = data();
    std::memmove(d + pos, d + pos + 1, (size_ - 1 - pos) * sizeof(std::int64_t));
    --size_;
  }
  void resize(std::size_t n, std::int64_t value = 0) {
    reserve(n);
    for (std::size_t i = size_; i < n; ++i) data()[i] = value;
    size_ = static_cast<std::uint32_t>(n);
  }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }

  // Product of the entries (1 for rank 0). Checked: a product past int64 is a ValueError naming
  // the shape (numel_overflow), never a wrapped count. Every size computation of the core
  // (element counts, strides, byte sizes) goes through this check or checked_size_mul.
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto v : *this)
      if (__builtin_mul_overflow(n, v, &n)) return numel_overflow(data(), size_);
    return n;
  }
  std::string str() const;  // "(2, 3, 4)"

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.size_ != b.size_) return false;
    // A plain loop: std::equal on int64 becomes a memcmp call, slower for a few entries.
    for (std::uint32_t i = 0; i < a.size_; ++i)
      if (a.data()[i] != b.data()[i]) return false;
    return true;
  }

 private:
  void reserve(std::size_t n) {
    std::size_t cap = heap_ ? capacity_ : kInline;
    if (n <= cap) return;
    std::size_t new_cap = std::max<std::size_t>(n, 2 * cap);
    auto* p = new std::int64_t[new_cap];
    std::memcpy(p, data(), size_ * sizeof(std::int64_t));
    delete[] heap_;
    heap_ = p;
    capacity_ = static_cast<std::uint32_t>(new_cap);
  }
  void assign(const std::int64_t* p, std::size_t n) {
    reserve(n);
    // An empty source may be null (an empty vector's data()): memcpy from null is undefined
    // behaviour even for 0 bytes.
    if (n != 0) std::memcpy(data(), p, n * sizeof(std::int64_t));
    size_ = static_cast<std::uint32_t>(n);
  }
  void move_from(Shape& o) {
    size_ = o.size_;
    if (o.heap_) {
      heap_ = o.heap_;
      capacity_ = o.capacity_;
      o.heap_ = nullptr;
    } else {
      std::memcpy(inline_, o.inline_, sizeof inline_);  // fixed size: no memcpy call
    }
    o.size_ = 0;
  }
  void release() {
    delete[] heap_;
    heap_ = nullptr;
    size_ = 0;
  }

  std::int64_t inline_[kInline];
  std::int64_t* heap_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
};

LOOM_API std::string shape_str(const std::int64_t* d, std::size_t n);
inline std::string Shape::str() const { return shape_str(data(), size_); }

// The ValueError of every size computation that leaves int64: names the shape and `what`.
[[noreturn]] LOOM_API void throw_size_overflow(const std::int64_t* d, std::size_t n, std::string_view what);
LOOM_API std::int64_t numel_overflow(const std::int64_t* d, std::size_t n);

// a · b for sizes, strides and byte counts of the tensor of shape `sizes`: a ValueError naming
// the shape and `what` when the product leaves int64.
inline std::int64_t checked_size_mul(std::int64_t a, std::int64_t b, const Shape& sizes,
                                     std::string_view what) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_size_overflow(sizes.data(), sizes.size(), what);
  return r;
}

}  // namespace loom
