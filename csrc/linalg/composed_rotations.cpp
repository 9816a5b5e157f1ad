#include "linalg/composed_rotations.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

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

std::size_t highest_power_of_two(std::size_t v) {
  std::size_t h = 1;
  while (h <= v / 2) h <<= 1;
  return h;
}

bool has_step_key(const KeySet& keys, const ckks::Context& ctx, std::size_t step) {
  return keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), static_cast<long long>(step)));
}

// Key switches ckks::rotate spends on `step`: 0, 1 with its own key, else one
// per power-of-two term (kCannotCompose when one of their keys is missing).
std::size_t rotation_cost(const KeySet& keys, const ckks::Context& ctx, std::size_t step) {
  if (step % ctx.slots() == 0) return 0;
  if (has_step_key(keys, ctx, step)) return 1;
  const auto plan = ckks::rotation_plan(ctx.slots(), static_cast<long long>(step));
  for (long long t : plan)
    if (!keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), t))) return kCannotCompose;
  return plan.size();
}

}  // namespace

std::vector<Ciphertext> baby_rotations(const KeySet& keys, const Ciphertext& x,
                                       const std::vector<ring::RnsPoly>& digits_in,
                                       const std::vector<std::size_t>& steps) {
  const ckks::Context& ctx = *x.context;
  const std::size_t n = ctx.degree();
  // Every rotation to compute: the steps, plus for each step without a key
  // the chain of sources i -> i - h (h its highest power of two) it is built from.
  std::set<std::size_t> need;
  for (std::size_t s : steps) {
    SECURINFER_CHECK(s < ctx.slots(), ParameterError, "baby step out of range");
    if (s != 0) need.insert(s);
  }
  // Sources are smaller than their targets, and std::set inserts keep
  // iterators valid: one walk from the top closes the set.
  for (auto it = need.rbegin(); it != need.rend(); ++it) {
    const std::size_t s = *it;
    if (has_step_key(keys, ctx, s)) continue;
    const std::size_t src = s - highest_power_of_two(s);
    if (src != 0 && has_step_key(keys, ctx, highest_power_of_two(s))) need.insert(src);
  }

  std::map<std::size_t, Ciphertext> done;
  done.emplace(0, x);
  // Wave 0, from x: steps with their own key (hoisted), and steps whose top
  // power of two has no key (ckks::rotate composes them or names the key).
  std::vector<std::size_t> from_x, pending;
  for (std::size_t s : need) {
    if (has_step_key(keys, ctx, s) || !has_step_key(keys, ctx, highest_power_of_two(s))) from_x.push_back(s);
    else pending.push_back(s);
  }
  bool any_key = false;
  for (std::size_t s : from_x) any_key = any_key || has_step_key(keys, ctx, s);
  std::vector<ring::RnsPoly> own_digits;
  if (any_key && digits_in.empty()) own_digits = ckks::decompose(ctx, x.polys[1], x.level);
  const std::vector<ring::RnsPoly>& digits = digits_in.empty() ? own_digits : digits_in;
  {
    std::vector<Ciphertext> out(from_x.size());
    parallel_for(0, from_x.size(), [&](std::size_t j) {
      const std::size_t s = from_x[j];
      const std::uint64_t g = ring::rotation_galois_element(n, static_cast<long long>(s));
      out[j] = keys.has_galois_key(g) ? ckks::apply_galois_hoisted(x, digits, g, *keys.galois_key(g))
                                      : ckks::rotate(keys, x, static_cast<long long>(s));
    });
    for (std::size_t j = 0; j < from_x.size(); ++j) done.emplace(from_x[j], std::move(out[j]));
  }
  // Later waves: every pending step whose source is done; each source
  // decomposed once for all its targets.
  while (!pending.empty()) {
    std::vector<std::size_t> ready, later;
    for (std::size_t s : pending) (done.count(s - highest_power_of_two(s)) ? ready : later).push_back(s);
    SECURINFER_CHECK(!ready.empty(), Error, "baby rotations: a source was never computed");
    std::vector<std::size_t> sources;
    for (std::size_t s : ready) sources.push_back(s - highest_power_of_two(s));
    std::sort(sources.begin(), sources.end());
    sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
    std::vector<std::vector<ring::RnsPoly>> source_digits(sources.size());
    parallel_for(0, sources.size(), [&](std::size_t j) {
      if (sources[j] != 0) source_digits[j] = ckks::decompose(ctx, done.at(sources[j]).polys[1], x.level);
    });
    std::vector<Ciphertext> out(ready.size());
    parallel_for(0, ready.size(), [&](std::size_t j) {
      const std::size_t h = highest_power_of_two(ready[j]);
      const std::size_t src = ready[j] - h;
      const std::size_t si = std::lower_bound(sources.begin(), sources.end(), src) - sources.begin();
      const std::uint64_t g = ring::rotation_galois_element(n, static_cast<long long>(h));
      out[j] = ckks::apply_galois_hoisted(done.at(src), src == 0 ? digits : source_digits[si], g,
                                          *keys.galois_key(g));
    });
    for (std::size_t j = 0; j < ready.size(); ++j) done.emplace(ready[j], std::move(out[j]));
    pending = std::move(later);
  }

  std::vector<Ciphertext> result;
  result.reserve(steps.size());
  for (std::size_t s : steps) result.push_back(done.at(s));
  return result;
}

std::pair<std::size_t, std::size_t> giant_key_switches(const KeySet& keys, const ckks::Context& ctx,
                                                       const std::vector<std::size_t>& steps) {
  std::size_t independent = 0, horner = 0;
  for (std::size_t s : steps) independent += rotation_cost(keys, ctx, s);
  std::vector<std::size_t> sorted(steps);
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t j = 1; j < sorted.size(); ++j) horner += rotation_cost(keys, ctx, sorted[j] - sorted[j - 1]);
  if (!sorted.empty()) horner += rotation_cost(keys, ctx, sorted[0]);
  return {independent, horner};
}

Ciphertext sum_rotated(const KeySet& keys, std::vector<Ciphertext> parts, const std::vector<std::size_t>& steps) {
  SECURINFER_CHECK(!parts.empty() && parts.size() == steps.size(), ParameterError,
                   "sum_rotated needs one step per part, and at least one part");
  const ckks::Context& ctx = *parts[0].context;
  const auto& primes = ctx.level_primes(parts[0].level);
  const auto [independent, horner] = giant_key_switches(keys, ctx, steps);
  const auto accumulate = [&](Ciphertext& acc, const Ciphertext& b) {
    for (std::size_t c = 0; c < 2; ++c) ring::add(acc.polys[c], acc.polys[c], b.polys[c], primes);
  };
  if (horner < independent) {
    std::vector<std::size_t> order(steps.size());
    for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return steps[a] > steps[b]; });
    Ciphertext acc = std::move(parts[order[0]]);
    for (std::size_t j = 1; j < order.size(); ++j) {
      const long long gap = static_cast<long long>(steps[order[j - 1]] - steps[order[j]]);
      acc = ckks::rotate(keys, acc, gap);
      accumulate(acc, parts[order[j]]);
    }
    const std::size_t last = steps[order.back()];
    return last == 0 ? acc : ckks::rotate(keys, acc, static_cast<long long>(last));
  }
  // Independent rotations: one per thread.
  parallel_for(0, parts.size(), [&](std::size_t j) {
    if (steps[j] != 0) parts[j] = ckks::rotate(keys, parts[j], static_cast<long long>(steps[j]));
  });
  Ciphertext acc = std::move(parts[0]);
  for (std::size_t j = 1; j < parts.size(); ++j) accumulate(acc, parts[j]);
  return acc;
}

}  // namespace securinfer::linalg
