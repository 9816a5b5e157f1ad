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
#include "util/aligned_buffer.h"
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

// The longest run r <= limit (powers of two) such that the words come in runs
// of r equal words.
std::size_t equal_runs(const std::uint64_t* words, std::size_t n, std::size_t limit) {
  std::size_t r = limit;
  const auto runs_of = [&](std::size_t len) {
    for (std::size_t k = 0; k < n; k += len)
      for (std::size_t i = 1; i < len; ++i)
        if (words[k + i] != words[k]) return false;
    return true;
  };
  while (r > 1 && !runs_of(r)) r /= 2;
  return r;
}

// dot_accumulate over plaintexts kept one word per run: each block of
// coefficients expands its runs into a small buffer first (cache resident),
// so the products are the full-length ones, word for word. `compact` points
// at the word of full[t][0]'s run; n is a power of two (a chunk), so is run.
void dot_accumulate_runs(std::uint64_t* out, const std::vector<const std::uint64_t*>& compact,
                         const std::vector<const std::uint64_t*>& full, std::size_t run, std::size_t n,
                         const arith::Modulus& q) {
  const std::size_t terms = compact.size(), block = std::min<std::size_t>(256, n);
  AlignedVector<std::uint64_t> expanded(terms * block);
  std::vector<const std::uint64_t*> a(terms), b(terms);
  for (std::size_t k0 = 0; k0 < n; k0 += block) {
    for (std::size_t t = 0; t < terms; ++t) {
      std::uint64_t* dst = expanded.data() + t * block;
      const std::size_t len = std::min(run, block);  // both powers of two
      for (std::size_t k = 0; k < block; k += len) std::fill_n(dst + k, len, compact[t][(k0 + k) / run]);
      // (k0 + k) / run counts runs from the chunk's start: when run exceeds
      // the chunk, the whole chunk lies in one run, word 0.
      a[t] = dst;
      b[t] = full[t] + k0;
    }
    eltwise::dot_accumulate(out + k0, a.data(), b.data(), terms, block, q);
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
  // One word per run of equal NTT words, the run common to every plaintext
  // (checked on the words themselves, so it is exact whatever the encoding's
  // rounding did).
  const std::size_t n = ctx.degree();
  run_length_ = n;
  for (const auto& giant : giants_)
    for (const auto& term : giant.terms)
      for (std::size_t e = 0; e <= level_; ++e) run_length_ = equal_runs(term.pt.limb(e), n, run_length_);
  if (run_length_ > 1) {
    parallel_for(0, jobs.size(), [&](std::size_t j) {
      ring::RnsPoly& pt = giants_[jobs[j].giant].terms[jobs[j].term].pt;
      auto compact = ring::RnsPoly::uninitialized(n / run_length_, level_ + 1);
      for (std::size_t e = 0; e <= level_; ++e)
        for (std::size_t k = 0; k < n / run_length_; ++k) compact.limb(e)[k] = pt.limb(e)[k * run_length_];
      pt = std::move(compact);
    });
  }
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

  // Giant steps: products summed unreduced; then rotated and summed
  // (composed_rotations.h: on the extended basis with exact keys, else
  // independently or by Horner's rule, whichever needs fewer key switches).
  // The products run chunk by chunk of coefficients, every giant step on one
  // chunk before the next: the babies' chunk stays in cache for all of them,
  // where whole limbs giant by giant streamed every baby from memory once
  // per giant step.
  const auto& primes = ctx.level_primes(level_);
  const std::size_t n = ctx.degree(), chunk = std::min<std::size_t>(n, 1024), chunks = n / chunk;
  std::vector<Ciphertext> partial(giants_.size());
  for (auto& r : partial) {
    r.context = context_;
    r.key_id = x.key_id;
    r.level = level_;
    r.scale = x.scale * plaintext_scale_;
    r.slots_used = ctx.slots();
    r.polys.push_back(ring::RnsPoly::uninitialized(n, level_ + 1));
    r.polys.push_back(ring::RnsPoly::uninitialized(n, level_ + 1));
  }
  parallel_for(0, (level_ + 1) * chunks, [&](std::size_t task) {
    const std::size_t e = task / chunks, k0 = (task % chunks) * chunk;
    std::vector<const std::uint64_t*> a, b;
    for (std::size_t gi = 0; gi < giants_.size(); ++gi) {
      const Giant& giant = giants_[gi];
      a.resize(giant.terms.size());
      b.resize(giant.terms.size());
      for (std::size_t c = 0; c < 2; ++c) {
        // The plaintexts keep one word per run: word k0 of the chunk is their
        // word k0 / run (chunk and run are powers of two).
        for (std::size_t t = 0; t < giant.terms.size(); ++t) {
          a[t] = giant.terms[t].pt.limb(e) + k0 / run_length_;
          b[t] = babies[giant.terms[t].baby].polys[c].limb(e) + k0;
        }
        std::uint64_t* out = partial[gi].polys[c].limb(e) + k0;
        if (run_length_ > 1)
          dot_accumulate_runs(out, a, b, run_length_, chunk, primes[e]->modulus);
        else
          eltwise::dot_accumulate(out, a.data(), b.data(), a.size(), chunk, primes[e]->modulus);
      }
    }
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
