#include "ckks/slot_layout.h"

#include <algorithm>
#include <string>

#include "util/errors.h"

namespace securinfer::ckks {
namespace {

bool same_replication(const Ciphertext& a, const Ciphertext& b) {
  return a.padding == Padding::replicated && b.padding == Padding::replicated && a.period == b.period;
}

void set_common(Ciphertext& r, const Ciphertext& a, const Ciphertext& b) {
  r.slots_used = a.slots_used;
  r.is_complex = a.is_complex || b.is_complex;
  r.period = 0;
}

}  // namespace

void require_same_length(std::size_t a, std::size_t b, const char* what) {
  SECURINFER_CHECK(a == b, ShapeError,
                   std::string(what) + ": operands of lengths " + std::to_string(a) + " and " + std::to_string(b) +
                       " cannot be broadcast together (numpy's rule: equal lengths, or one of length 1)");
}

void set_layout_of_sum(Ciphertext& r, const Ciphertext& a, const Ciphertext& b) {
  set_common(r, a, b);
  if (a.padding == Padding::zeros && b.padding == Padding::zeros) {
    r.padding = Padding::zeros;
  } else if (same_replication(a, b)) {
    r.padding = Padding::replicated;
    r.period = a.period;
  } else {
    r.padding = Padding::undefined;
  }
}

void set_layout_of_product(Ciphertext& r, const Ciphertext& a, const Ciphertext& b) {
  set_common(r, a, b);
  if (a.padding == Padding::zeros || b.padding == Padding::zeros) {
    r.padding = Padding::zeros;  // zero times anything is zero
  } else if (same_replication(a, b)) {
    r.padding = Padding::replicated;
    r.period = a.period;
  } else {
    r.padding = Padding::undefined;
  }
}

void set_layout_of_sum_of(Ciphertext& r, const std::vector<Ciphertext>& terms, const char* what) {
  SECURINFER_CHECK(!terms.empty(), ParameterError, std::string(what) + ": no terms");
  const Ciphertext& first = terms.front();
  bool same_length = true, all_zeros = true, all_same_replication = true, any_complex = false;
  std::size_t length = 0;
  for (const auto& t : terms) {
    same_length = same_length && t.slots_used == first.slots_used;
    all_zeros = all_zeros && t.padding == Padding::zeros;
    all_same_replication = all_same_replication && same_replication(t, first);
    any_complex = any_complex || t.is_complex;
    length = std::max(length, t.slots_used);
  }
  SECURINFER_CHECK(same_length, ShapeError,
                   std::string(what) + ": vectors of lengths " + std::to_string(first.slots_used) + " and " +
                       std::to_string(length) + " cannot be combined (numpy's rule: equal lengths)");
  r.slots_used = length;
  r.is_complex = any_complex;
  r.period = 0;
  if (all_zeros) {
    r.padding = Padding::zeros;
  } else if (all_same_replication) {
    r.padding = Padding::replicated;
    r.period = first.period;
  } else {
    r.padding = Padding::undefined;
  }
}

Ciphertext layout_of_product(const Ciphertext& a, const Ciphertext& b) {
  require_same_length(a.slots_used, b.slots_used, "sum_of_products");
  Ciphertext state;
  state.context = a.context;
  set_layout_of_product(state, a, b);
  return state;
}

void require_zero_padding(const Ciphertext& a, const char* what) {
  SECURINFER_CHECK(a.padding == Padding::zeros || a.slots_used == a.context->slots(), ParameterError,
                   std::string(what) + " needs zeros past the vector's " + std::to_string(a.slots_used) +
                       " values, but this ciphertext's padding is " + padding_name(a.padding) +
                       " (e.g. a sum() result); multiply by a 0/1 mask first (Ciphertext.mask_padding())");
}

void require_defined_padding(const Ciphertext& a, const char* what) {
  SECURINFER_CHECK(a.padding != Padding::undefined || a.slots_used == a.context->slots(), ParameterError,
                   std::string(what) + " brings the slots past the vector's " + std::to_string(a.slots_used) +
                       " values into view, and this ciphertext's are undefined (e.g. a sum() result); "
                       "multiply by a 0/1 mask first (Ciphertext.mask_padding())");
}

bool tiles_values(const Ciphertext& a) {
  return a.padding == Padding::replicated && a.period >= a.slots_used;
}

void validate_layout(const Ciphertext& a, bool serialization) {
  const std::size_t slots = a.context->slots();
  auto fail = [serialization](const std::string& message) {
    if (serialization) throw SerializationError(message);
    throw ParameterError(message);
  };
  if (a.slots_used < 1 || a.slots_used > slots) fail("length " + std::to_string(a.slots_used) + " out of range");
  switch (a.padding) {
    case Padding::zeros:
    case Padding::undefined:
      if (a.period != 0) fail("a period goes only with replicated padding");
      break;
    case Padding::replicated:
      if (a.period < 1 || a.period > slots || (a.period & (a.period - 1)) != 0)
        fail("replication period " + std::to_string(a.period) + " must be a power of two in [1, slots]");
      break;
    default:
      fail("unknown padding state");
  }
}

const char* padding_name(Padding padding) {
  switch (padding) {
    case Padding::zeros: return "zeros";
    case Padding::replicated: return "replicated";
    case Padding::undefined: return "undefined";
  }
  return "unknown";
}

}  // namespace securinfer::ckks
