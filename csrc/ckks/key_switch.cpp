#include "ckks/key_switch.h"

#include <cstring>

#include "eltwise/dot_accumulate.h"
#include "ring/rns_ops.h"
#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {

std::vector<ring::RnsPoly> decompose(const Context& context, const ring::RnsPoly& d, std::size_t level) {
  const std::size_t n = context.degree(), alpha = context.params().digit_size();
  const std::size_t ext_limbs = level + 1 + alpha;
  ring::RnsPoly coeff = d;
  coeff.truncate(level + 1);
  ring::ntt_inverse(coeff, context.level_primes(level));

  const std::size_t digit_count = context.digits_at(level);
  std::vector<ring::RnsPoly> digits(digit_count);
  // One digit per thread: coarse tasks balance better than the few limbs of
  // each NTT (the inner parallel loops then run inline).
  parallel_for(0, digit_count, [&](std::size_t j) {
    const std::size_t start = j * alpha, stop = std::min(level + 1, start + alpha);
    const ring::BaseConverter& conv = context.mod_up(level, j);
    auto lifted = ring::RnsPoly::uninitialized(n, conv.to().size());
    // Centred digits: uncentred ones have mean D/2, which multiplies the key's
    // error into a fixed bias that shows in the slots near angle 0.
    conv.convert_centered(coeff.limb(start), lifted.data(), n);
    ring::ntt_forward(lifted, conv.to());
    // Scatter: the digit's own limbs are d's (already NTT form), the others lifted.
    auto ext = ring::RnsPoly::uninitialized(n, ext_limbs);
    std::size_t next = 0;
    for (std::size_t e = 0; e < ext_limbs; ++e) {
      const bool own = e >= start && e < stop;
      const std::uint64_t* src = own ? d.limb(e) : lifted.limb(next++);
      std::memcpy(ext.limb(e), src, n * sizeof(std::uint64_t));
    }
    digits[j] = std::move(ext);
  });
  return digits;
}

void mod_down(const Context& context, ring::RnsPoly& acc, std::size_t level, ring::RnsPoly& out) {
  const std::size_t n = context.degree(), alpha = context.params().digit_size();
  auto special = ring::RnsPoly::uninitialized(n, alpha);
  std::memcpy(special.data(), acc.limb(level + 1), alpha * n * sizeof(std::uint64_t));
  ring::ntt_inverse(special, context.special_primes());
  auto correction = ring::RnsPoly::uninitialized(n, level + 1);
  context.mod_down(level).convert_centered(special.data(), correction.data(), n);
  const auto& primes = context.level_primes(level);
  ring::ntt_forward(correction, primes);
  out = ring::RnsPoly::uninitialized(n, level + 1);
  parallel_for(0, level + 1, [&](std::size_t i) {
    const auto* p = primes[i];
    const std::uint64_t w = context.p_inverse(i), ws = arith::shoup_precompute(w, p->value());
    p->ops->sub(out.limb(i), acc.limb(i), correction.limb(i), n, p->modulus);
    p->ops->mul_scalar(out.limb(i), out.limb(i), w, ws, n, p->modulus);
  });
}

namespace {

// acc0, acc1 = sum_j digit_j * key_j over the extended base at `level`.
void inner_product(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                   const KeySwitchKey& key, const std::uint32_t* permutation, ring::RnsPoly& acc0,
                   ring::RnsPoly& acc1) {
  const std::size_t n = context.degree(), L = context.max_level();
  const auto& ext = context.extended_primes(level);
  const std::size_t ext_limbs = ext.size();
  SECURINFER_CHECK(digits.size() <= key.b.size(), ParameterError, "key has too few digits");
  acc0 = ring::RnsPoly::uninitialized(n, ext_limbs);
  acc1 = ring::RnsPoly::uninitialized(n, ext_limbs);
  parallel_for(0, ext_limbs, [&](std::size_t e) {
    const std::size_t key_limb = e <= level ? e : L + 1 + (e - level - 1);
    const ring::RnsPrime& p = *ext[e];
    // A hoisted automorphism reads each digit through the permutation.
    AlignedVector<std::uint64_t> permuted(permutation ? digits.size() * n : 0);
    std::vector<const std::uint64_t*> x(digits.size()), kb(digits.size()), ka(digits.size());
    for (std::size_t j = 0; j < digits.size(); ++j) {
      x[j] = digits[j].limb(e);
      if (permutation) {
        std::uint64_t* dst = permuted.data() + j * n;
        for (std::size_t k = 0; k < n; ++k) dst[k] = x[j][permutation[k]];
        x[j] = dst;
      }
      kb[j] = key.b[j].limb(key_limb);
      ka[j] = key.a[j].limb(key_limb);
    }
    // One reduction per coefficient for the whole digit sum.
    eltwise::dot_accumulate(acc0.limb(e), x.data(), kb.data(), digits.size(), n, p.modulus);
    eltwise::dot_accumulate(acc1.limb(e), x.data(), ka.data(), digits.size(), n, p.modulus);
  });
}

// out = round((x + P add) / (P q_level)) at level - 1; x over the extended base.
void mod_down_rescale(const Context& context, ring::RnsPoly& x, const ring::RnsPoly& add, std::size_t level,
                      ring::RnsPoly& out) {
  const std::size_t n = context.degree(), alpha = context.params().digit_size();
  const auto& primes = context.level_primes(level);
  // x_i += P d_i on the chain limbs (P d vanishes modulo P).
  parallel_for(0, level + 1, [&](std::size_t i) {
    const auto* p = primes[i];
    const std::uint64_t w = context.p_mod(i), ws = arith::shoup_precompute(w, p->value());
    AlignedVector<std::uint64_t> scaled(n);
    p->ops->mul_scalar(scaled.data(), add.limb(i), w, ws, n, p->modulus);
    p->ops->add(x.limb(i), x.limb(i), scaled.data(), n, p->modulus);
  });
  // [x]_{q_level P}, centred, lifted to q_0..q_{level-1}: limbs level.. are contiguous.
  const ring::BaseConverter& conv = context.mod_down_rescale(level);
  auto top = ring::RnsPoly::uninitialized(n, 1 + alpha);
  std::memcpy(top.data(), x.limb(level), (1 + alpha) * n * sizeof(std::uint64_t));
  ring::ntt_inverse(top, conv.from());
  auto correction = ring::RnsPoly::uninitialized(n, level);
  conv.convert_centered(top.data(), correction.data(), n);
  const auto& lower = context.level_primes(level - 1);
  ring::ntt_forward(correction, lower);
  out = ring::RnsPoly::uninitialized(n, level);
  parallel_for(0, level, [&](std::size_t i) {
    const auto* p = lower[i];
    const std::uint64_t w = context.p_q_last_inverse(level, i), ws = arith::shoup_precompute(w, p->value());
    p->ops->sub(out.limb(i), x.limb(i), correction.limb(i), n, p->modulus);
    p->ops->mul_scalar(out.limb(i), out.limb(i), w, ws, n, p->modulus);
  });
}

}  // namespace

void apply_switch_key(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                      const KeySwitchKey& key, const std::uint32_t* permutation, ring::RnsPoly& out0,
                      ring::RnsPoly& out1) {
  ring::RnsPoly acc0, acc1;
  inner_product(context, digits, level, key, permutation, acc0, acc1);
  parallel_for(0, 2, [&](std::size_t i) { mod_down(context, i ? acc1 : acc0, level, i ? out1 : out0); });
}

void apply_switch_key_rescale(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                              const KeySwitchKey& key, const ring::RnsPoly& add0, const ring::RnsPoly& add1,
                              ring::RnsPoly& out0, ring::RnsPoly& out1) {
  SECURINFER_CHECK(level >= 1, LevelError, "cannot rescale at level 0: out of multiplicative depth");
  ring::RnsPoly acc0, acc1;
  inner_product(context, digits, level, key, nullptr, acc0, acc1);
  parallel_for(0, 2, [&](std::size_t i) {
    mod_down_rescale(context, i ? acc1 : acc0, i ? add1 : add0, level, i ? out1 : out0);
  });
}

}  // namespace securinfer::ckks
