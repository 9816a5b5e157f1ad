#include "linalg/complex_transform.h"

#include <algorithm>
#include <set>
#include <string>

#include "ckks/encryption.h"
#include "ckks/evaluator.h"
#include "ckks/key_switch.h"
#include "ckks/rotation.h"
#include "eltwise/dot_accumulate.h"
#include "linalg/bsgs.h"
#include "linalg/composed_rotations.h"
#include "ring/automorphism.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::linalg {
namespace {

long long centred(long long step, std::size_t slots) {
  const long long s = static_cast<long long>(slots);
  long long r = step % s;
  if (r < 0) r += s;
  return r > s / 2 ? r - s : r;
}

}  // namespace

ComplexTransform::ComplexTransform(const ckks::ContextPtr& context, const ComplexDiagonals& diagonals,
                                   std::size_t level, std::size_t baby_step, bool keep_encoded)
    : context_(context), level_(level), keep_encoded_(keep_encoded) {
  const ckks::Context& ctx = *context;
  const std::size_t slots = ctx.slots();
  SECURINFER_CHECK(level >= 1 && level <= ctx.max_level(), LevelError, "transform level out of range");
  std::vector<std::size_t> ks;
  for (const auto& [k, d] : diagonals) {
    SECURINFER_CHECK(k < slots && d.size() == slots, ParameterError,
                     "each diagonal needs an index below the slot count and one value per slot");
    ks.push_back(k);
  }
  plaintext_scale_ = ctx.level_scale(level - 1) * static_cast<double>(ctx.params().q_primes[level]) /
                     ctx.level_scale(level);
  baby_step_ = baby_step ? baby_step : (ks.empty() ? 1 : choose_baby_step(ks, slots));
  const BsgsSplit split = split_bsgs(ks, slots, baby_step_);
  babies_ = split.babies;
  struct Job {
    std::size_t giant, term, k;
  };
  std::vector<Job> jobs;
  for (const auto& [g, kk] : split.giants) {
    Giant giant;
    giant.step = g;
    for (std::size_t k : kk) {
      const std::size_t baby = std::lower_bound(babies_.begin(), babies_.end(), k - g) - babies_.begin();
      jobs.push_back({giants_.size(), giant.terms.size(), k});
      giant.terms.push_back({baby, ring::RnsPoly(), {}});
    }
    giants_.push_back(std::move(giant));
  }
  parallel_for(0, jobs.size(), [&](std::size_t j) {
    const Job& job = jobs[j];
    const std::size_t g = giants_[job.giant].step;
    const auto& d = diagonals.at(job.k);
    std::vector<std::complex<double>> v(slots);  // pre-rotated right by g
    for (std::size_t s = 0; s < slots; ++s) v[s] = d[(s + slots - g) % slots];
    Term& term = giants_[job.giant].terms[job.term];
    if (keep_encoded_) term.pt = std::move(ckks::encode(context_, v.data(), slots, level_, plaintext_scale_).poly);
    else term.values = std::move(v);
  });
}

ring::RnsPoly ComplexTransform::plaintext(const Term& t) const {
  return std::move(ckks::encode(context_, t.values.data(), t.values.size(), level_, plaintext_scale_).poly);
}

std::size_t ComplexTransform::plaintext_count() const {
  std::size_t c = 0;
  for (const auto& g : giants_) c += g.terms.size();
  return c;
}

std::size_t ComplexTransform::byte_size() const {
  std::size_t words = 0;
  for (const auto& g : giants_)
    for (const auto& t : g.terms) words += t.pt.words() + 2 * t.values.size();
  return words * 8;
}

std::vector<long long> ComplexTransform::required_rotations() const {
  const std::size_t slots = context_->slots();
  std::set<long long> steps;
  for (std::size_t i : babies_) steps.insert(centred(static_cast<long long>(i), slots));
  for (const auto& g : giants_) steps.insert(centred(static_cast<long long>(g.step), slots));
  steps.erase(0);
  return {steps.begin(), steps.end()};
}

ckks::Ciphertext ComplexTransform::apply(const ckks::KeySet& keys, const ckks::Ciphertext& x_in) const {
  const ckks::Context& ctx = *context_;
  SECURINFER_CHECK(x_in.context->fingerprint() == ctx.fingerprint(), ContextMismatchError,
                   "ciphertext and transform were prepared under different parameters");
  SECURINFER_CHECK(x_in.key_id == keys.key_id(), ContextMismatchError, "ciphertext belongs to other keys");
  SECURINFER_CHECK(x_in.size() == 2, ParameterError, "ciphertext must be relinearised");
  SECURINFER_CHECK(x_in.level >= level_, LevelError, "ciphertext below the transform's level");
  for (long long step : required_rotations())
    if (!keys.has_galois_key(ring::rotation_galois_element(ctx.degree(), step)))
      throw MissingKeyError("bootstrapping needs rotation step " + std::to_string(step) +
                            "; generate the bootstrapping keys first");
  const ckks::Ciphertext x = x_in.level == level_ ? x_in : ckks::drop_to_level(x_in, level_);

  std::vector<ckks::Ciphertext> babies(babies_.size());
  std::vector<ring::RnsPoly> digits;
  if (babies_.size() > 1 || (babies_.size() == 1 && babies_[0] != 0))
    digits = ckks::decompose(ctx, x.polys[1], level_);
  parallel_for(0, babies_.size(), [&](std::size_t b) {
    const long long i = static_cast<long long>(babies_[b]);
    if (i == 0) {
      babies[b] = x;
    } else {
      const std::uint64_t g = ring::rotation_galois_element(ctx.degree(), i);
      babies[b] = ckks::apply_galois_hoisted(x, digits, g, *keys.galois_key(g));
    }
  });

  const auto& primes = ctx.level_primes(level_);
  const std::size_t n = ctx.degree();
  // Giant gi's product of baby steps and plaintexts (made on demand by the
  // sum below, a thread's worth at a time).
  const auto make_partial = [&](std::size_t gi) {
    const Giant& giant = giants_[gi];
    ckks::Ciphertext r;
    r.context = context_;
    r.key_id = x.key_id;
    r.level = level_;
    r.scale = x.scale * plaintext_scale_;
    r.slots_used = ctx.slots();
    std::vector<const std::uint64_t*> a(giant.terms.size()), b(giant.terms.size());
    std::vector<ring::RnsPoly> encoded;  // this giant's plaintexts, when not kept
    if (!keep_encoded_)
      for (const auto& t : giant.terms) encoded.push_back(plaintext(t));
    for (std::size_t c = 0; c < 2; ++c) {
      auto out = ring::RnsPoly::uninitialized(n, level_ + 1);
      for (std::size_t e = 0; e <= level_; ++e) {
        for (std::size_t t = 0; t < giant.terms.size(); ++t) {
          a[t] = keep_encoded_ ? giant.terms[t].pt.limb(e) : encoded[t].limb(e);
          b[t] = babies[giant.terms[t].baby].polys[c].limb(e);
        }
        eltwise::dot_accumulate(out.limb(e), a.data(), b.data(), a.size(), n, primes[e]->modulus);
      }
      r.polys.push_back(std::move(out));
    }
    return r;
  };

  ckks::Ciphertext y;
  if (giants_.empty()) {
    y.context = context_;
    y.key_id = x.key_id;
    y.level = level_;
    y.scale = x.scale * plaintext_scale_;
    y.polys.emplace_back(n, level_ + 1);
    y.polys.emplace_back(n, level_ + 1);
    ckks::rescale_in_place(y);
  } else {
    // Rotated on the extended basis, summed, one fused ModDown + rescale
    // (double hoisting: every step has its own key here).
    std::vector<std::size_t> steps;
    for (const auto& g : giants_) steps.push_back(g.step);
    y = sum_rotated_rescaled(keys, giants_.size(), make_partial, steps);
  }
  y.slots_used = ctx.slots();
  return y;
}

}  // namespace securinfer::linalg
