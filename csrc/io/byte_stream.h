// Little-endian byte writing and bounds-checked reading: every read past the
// end of the input is a SerializationError, never an out-of-bounds access.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "util/errors.h"

namespace securinfer::io {

// Writes into a growing vector (the default), into a caller's buffer of a
// known size (a Python bytes object: no second copy of a context's
// gigabytes), or nowhere, counting the bytes (to size that buffer first).
class ByteWriter {
 public:
  ByteWriter() = default;
  ByteWriter(std::uint8_t* buffer, std::size_t capacity) : external_(buffer), capacity_(capacity) {}
  static ByteWriter counting() {
    ByteWriter w;
    w.counting_ = true;
    return w;
  }

  void put_u8(std::uint8_t v) { put_le(v, 1); }
  void put_u16(std::uint16_t v) { put_le(v, 2); }
  void put_u32(std::uint32_t v) { put_le(v, 4); }
  void put_u64(std::uint64_t v) { put_le(v, 8); }
  void put_f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put_u64(bits);
  }
  void put_bytes(const std::uint8_t* p, std::size_t n) {
    if (std::uint8_t* dst = grow(n)) std::memcpy(dst, p, n);
  }
  // `n` more bytes, zeroed, to fill in place; nullptr when counting.
  std::uint8_t* grow_zeroed(std::size_t n) {
    std::uint8_t* dst = grow(n);
    if (dst) std::memset(dst, 0, n);
    return dst;
  }
  std::size_t size() const { return size_; }
  // The written bytes (vector mode).
  std::vector<std::uint8_t>& bytes() { return bytes_; }
  // Overwrites 8 bytes at `offset` (a size field written once the size is known).
  void patch_u64(std::size_t offset, std::uint64_t v) {
    std::uint8_t* base = data();
    if (!base) return;
    for (int i = 0; i < 8; ++i) base[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }

 private:
  std::uint8_t* data() { return counting_ ? nullptr : external_ ? external_ : bytes_.data(); }
  std::uint8_t* grow(std::size_t n) {
    const std::size_t at = size_;
    size_ += n;
    if (counting_) return nullptr;
    if (external_) {
      if (size_ > capacity_) throw SerializationError("serialization overran its sized buffer");
      return external_ + at;
    }
    bytes_.resize(size_);
    return bytes_.data() + at;
  }
  void put_le(std::uint64_t v, int n) {
    if (std::uint8_t* dst = grow(static_cast<std::size_t>(n)))
      for (int i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  std::vector<std::uint8_t> bytes_;
  std::uint8_t* external_ = nullptr;
  std::size_t capacity_ = 0, size_ = 0;
  bool counting_ = false;
};

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t get_u8() { return static_cast<std::uint8_t>(get_le(1)); }
  std::uint16_t get_u16() { return static_cast<std::uint16_t>(get_le(2)); }
  std::uint32_t get_u32() { return static_cast<std::uint32_t>(get_le(4)); }
  std::uint64_t get_u64() { return get_le(8); }
  double get_f64() {
    std::uint64_t bits = get_u64();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  // A pointer to the next n bytes, which the caller reads before the next call.
  const std::uint8_t* get_bytes(std::size_t n) {
    need(n);
    const std::uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  std::size_t remaining() const { return size_ - pos_; }
  std::size_t position() const { return pos_; }

 private:
  void need(std::size_t n) const {
    if (n > size_ - pos_)
      throw SerializationError("truncated input: needed " + std::to_string(n) + " more bytes at offset " +
                               std::to_string(pos_) + ", only " + std::to_string(size_ - pos_) + " left");
  }
  std::uint64_t get_le(int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace securinfer::io
