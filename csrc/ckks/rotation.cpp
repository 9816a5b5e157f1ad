#include "ckks/rotation.h"

#include <string>

#include "ckks/evaluator.h"
#include "ckks/key_switch.h"
#include "ckks/slot_layout.h"
#include "ring/automorphism.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {
namespace {

long long normalise(long long step, std::size_t slots) {
  const long long s = static_cast<long long>(slots);
  long long r = step % s;
  return r < 0 ? r + s : r;
}

// A rotation's result spans every slot: the padding (zeros or replicas)
// rotates into view, so undefined padding is refused.
Ciphertext as_full_vector(const Ciphertext& a, const char* what) {
  require_defined_padding(a, what);
  Ciphertext r = a;
  r.slots_used = a.context->slots();
  r.padding = Padding::zeros;
  r.period = 0;
  return r;
}

// The rotated ciphertext (c0, c1) of `a`: a full vector, no seed (c1 is no
// longer the seed's expansion).
Ciphertext rotated_like(const Ciphertext& a, ring::RnsPoly c0, ring::RnsPoly c1) {
  Ciphertext r;
  r.context = a.context;
  r.key_id = a.key_id;
  r.level = a.level;
  r.scale = a.scale;
  r.slots_used = a.context->slots();
  r.is_complex = a.is_complex;
  r.polys.push_back(std::move(c0));
  r.polys.push_back(std::move(c1));
  return r;
}

}  // namespace

Ciphertext apply_galois_hoisted(const Ciphertext& a, const std::vector<ring::RnsPoly>& digits, std::uint64_t g,
                                const KeySwitchKey& key) {
  const Context& ctx = *a.context;
  const auto& perm = ctx.galois_permutation(g);
  const auto& primes = ctx.level_primes(a.level);
  ring::RnsPoly k0, k1;
  apply_switch_key(ctx, digits, a.level, key, perm.data(), k0, k1);
  auto c0 = ring::RnsPoly::uninitialized(ctx.degree(), a.level + 1);
  ring::permute(c0, a.polys[0], perm.data(), primes);
  ring::add(c0, c0, k0, primes);
  return rotated_like(a, std::move(c0), std::move(k1));
}

namespace {

Ciphertext apply_galois(const KeySet& keys, const Ciphertext& a, std::uint64_t g) {
  SECURINFER_CHECK(a.size() == 2, ParameterError, "ciphertext must be relinearised");
  keys.require_usable_with(*a.context, a.key_id);
  auto key = keys.galois_key(g);
  // One rotation: permute c1 first and decompose the result, so the key
  // switch reads its digits in place (the automorphism commutes with the
  // centred digit decomposition, so the words equal the hoisted route's, which
  // must permute every digit on every limb of the extended basis instead).
  const Context& ctx = *a.context;
  const auto& perm = ctx.galois_permutation(g);
  const auto& primes = ctx.level_primes(a.level);
  auto c1 = ring::RnsPoly::uninitialized(ctx.degree(), a.level + 1);
  ring::permute(c1, a.polys[1], perm.data(), primes);
  const auto digits = decompose(ctx, c1, a.level);
  ring::RnsPoly k0, k1;
  apply_switch_key(ctx, digits, a.level, *key, nullptr, k0, k1);
  auto c0 = ring::RnsPoly::uninitialized(ctx.degree(), a.level + 1);
  ring::permute(c0, a.polys[0], perm.data(), primes);
  ring::add(c0, c0, k0, primes);
  return rotated_like(a, std::move(c0), std::move(k1));
}

}  // namespace

std::vector<long long> rotation_plan(std::size_t slots, long long step) {
  // Non-adjacent form of the normalised step, then any term equal to -slots/2
  // folded: fewest power-of-two rotations, using both directions.
  long long r = normalise(step, slots);
  std::vector<long long> terms;
  long long power = 1;
  while (r != 0) {
    if (r & 1) {
      const long long digit = (r & 3) == 3 ? -1 : 1;
      terms.push_back(digit * power);
      r -= digit;
    }
    r >>= 1;
    power <<= 1;
  }
  // Powers equal to slots are the identity (rotation by a full turn).
  std::vector<long long> out;
  for (auto t : terms)
    if (normalise(t, slots) != 0) out.push_back(t);
  return out;
}

std::vector<long long> rotation_plan(const KeySet& keys, const Context& ctx, long long step) {
  const std::size_t slots = ctx.slots();
  const auto available = [&](const std::vector<long long>& plan) {
    for (long long t : plan)
      if (!keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), t))) return false;
    return true;
  };
  auto best = rotation_plan(slots, step);
  if (available(best)) return best;
  // One direction only (say the keys of steps 1, 2, 4, ... without -1, -2, ...):
  // the binary digits of the step, or of its complement, rotated the other way.
  const long long r = normalise(step, slots);
  for (const long long sign : {1LL, -1LL}) {
    long long rest = sign > 0 ? r : static_cast<long long>(slots) - r;
    std::vector<long long> plan;
    for (long long power = 1; rest != 0; power <<= 1, rest >>= 1)
      if (rest & 1) plan.push_back(sign * power);
    if (available(plan)) return plan;
  }
  return best;
}

Ciphertext rotate(const KeySet& keys, const Ciphertext& a_in, long long step) {
  keys.require_usable_with(*a_in.context, a_in.key_id);
  // Rotated results are full vectors (rotated_like); a_in is read in place.
  require_defined_padding(a_in, "rotate");
  const Ciphertext& a = a_in;
  const Context& ctx = *a.context;
  const std::size_t slots = ctx.slots();
  if (normalise(step, slots) == 0) return as_full_vector(a_in, "rotate");
  const std::uint64_t g = ring::rotation_galois_element(ctx.degree(), step);
  if (keys.has_galois_key(g)) return apply_galois(keys, a, g);
  const auto plan = rotation_plan(keys, ctx, step);
  for (auto t : plan) {
    const std::uint64_t gt = ring::rotation_galois_element(ctx.degree(), t);
    if (!keys.has_galois_key(gt))
      throw MissingKeyError("no rotation key for step " + std::to_string(step) + ", nor for step " +
                            std::to_string(t) + " needed to compose it from power-of-two keys; generate it with "
                            "generate_rotation_keys(steps=[" + std::to_string(step) + "])");
  }
  SECURINFER_CHECK(!plan.empty(), ParameterError, "internal: empty rotation plan for a nonzero step");
  Ciphertext r = apply_galois(keys, a, ring::rotation_galois_element(ctx.degree(), plan.front()));
  for (std::size_t i = 1; i < plan.size(); ++i)
    r = apply_galois(keys, r, ring::rotation_galois_element(ctx.degree(), plan[i]));
  return r;
}

std::vector<Ciphertext> rotate_many(const KeySet& keys, const Ciphertext& a_in, const std::vector<long long>& steps) {
  SECURINFER_CHECK(a_in.size() == 2, ParameterError, "ciphertext must be relinearised");
  keys.require_usable_with(*a_in.context, a_in.key_id);
  const Ciphertext a = as_full_vector(a_in, "rotate_many");
  const Context& ctx = *a.context;
  std::vector<ring::RnsPoly> digits;
  bool hoisted = false;
  for (long long step : steps)
    hoisted = hoisted || keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), step));
  if (hoisted) digits = decompose(ctx, a.polys[1], a.level);
  // Independent rotations: one per thread (the inner loops then run inline).
  std::vector<Ciphertext> out(steps.size());
  parallel_for(0, steps.size(), [&](std::size_t i) {
    const long long step = steps[i];
    const std::uint64_t g = ring::rotation_galois_element(ctx.degree(), step);
    if (normalise(step, ctx.slots()) == 0) {
      out[i] = a;
    } else if (keys.has_galois_key(g)) {
      out[i] = apply_galois_hoisted(a, digits, g, *keys.galois_key(g));
    } else {
      out[i] = rotate(keys, a, step);
    }
  });
  return out;
}

Ciphertext conjugate(const KeySet& keys, const Ciphertext& a) {
  const std::uint64_t g = ring::conjugation_galois_element(a.context->degree());
  if (!keys.has_galois_key(g))
    throw MissingKeyError("no conjugation key; generate it with generate_rotation_keys(conjugation=True)");
  Ciphertext r = apply_galois(keys, a, g);
  // Conjugation acts slot by slot: the state is kept.
  r.slots_used = a.slots_used;
  r.padding = a.padding;
  r.period = a.period;
  return r;
}

Ciphertext sum_slots(const KeySet& keys, const Ciphertext& a, std::size_t span) {
  SECURINFER_CHECK(span >= 1 && span <= a.context->slots() && (span & (span - 1)) == 0, ParameterError,
                   "sum span must be a power of two no larger than the slot count");
  require_zero_padding(a, "sum");
  SECURINFER_CHECK(span >= a.slots_used, ParameterError, "sum span must cover the vector's length");
  Ciphertext acc = as_full_vector(a, "sum");
  for (std::size_t step = 1; step < span; step <<= 1)
    acc = add(acc, rotate(keys, acc, static_cast<long long>(step)));
  // Slot 0 holds the sum; over every slot each slot does (a replica of it).
  acc.slots_used = 1;
  const bool everywhere = span == a.context->slots();
  acc.padding = everywhere ? Padding::replicated : Padding::undefined;
  acc.period = everywhere ? 1 : 0;
  return acc;
}

}  // namespace securinfer::ckks
