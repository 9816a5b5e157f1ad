#include "ckks/key_switch.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "eltwise/dot_accumulate.h"
#include "ring/rns_ops.h"
#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {

namespace {

// Marks a task done when it leaves, even by an exception (a waiting task then
// goes on; parallel_for rethrows the exception once everything stopped).
struct DoneFlag {
  std::atomic<bool>& flag;
  ~DoneFlag() { flag.store(true, std::memory_order_release); }
};

void wait_for(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

}  // namespace

std::vector<ring::RnsPoly> decompose(const Context& context, const ring::RnsPoly& d, std::size_t level) {
  const std::size_t n = context.degree(), alpha = context.params().digit_size();
  const std::size_t limbs = level + 1, ext_limbs = limbs + alpha;
  const auto& primes = context.level_primes(level);
  const std::size_t digit_count = context.digits_at(level);
  ring::RnsPoly coeff = d;
  coeff.truncate(limbs);
  std::vector<ring::RnsPoly> digits(digit_count);
  for (auto& digit : digits) digit = ring::RnsPoly::uninitialized(n, ext_limbs);
  std::vector<ring::BaseConverter::Prepared> prepared(digit_count);

  // One flat list of tasks, so that threads share the NTTs evenly (a digit
  // per thread left them idle whenever the digits did not divide evenly):
  //   [0, limbs)                  inverse NTT of limb i, and the digit's own
  //                               limb i copied (already NTT form);
  //   [limbs, limbs + digits)     the digit's per-source conversion step;
  //   then one per lifted limb    conversion to that prime, forward NTT.
  // A task waits only for tasks of lower index, which parallel_for has handed
  // out already (in index order), so the waits cannot deadlock; on one thread
  // they never wait at all.
  std::vector<std::atomic<bool>> limb_done(limbs), digit_ready(digit_count);
  for (auto& f : limb_done) f.store(false);
  for (auto& f : digit_ready) f.store(false);
  const std::size_t lift_begin = limbs + digit_count;
  std::size_t lift_tasks = 0;
  std::vector<std::size_t> lift_offset(digit_count + 1, 0);
  for (std::size_t j = 0; j < digit_count; ++j) {
    const std::size_t own = std::min(limbs, (j + 1) * alpha) - j * alpha;  // the last digit may own fewer
    lift_offset[j] = lift_tasks;
    lift_tasks += ext_limbs - own;
  }
  lift_offset[digit_count] = lift_tasks;

  parallel_for(0, lift_begin + lift_tasks, [&](std::size_t task) {
    if (task < limbs) {
      DoneFlag done{limb_done[task]};
      primes[task]->ntt.inverse(coeff.limb(task));
      std::memcpy(digits[task / alpha].limb(task), d.limb(task), n * sizeof(std::uint64_t));
      return;
    }
    if (task < lift_begin) {
      const std::size_t j = task - limbs;
      DoneFlag done{digit_ready[j]};
      const std::size_t start = j * alpha, stop = std::min(limbs, start + alpha);
      for (std::size_t i = start; i < stop; ++i) wait_for(limb_done[i]);
      // Centred digits: uncentred ones have mean D/2, which multiplies the key's
      // error into a fixed bias that shows in the slots near angle 0.
      prepared[j] = context.mod_up(level, j).prepare(coeff.limb(start), n, /*centered=*/true);
      return;
    }
    const std::size_t index = task - lift_begin;
    std::size_t j = 0;
    while (lift_offset[j + 1] <= index) ++j;
    const std::size_t t = index - lift_offset[j];  // target t of the digit's converter
    wait_for(digit_ready[j]);
    const ring::BaseConverter& conv = context.mod_up(level, j);
    // Target t is extended limb e: the chain limbs outside the digit, then P.
    const std::size_t start = j * alpha, own = std::min(limbs, start + alpha) - start;
    const std::size_t e = t < start ? t : t + own;
    std::uint64_t* out = digits[j].limb(e);
    conv.convert_to(prepared[j], t, out);
    conv.to()[t]->ntt.forward(out);
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
  // Each limb cut into one piece per thread: limbs of primes above 2^50 cost
  // several times the others (128-bit products), so whole limbs per task left
  // one thread waiting for the other.
  const std::size_t threads = static_cast<std::size_t>(get_num_threads());
  const std::size_t pieces = threads > 1 ? std::min(threads, std::max<std::size_t>(1, n / 2048)) : 1;
  const std::size_t step = ((n + pieces - 1) / pieces + 7) / 8 * 8;
  parallel_for(0, ext_limbs * pieces, [&](std::size_t task) {
    const std::size_t e = task / pieces, begin = (task % pieces) * step, end = std::min(n, begin + step);
    if (begin >= end) return;
    const std::size_t len = end - begin;
    const std::size_t key_limb = e <= level ? e : L + 1 + (e - level - 1);
    const ring::RnsPrime& p = *ext[e];
    // A hoisted automorphism reads each digit through the permutation.
    AlignedVector<std::uint64_t> permuted(permutation ? digits.size() * len : 0);
    std::vector<const std::uint64_t*> x(digits.size()), kb(digits.size()), ka(digits.size());
    for (std::size_t j = 0; j < digits.size(); ++j) {
      x[j] = digits[j].limb(e);
      if (permutation) {
        std::uint64_t* dst = permuted.data() + j * len;
        for (std::size_t k = 0; k < len; ++k) dst[k] = x[j][permutation[begin + k]];
        x[j] = dst;
      } else {
        x[j] += begin;
      }
      kb[j] = key.b[j].limb(key_limb) + begin;
      ka[j] = key.a[j].limb(key_limb) + begin;
    }
    // One reduction per coefficient for the whole digit sum.
    eltwise::dot_accumulate(acc0.limb(e) + begin, x.data(), kb.data(), digits.size(), len, p.modulus);
    eltwise::dot_accumulate(acc1.limb(e) + begin, x.data(), ka.data(), digits.size(), len, p.modulus);
  });
}

}  // namespace

// out = round((x + P add) / (P q_level)) at level - 1; x over the extended base.
void mod_down_rescale(const Context& context, ring::RnsPoly& x, const ring::RnsPoly& add, std::size_t level,
                      ring::RnsPoly& out) {
  SECURINFER_CHECK(level >= 1, LevelError, "cannot rescale at level 0: out of multiplicative depth");
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

void switch_key_extended(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                         const KeySwitchKey& key, const std::uint32_t* permutation, ring::RnsPoly& acc0,
                         ring::RnsPoly& acc1) {
  inner_product(context, digits, level, key, permutation, acc0, acc1);
}

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
