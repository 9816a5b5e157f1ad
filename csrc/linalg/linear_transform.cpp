#include "linalg/linear_transform.h"

#include <algorithm>
#include <complex>
#include <set>
#include <string>

#include "ckks/encryption.h"
#include "ckks/evaluator.h"
#include "ckks/slot_layout.h"
#include "ckks/key_switch.h"
#include "ckks/rotation.h"
#include "eltwise/dot_accumulate.h"
#include "linalg/composed_rotations.h"
#include "ring/automorphism.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::linalg {
namespace {

using ckks::Ciphertext;
using ckks::KeySet;

long long centred(long long step, std::size_t slots) {
  const long long s = static_cast<long long>(slots);
  long long r = step % s;
  if (r < 0) r += s;
  return r > s / 2 ? r - s : r;
}

// MissingKeyError before any work when a step has neither its own key nor the
// power-of-two keys that compose it (what ckks::rotate would need).
void check_rotation_keys(const KeySet& keys, const ckks::Context& ctx, const std::vector<long long>& steps) {
  for (long long step : steps) {
    if (keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), step))) continue;
    for (long long t : ckks::rotation_plan(keys, ctx, step))
      if (!keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), t)))
        throw MissingKeyError("the matrix product needs rotation step " + std::to_string(step) +
                              " (no key for it, nor for step " + std::to_string(t) +
                              " to compose it); generate the keys of required_rotations()");
  }
}

}  // namespace

LinearTransform::LinearTransform(const ckks::ContextPtr& context, const DiagonalSet& set, std::size_t level,
                                 std::size_t baby_step)
    : context_(context), rows_(set.rows), cols_(set.cols), level_(level), output_slots_(set.output_slots),
      block_stride_(set.block_stride) {
  const ckks::Context& ctx = *context;
  const std::size_t slots = ctx.slots();
  SECURINFER_CHECK(set.slots == slots, ParameterError, "diagonals were made for another slot count");
  SECURINFER_CHECK(level >= 1 && level <= ctx.max_level(), LevelError,
                   "a matrix product needs a level in [1, " + std::to_string(ctx.max_level()) + "]; got " +
                       std::to_string(level));
  // The scale that brings a canonical input at `level` to the canonical scale
  // of level - 1 after one rescale (as product_scale_for does).
  plaintext_scale_ = ctx.level_scale(level - 1) * static_cast<double>(ctx.params().q_primes[level]) /
                     ctx.level_scale(level);
  replication_ = replication_steps(set.period, set.copies);

  std::vector<std::size_t> ks;
  for (const auto& d : set.diagonals) ks.push_back(d.first);
  baby_step_ = baby_step ? baby_step : (ks.empty() ? 1 : choose_baby_step(ks, slots));
  const BsgsSplit split = split_bsgs(ks, slots, baby_step_);
  babies_ = split.babies;

  // Flatten (giant, k) pairs so the encodings run in parallel.
  struct Job {
    std::size_t giant, term, k;
  };
  std::vector<Job> jobs;
  for (const auto& [g, kk] : split.giants) {
    Giant giant;
    giant.step = g;
    for (std::size_t k : kk) {
      const std::size_t i = k - g;
      const std::size_t baby = std::lower_bound(babies_.begin(), babies_.end(), i) - babies_.begin();
      jobs.push_back({giants_.size(), giant.terms.size(), k});
      giant.terms.push_back({baby, ring::RnsPoly()});
    }
    giants_.push_back(std::move(giant));
  }
  parallel_for(0, jobs.size(), [&](std::size_t j) {
    const Job& job = jobs[j];
    const std::size_t g = giants_[job.giant].step;
    const std::vector<double>& d = set.diagonals.at(job.k);
    // Pre-rotated right by g: slot s holds D_k[s - g].
    std::vector<std::complex<double>> v(slots);
    for (std::size_t s = 0; s < slots; ++s) v[s] = d[(s + slots - g) % slots];
    giants_[job.giant].terms[job.term].pt =
        std::move(ckks::encode(context_, v.data(), slots, level_, plaintext_scale_).poly);
  });
}

std::size_t LinearTransform::plaintext_count() const {
  std::size_t c = 0;
  for (const auto& g : giants_) c += g.terms.size();
  return c;
}

std::size_t LinearTransform::byte_size() const {
  std::size_t words = 0;
  for (const auto& g : giants_)
    for (const auto& t : g.terms) words += t.pt.words();
  return words * 8;
}

std::vector<long long> LinearTransform::required_rotations() const {
  const std::size_t slots = context_->slots();
  std::set<long long> steps;
  for (const auto& r : replication_) steps.insert(centred(r.step, slots));
  for (std::size_t i : babies_) steps.insert(centred(static_cast<long long>(i), slots));
  for (const auto& g : giants_) steps.insert(centred(static_cast<long long>(g.step), slots));
  steps.erase(0);
  return {steps.begin(), steps.end()};
}

Ciphertext LinearTransform::apply(const KeySet& keys, const Ciphertext& x_in) const {
  const ckks::Context& ctx = *context_;
  ckks::require_same_parameters(*x_in.context, ctx, "ciphertext and matrix");
  keys.require_usable_with(*x_in.context, x_in.key_id);
  // The transform replicates its input over the slots past it: they must be zeros.
  ckks::require_zero_padding(x_in, "a matrix product (x @ W)");
  SECURINFER_CHECK(x_in.size() == 2, ParameterError, "ciphertext must be relinearised");
  SECURINFER_CHECK(x_in.level >= level_, LevelError,
                   "ciphertext at level " + std::to_string(x_in.level) + " is below the level " +
                       std::to_string(level_) + " this matrix was prepared for");
  check_rotation_keys(keys, ctx, required_rotations());
  Ciphertext input = x_in.level == level_ ? x_in : ckks::drop_to_level(x_in, level_);
  input.slots_used = ctx.slots();  // viewed whole: its zero padding is part of the layout

  Ciphertext x = input;
  for (const auto& r : replication_) x = ckks::add(x, ckks::rotate(keys, r.from_input ? input : x, r.step));

  // Baby steps, hoisted: one ModUp of c1 for every step with its own key;
  // the others built from power-of-two keys (composed_rotations.h).
  const std::vector<Ciphertext> babies = baby_rotations(keys, x, {}, babies_);

  // Giant steps: products summed unreduced, one per thread; then rotated and
  // summed (composed_rotations.h: on the extended basis with exact keys,
  // else independently or by Horner's rule, whichever needs fewer key switches).
  const auto& primes = ctx.level_primes(level_);
  const std::size_t n = ctx.degree();
  std::vector<Ciphertext> partial(giants_.size());
  parallel_for(0, giants_.size(), [&](std::size_t gi) {
    const Giant& giant = giants_[gi];
    Ciphertext r;
    r.context = context_;
    r.key_id = x.key_id;
    r.level = level_;
    r.scale = x.scale * plaintext_scale_;
    r.slots_used = ctx.slots();
    std::vector<const std::uint64_t*> a(giant.terms.size()), b(giant.terms.size());
    for (std::size_t c = 0; c < 2; ++c) {
      auto out = ring::RnsPoly::uninitialized(n, level_ + 1);
      for (std::size_t e = 0; e <= level_; ++e) {
        for (std::size_t t = 0; t < giant.terms.size(); ++t) {
          a[t] = giant.terms[t].pt.limb(e);
          b[t] = babies[giant.terms[t].baby].polys[c].limb(e);
        }
        eltwise::dot_accumulate(out.limb(e), a.data(), b.data(), a.size(), n, primes[e]->modulus);
      }
      r.polys.push_back(std::move(out));
    }
    partial[gi] = std::move(r);
  });

  Ciphertext y;
  if (partial.empty()) {
    // An all-zero matrix: a trivial encryption of zero at the product's level and scale.
    y.context = context_;
    y.key_id = x.key_id;
    y.level = level_;
    y.scale = x.scale * plaintext_scale_;
    y.polys.emplace_back(n, level_ + 1);
    y.polys.emplace_back(n, level_ + 1);
    ckks::rescale_in_place(y);
  } else {
    // Rotated, summed and rescaled (with exact keys: double hoisting, one
    // ModDown + rescale for all giant steps).
    std::vector<std::size_t> steps;
    for (const auto& g : giants_) steps.push_back(g.step);
    y = sum_rotated_rescaled(keys, std::move(partial), steps);
  }
  // The diagonals hold zeros past the output: so does the result. A batched
  // transform keeps the input's count of blocks (its zero blocks map to zero
  // blocks), so a batch of k inputs comes out as k outputs.
  y.slots_used = block_stride_ == 0 ? output_slots_
                                    : (x_in.slots_used + block_stride_ - 1) / block_stride_ * block_stride_;
  y.padding = ckks::Padding::zeros;
  y.period = 0;
  y.is_complex = x_in.is_complex;  // the matrix is real
  return y;
}

}  // namespace securinfer::linalg
