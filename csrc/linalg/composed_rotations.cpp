#include "linalg/composed_rotations.h"

#include <algorithm>
#include <limits>
#include <map>

#include "ckks/evaluator.h"
#include "ckks/key_switch.h"
#include "ckks/rotation.h"
#include "ring/automorphism.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::linalg {
namespace {

using ckks::Ciphertext;
using ckks::KeySet;

constexpr std::size_t kCannotCompose = std::numeric_limits<std::size_t>::max() / 4;

bool has_step_key(const KeySet& keys, const ckks::Context& ctx, std::size_t step) {
  return keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), static_cast<long long>(step)));
}

// Key switches ckks::rotate spends on `step`: 0, 1 with its own key, else one
// per power-of-two term (kCannotCompose when one of their keys is missing).
std::size_t rotation_cost(const KeySet& keys, const ckks::Context& ctx, std::size_t step) {
  if (step % ctx.slots() == 0) return 0;
  if (has_step_key(keys, ctx, step)) return 1;
  const auto plan = ckks::rotation_plan(keys, ctx, static_cast<long long>(step));
  for (long long t : plan)
    if (!keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), t))) return kCannotCompose;
  return plan.size();
}

}  // namespace

std::vector<Ciphertext> baby_rotations(const KeySet& keys, const Ciphertext& x,
                                       const std::vector<ring::RnsPoly>& digits_in,
                                       const std::vector<std::size_t>& steps) {
  const ckks::Context& ctx = *x.context;
  const std::size_t n = ctx.degree(), slots = ctx.slots();
  std::vector<char> wanted(slots, 0);
  std::size_t remaining = 0;
  for (std::size_t s : steps) {
    SECURINFER_CHECK(s < slots, ParameterError, "baby step out of range");
    if (s != 0 && !wanted[s]) {
      wanted[s] = 1;
      ++remaining;
    }
  }
  // x's digits, made once if some step is hoisted from x.
  std::vector<ring::RnsPoly> own_digits;
  const auto x_digits = [&]() -> const std::vector<ring::RnsPoly>& {
    if (!digits_in.empty()) return digits_in;
    if (own_digits.empty()) own_digits = ckks::decompose(ctx, x.polys[1], x.level);
    return own_digits;
  };
  std::map<std::size_t, Ciphertext> done;
  done.emplace(0, x);
  // Each round: `targets` = rot(source, k) for the keys' steps k, hoisted
  // from the source's digits, one target per thread.
  const auto run_round = [&](std::size_t source, const std::vector<ring::RnsPoly>& digits,
                             const std::vector<std::size_t>& targets) {
    std::vector<Ciphertext> out(targets.size());
    parallel_for(0, targets.size(), [&](std::size_t j) {
      const long long k = static_cast<long long>((targets[j] + slots - source) % slots);
      const std::uint64_t g = ring::rotation_galois_element(n, k);
      out[j] = ckks::apply_galois_hoisted(done.at(source), digits, g, *keys.galois_key(g));
    });
    for (std::size_t j = 0; j < targets.size(); ++j) {
      done.emplace(targets[j], std::move(out[j]));
      wanted[targets[j]] = 0;
    }
    remaining -= targets.size();
  };
  // Steps with their own key: hoisted from x.
  {
    std::vector<std::size_t> direct;
    for (std::size_t s = 1; s < slots; ++s)
      if (wanted[s] && has_step_key(keys, ctx, s)) direct.push_back(s);
    if (!direct.empty()) run_round(0, x_digits(), direct);
  }
  // The others: greedily from the computed rotation whose power-of-two
  // neighbours (both directions) cover the most wanted steps, each source
  // decomposed once. For 1..31: 6 sources (a source per step, i - its top
  // bit, would take 15).
  std::vector<std::size_t> key_steps;
  for (std::size_t p = 1; p < slots; p <<= 1)
    for (std::size_t k : {p, slots - p})
      if (has_step_key(keys, ctx, k) && std::find(key_steps.begin(), key_steps.end(), k) == key_steps.end())
        key_steps.push_back(k);
  while (remaining > 0) {
    std::size_t best = 0, best_cover = 0;
    for (const auto& entry : done) {
      std::size_t cover = 0;
      for (std::size_t k : key_steps) cover += wanted[(entry.first + k) % slots];
      if (cover > best_cover) {
        best = entry.first;
        best_cover = cover;
      }
    }
    if (best_cover == 0) break;  // the rest lack keys: ckks::rotate below names them
    std::vector<std::size_t> targets;
    for (std::size_t k : key_steps)
      if (wanted[(best + k) % slots]) targets.push_back((best + k) % slots);
    if (best == 0) {
      run_round(0, x_digits(), targets);
    } else {
      const auto digits = ckks::decompose(ctx, done.at(best).polys[1], x.level);
      run_round(best, digits, targets);
    }
  }
  for (std::size_t s : steps)
    if (s != 0 && wanted[s]) done.emplace(s, ckks::rotate(keys, x, static_cast<long long>(s)));

  std::vector<Ciphertext> result;
  result.reserve(steps.size());
  for (std::size_t s : steps) result.push_back(done.at(s));
  return result;
}

std::pair<std::size_t, std::size_t> giant_key_switches(const KeySet& keys, const ckks::Context& ctx,
                                                       const std::vector<std::size_t>& steps, std::size_t chains) {
  SECURINFER_CHECK(chains >= 1, ParameterError, "at least one chain");
  std::size_t independent = 0, horner = 0;
  for (std::size_t s : steps) independent += rotation_cost(keys, ctx, s);
  std::vector<std::size_t> sorted(steps);
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t j = 0; j < sorted.size(); ++j)
    horner += rotation_cost(keys, ctx, j < chains ? sorted[j] : sorted[j] - sorted[j - chains]);
  return {independent, horner};
}

Ciphertext sum_rotated(const KeySet& keys, std::vector<Ciphertext> parts, const std::vector<std::size_t>& steps) {
  SECURINFER_CHECK(!parts.empty() && parts.size() == steps.size(), ParameterError,
                   "sum_rotated needs one step per part, and at least one part");
  const ckks::Context& ctx = *parts[0].context;
  const auto& primes = ctx.level_primes(parts[0].level);
  const auto accumulate = [&](Ciphertext& acc, const Ciphertext& b) {
    for (std::size_t c = 0; c < 2; ++c) ring::add(acc.polys[c], acc.polys[c], b.polys[c], primes);
  };
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(get_num_threads()), parts.size());
  const std::size_t independent = giant_key_switches(keys, ctx, steps, 1).first;
  const std::size_t one_chain = giant_key_switches(keys, ctx, steps, 1).second;
  const std::size_t many_chains = giant_key_switches(keys, ctx, steps, threads).second;
  if (std::min(one_chain, many_chains) < independent) {
    const std::size_t chains = many_chains <= one_chain ? threads : 1;
    std::vector<std::size_t> order(steps.size());
    for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return steps[a] < steps[b]; });
    // Chain r: the parts order[r], order[r + chains], ..., by Horner's rule
    // from the largest step down, then rotated by its smallest step.
    std::vector<Ciphertext> sums(chains);
    parallel_for(0, chains, [&](std::size_t r) {
      std::size_t j = r + (order.size() - 1 - r) / chains * chains;  // the chain's last index
      Ciphertext acc = std::move(parts[order[j]]);
      for (; j >= r + chains; j -= chains) {
        acc = ckks::rotate(keys, acc, static_cast<long long>(steps[order[j]] - steps[order[j - chains]]));
        accumulate(acc, parts[order[j - chains]]);
      }
      const std::size_t first = steps[order[r]];
      sums[r] = first == 0 ? std::move(acc) : ckks::rotate(keys, acc, static_cast<long long>(first));
    });
    for (std::size_t r = 1; r < chains; ++r) accumulate(sums[0], sums[r]);
    return std::move(sums[0]);
  }
  // Independent rotations: one per thread.
  parallel_for(0, parts.size(), [&](std::size_t j) {
    if (steps[j] != 0) parts[j] = ckks::rotate(keys, parts[j], static_cast<long long>(steps[j]));
  });
  Ciphertext acc = std::move(parts[0]);
  for (std::size_t j = 1; j < parts.size(); ++j) accumulate(acc, parts[j]);
  return acc;
}

Ciphertext sum_rotated_rescaled(const KeySet& keys, std::vector<Ciphertext> parts,
                                const std::vector<std::size_t>& steps) {
  SECURINFER_CHECK(!parts.empty() && parts.size() == steps.size(), ParameterError,
                   "sum_rotated_rescaled needs one step per part, and at least one part");
  return sum_rotated_rescaled(keys, parts.size(), [&](std::size_t j) { return std::move(parts[j]); }, steps);
}

Ciphertext sum_rotated_rescaled(const KeySet& keys, std::size_t count,
                                const std::function<Ciphertext(std::size_t)>& make_part,
                                const std::vector<std::size_t>& steps) {
  SECURINFER_CHECK(count > 0 && count == steps.size(), ParameterError,
                   "sum_rotated_rescaled needs one step per part, and at least one part");
  // A thread's worth of parts at a time: made, rotated on the extended
  // basis Q P, added in, freed. The sums run in part order (the same words
  // as summing them all at the end).
  const std::size_t batch = std::max<std::size_t>(1, static_cast<std::size_t>(get_num_threads()));
  std::vector<Ciphertext> ready(std::min(batch, count));   // the first batch, made to learn the level
  parallel_for(0, ready.size(), [&](std::size_t j) { ready[j] = make_part(j); });
  const Ciphertext& first = ready[0];
  const ckks::ContextPtr context = first.context;
  const ckks::Context& ctx = *context;
  const std::size_t n = ctx.degree(), slots = ctx.slots(), level = first.level;
  const auto key_id = first.key_id;
  const bool is_complex = first.is_complex;
  const double scale = first.scale;
  bool all_keys = level >= 1;
  for (std::size_t s : steps) all_keys = all_keys && (s % slots == 0 || has_step_key(keys, ctx, s));
  if (!all_keys) {
    std::vector<Ciphertext> parts(count);
    for (std::size_t j = 0; j < ready.size(); ++j) parts[j] = std::move(ready[j]);
    for (std::size_t j = ready.size(); j < count; ++j) parts[j] = make_part(j);
    Ciphertext y = sum_rotated(keys, std::move(parts), steps);
    ckks::rescale_in_place(y);
    return y;
  }
  struct Rotated {
    ring::RnsPoly acc0, acc1, add0, add1;
    bool switched = false;
  };
  std::vector<Rotated> out;
  const auto& primes = ctx.level_primes(level);
  const auto& ext = ctx.extended_primes(level);
  // Each rotated part as (P c0', 0) + (acc0, acc1) over Q P: acc from the key
  // switch before its ModDown, c0' the permuted c0 (kept over Q: P c0' vanishes
  // modulo P). Step 0 parts go to the Q side whole.
  ring::RnsPoly acc0(n, ext.size()), acc1(n, ext.size()), add0(n, level + 1), add1(n, level + 1);
  for (std::size_t start = 0; start < count; start += batch) {
    const std::size_t size = std::min(batch, count - start);
    out.assign(size, Rotated{});
    parallel_for(0, size, [&](std::size_t i) {
      const std::size_t j = start + i;
      Rotated& r = out[i];
      Ciphertext part = j < ready.size() ? std::move(ready[j]) : make_part(j);
      if (steps[j] % slots == 0) {
        r.add0 = std::move(part.polys[0]);
        r.add1 = std::move(part.polys[1]);
        return;
      }
      const std::uint64_t g = ring::rotation_galois_element(n, static_cast<long long>(steps[j]));
      const auto& perm = ctx.galois_permutation(g);
      {
        const auto digits = ckks::decompose(ctx, part.polys[1], level);
        ckks::switch_key_extended(ctx, digits, level, *keys.galois_key(g), perm.data(), r.acc0, r.acc1);
      }
      r.add0 = ring::RnsPoly::uninitialized(n, level + 1);
      ring::permute(r.add0, part.polys[0], perm.data(), primes);
      r.switched = true;
    });
    for (const Rotated& r : out) {
      if (r.switched) {
        ring::add(acc0, acc0, r.acc0, ext);
        ring::add(acc1, acc1, r.acc1, ext);
      } else {
        ring::add(add1, add1, r.add1, primes);
      }
      ring::add(add0, add0, r.add0, primes);
    }
  }
  // One fused ModDown and rescale for the whole sum.
  Ciphertext y;
  y.context = context;
  y.key_id = key_id;
  y.is_complex = is_complex;
  y.slots_used = slots;
  y.level = level - 1;
  y.scale = scale / static_cast<double>(ctx.params().q_primes[level]);
  y.polys.resize(2);
  parallel_for(0, 2, [&](std::size_t c) {
    ckks::mod_down_rescale(ctx, c ? acc1 : acc0, c ? add1 : add0, level, y.polys[c]);
  });
  return y;
}

}  // namespace securinfer::linalg
