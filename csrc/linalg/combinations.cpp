#include "linalg/combinations.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <string>

#include "ckks/encryption.h"
#include "ckks/evaluator.h"
#include "ckks/key_switch.h"
#include "ckks/slot_layout.h"
#include "eltwise/dot_accumulate.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::linalg {
namespace {

using ckks::Ciphertext;

void check_operands(const CiphertextRefs& xs, const char* what) {
  SECURINFER_CHECK(!xs.empty(), ParameterError, std::string(what) + ": no ciphertexts given");
  for (const Ciphertext* x : xs) {
    SECURINFER_CHECK(x != nullptr, ParameterError, std::string(what) + ": expected ciphertexts");
    ckks::check_compatible(*xs[0], *x);
    SECURINFER_CHECK(x->size() == 2, ParameterError, std::string(what) + ": ciphertexts must be relinearised");
  }
}

// xs viewed at `level`: those at `level` are used in place (and must share a
// scale when `require_one_scale`), higher ones are adjusted copies (to the
// scale of the first at `level`, or to `fallback_scale` when none is there).
struct Aligned {
  std::vector<Ciphertext> adjusted;
  CiphertextRefs at;
  const Ciphertext& operator[](std::size_t i) const { return *at[i]; }
};

Aligned aligned_at(const CiphertextRefs& xs, std::size_t level, double fallback_scale, const char* what,
                   bool require_one_scale = true) {
  double scale = fallback_scale;
  for (const Ciphertext* x : xs)
    if (x->level == level) {
      scale = x->scale;
      break;
    }
  Aligned out;
  out.adjusted.resize(xs.size());
  out.at.resize(xs.size());
  parallel_for(0, xs.size(), [&](std::size_t i) {
    const Ciphertext& x = *xs[i];
    if (x.level == level) {
      SECURINFER_CHECK(!require_one_scale || ckks::same_scale(x.scale, scale), ParameterError,
                       std::string(what) + ": ciphertexts at one level must share a scale");
      out.at[i] = &x;
    } else {
      out.adjusted[i] = ckks::adjust_to(x, level, scale);
      out.at[i] = &out.adjusted[i];
    }
  });
  return out;
}

std::size_t lowest_level(const CiphertextRefs& xs) {
  std::size_t level = xs[0]->level;
  for (const Ciphertext* x : xs) level = std::min(level, x->level);
  return level;
}

Ciphertext empty_like(const Ciphertext& x, std::size_t level, double scale, std::size_t slots_used) {
  Ciphertext r;
  r.context = x.context;
  r.key_id = x.key_id;
  r.level = level;
  r.scale = scale;
  r.slots_used = slots_used;
  return r;
}

std::size_t max_slots_used(const Aligned& xs) {
  std::size_t used = 0;
  for (const Ciphertext* x : xs.at) used = std::max(used, x->slots_used);
  return used;
}

std::vector<Ciphertext> states_of(const CiphertextRefs& xs) {
  std::vector<Ciphertext> states;
  for (const Ciphertext* x : xs) {
    Ciphertext s;
    s.context = x->context;
    s.slots_used = x->slots_used;
    s.padding = x->padding;
    s.period = x->period;
    s.is_complex = x->is_complex;
    states.push_back(std::move(s));
  }
  return states;
}

void check_level(std::size_t level) {
  SECURINFER_CHECK(level > 0, LevelError,
                   "ciphertexts are at level 0: out of multiplicative depth (use more coefficient primes)");
}

// Bits of q_0 (its bit length) a product kept at level 0 leaves above its
// scale: values up to about 2^(bits - 2) in magnitude decrypt correctly.
constexpr double kLevelZeroHeadroomBits = 3.0;

// At level 0 no prime is left to rescale by, so a product there stays at
// level 0 on the product of its operands' scales. That is allowed where q_0
// holds it with kLevelZeroHeadroomBits to spare: a ring built for one product
// at level 0, one wide prime instead of two limbs (the face gallery's scores:
// half the words per product). Elsewhere it is out of depth, as before.
void check_level_zero_product(const ckks::Context& ctx, double scale) {
  const double q0_bits = std::ilogb(static_cast<double>(ctx.params().q_primes[0])) + 1;   // its bit length
  SECURINFER_CHECK(std::log2(scale) + kLevelZeroHeadroomBits <= q0_bits, LevelError,
                   "ciphertexts are at level 0: out of multiplicative depth (use more coefficient primes; a "
                   "product at level 0 needs q_0 at least " + std::to_string(int(kLevelZeroHeadroomBits)) +
                       " bits above the product of the scales, 2^" + std::to_string(int(std::lround(std::log2(scale)))) + ")");
}

}  // namespace

std::vector<Ciphertext> combine_scalars(const CiphertextRefs& xs_in, const double* weights,
                                        std::size_t n_out) {
  check_operands(xs_in, "combine");
  const std::size_t n_in = xs_in.size();
  for (std::size_t k = 0; k < n_out * n_in; ++k)
    SECURINFER_CHECK(std::isfinite(weights[k]), ParameterError, "combine: weights must be finite");
  const std::size_t level = lowest_level(xs_in);
  check_level(level);
  const auto& ctx = *xs_in.front()->context;
  // Inputs may carry different scales: each weight is scaled so that every
  // product lands on one scale, S = (first input's scale) x (its product scale).
  const auto xs = aligned_at(xs_in, level, ctx.level_scale(level), "combine", /*require_one_scale=*/false);
  const double product_target = xs[0].scale * ckks::product_scale_for(xs[0]);
  const auto& primes = ctx.level_primes(level);
  const std::size_t limbs = level + 1, n = ctx.degree();

  // Each output: its non-zero terms, the weights as integers round(w * S / s_i) mod q.
  struct Row {
    std::vector<std::size_t> inputs;
    std::vector<std::vector<std::uint64_t>> residues;  // [limb][term]
  };
  std::vector<Row> rows(n_out);
  parallel_for(0, n_out, [&](std::size_t j) {
    Row& row = rows[j];
    row.residues.assign(limbs, {});
    for (std::size_t i = 0; i < n_in; ++i) {
      const long double v =
          std::roundl(static_cast<long double>(weights[j * n_in + i]) * (product_target / xs[i].scale));
      if (v == 0) continue;
      SECURINFER_CHECK(std::fabs(static_cast<double>(v)) < 0x1p120, ParameterError,
                       "combine: weight too large for this ciphertext's scale");
      const auto r = ckks::residues_of(v, primes);
      row.inputs.push_back(i);
      for (std::size_t e = 0; e < limbs; ++e) row.residues[e].push_back(r[e]);
    }
  });

  Ciphertext state;
  ckks::set_layout_of_sum_of(state, states_of(xs_in), "combine");
  std::vector<Ciphertext> out(n_out);
  for (std::size_t j = 0; j < n_out; ++j) {
    out[j] = empty_like(xs[0], level, product_target, state.slots_used);
    out[j].padding = state.padding;
    out[j].period = state.period;
    out[j].is_complex = state.is_complex;
    out[j].polys.push_back(ring::RnsPoly::uninitialized(n, limbs));
    out[j].polys.push_back(ring::RnsPoly::uninitialized(n, limbs));
  }
  // One job per (polynomial, limb, chunk of coefficients), every output in
  // it: many jobs even for one output, and the inputs' chunk (inputs x chunk
  // words, ~256 KiB) is read from cache by every output.
  const std::size_t chunk = std::clamp<std::size_t>((std::size_t(32768) / n_in) & ~std::size_t(7), 64, n);
  const std::size_t chunks = (n + chunk - 1) / chunk;
  parallel_for(0, 2 * limbs * chunks, [&](std::size_t job) {
    const std::size_t c = job / (limbs * chunks), e = (job / chunks) % limbs, k0 = (job % chunks) * chunk;
    const std::size_t len = std::min(chunk, n - k0);
    std::vector<const std::uint64_t*> b;
    for (std::size_t j = 0; j < n_out; ++j) {
      const Row& row = rows[j];
      b.resize(row.inputs.size());
      for (std::size_t t = 0; t < b.size(); ++t) b[t] = xs[row.inputs[t]].polys[c].limb(e) + k0;
      eltwise::scalar_accumulate(out[j].polys[c].limb(e) + k0, row.residues[e].data(), b.data(), b.size(), len,
                                 primes[e]->modulus);
    }
  });
  parallel_for(0, n_out, [&](std::size_t j) { ckks::rescale_in_place(out[j]); });
  return out;
}

EncodedColumns::EncodedColumns(const ckks::ContextPtr& context, const double* matrix, std::size_t count,
                               std::size_t width, std::size_t level)
    : context_(context), width_(width), level_(level) {
  SECURINFER_CHECK(count > 0, ParameterError, "columns: the matrix has no rows");
  SECURINFER_CHECK(width > 0 && width <= context->slots(), ParameterError,
                   "columns: width must be 1.." + std::to_string(context->slots()) + " (the slots), got " +
                       std::to_string(width));
  SECURINFER_CHECK(level <= context->max_level(), LevelError,
                   "columns: level must be 0.." + std::to_string(context->max_level()));
  for (std::size_t k = 0; k < count * width; ++k)
    SECURINFER_CHECK(std::isfinite(matrix[k]), ParameterError, "columns: matrix must be finite");
  // The scale that lands a canonical ciphertext of `level` on the canonical scale
  // below; at level 0 (no rescale follows: check_level_zero_product) level 0's own.
  scale_ = level == 0 ? context->level_scale(0)
                      : context->level_scale(level - 1) * static_cast<double>(context->params().q_primes[level]) /
                            context->level_scale(level);
  if (level == 0) check_level_zero_product(*context, scale_ * scale_);
  columns_.resize(count);
  parallel_for(0, count, [&](std::size_t i) {
    std::vector<std::complex<double>> v(matrix + i * width, matrix + (i + 1) * width);
    columns_[i] = std::move(ckks::encode(context_, v.data(), width, level_, scale_).poly);
  });
}

std::size_t EncodedColumns::byte_size() const {
  std::size_t words = 0;
  for (const auto& c : columns_) words += c.words();
  return words * 8;
}

std::vector<Ciphertext> combine_plain_many(const CiphertextRefs& xs_in, const std::vector<const EncodedColumns*>& blocks) {
  check_operands(xs_in, "combine_plain");
  SECURINFER_CHECK(!blocks.empty(), ParameterError, "combine_plain: no columns");
  const EncodedColumns& first = *blocks.front();
  const std::size_t level = first.level();
  for (const EncodedColumns* columns : blocks) {
    SECURINFER_CHECK(xs_in.size() == columns->count(), ParameterError,
                     "combine_plain: " + std::to_string(xs_in.size()) + " ciphertexts for " +
                         std::to_string(columns->count()) + " columns");
    ckks::require_same_parameters(*xs_in.front()->context, *columns->context(),
                                  "combine_plain: ciphertexts and columns");
    SECURINFER_CHECK(columns->level() == level, LevelError, "combine_plain: column sets at different levels");
  }
  for (const Ciphertext* x : xs_in)
    SECURINFER_CHECK(x->level >= level, LevelError,
                     "combine_plain: ciphertext at level " + std::to_string(x->level) + " is below the level " +
                         std::to_string(level) + " the columns were encoded for");
  const auto& ctx = *first.context();
  const auto xs = aligned_at(xs_in, level, ctx.level_scale(level), "combine_plain");
  if (level == 0) check_level_zero_product(ctx, xs[0].scale * first.scale());
  const auto& primes = ctx.level_primes(level);
  const std::size_t limbs = level + 1, n = ctx.degree(), k = xs.at.size();

  std::vector<Ciphertext> ys(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    Ciphertext& y = ys[b];
    y = empty_like(xs[0], level, xs[0].scale * blocks[b]->scale(), std::max(max_slots_used(xs), blocks[b]->width()));
    // Each column is zero past its width, so every product is: zeros past the result.
    y.padding = ckks::Padding::zeros;
    for (const Ciphertext* x : xs.at) y.is_complex = y.is_complex || x->is_complex;
    y.polys.push_back(ring::RnsPoly::uninitialized(n, limbs));
    y.polys.push_back(ring::RnsPoly::uninitialized(n, limbs));
  }
  // Chunk by chunk of coefficients, every block on a chunk before the next:
  // the ciphertexts' chunk (read by every block) stays in cache, and each
  // column chunk is read from memory once for both polynomials. Block by
  // block over whole limbs, the ciphertexts came from memory again for every
  // block: three times the columns' own traffic for a 128-coordinate probe.
  const std::size_t chunk = std::min<std::size_t>(n, 512), chunks = n / chunk;
  parallel_for(0, limbs * chunks, [&](std::size_t job) {
    const std::size_t e = job / chunks, k0 = (job % chunks) * chunk;
    std::vector<const std::uint64_t*> a(k), x0(k), x1(k);
    for (std::size_t t = 0; t < k; ++t) {
      x0[t] = xs[t].polys[0].limb(e) + k0;
      x1[t] = xs[t].polys[1].limb(e) + k0;
    }
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      for (std::size_t t = 0; t < k; ++t) a[t] = blocks[b]->column(t).limb(e) + k0;
      eltwise::dot_accumulate(ys[b].polys[0].limb(e) + k0, a.data(), x0.data(), k, chunk, primes[e]->modulus);
      eltwise::dot_accumulate(ys[b].polys[1].limb(e) + k0, a.data(), x1.data(), k, chunk, primes[e]->modulus);
    }
  });
  if (level > 0)
    for (auto& y : ys) ckks::rescale_in_place(y);
  return ys;
}

Ciphertext combine_plain(const CiphertextRefs& xs, const EncodedColumns& columns) {
  return std::move(combine_plain_many(xs, {&columns}).front());
}

std::vector<Ciphertext> sum_of_products_many(const ckks::KeySet& keys, const CiphertextRefs& as_in,
                                             const std::vector<CiphertextRefs>& blocks) {
  check_operands(as_in, "sum_of_products");
  SECURINFER_CHECK(!blocks.empty(), ParameterError, "sum_of_products: no ciphertexts to multiply by");
  keys.require_usable_with(*as_in.front()->context, as_in.front()->key_id);
  std::size_t level = lowest_level(as_in);
  std::vector<Ciphertext> states(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const CiphertextRefs& bs_in = blocks[b];
    check_operands(bs_in, "sum_of_products");
    ckks::check_compatible(*as_in.front(), *bs_in.front());
    SECURINFER_CHECK(as_in.size() == bs_in.size(), ParameterError,
                     "sum_of_products: " + std::to_string(as_in.size()) + " and " + std::to_string(bs_in.size()) +
                         " ciphertexts");
    std::vector<Ciphertext> products;
    for (std::size_t t = 0; t < as_in.size(); ++t) products.push_back(ckks::layout_of_product(*as_in[t], *bs_in[t]));
    ckks::set_layout_of_sum_of(states[b], products, "sum_of_products");
    level = std::min(level, lowest_level(bs_in));
  }
  const auto& ctx = *as_in.front()->context;
  const auto as = aligned_at(as_in, level, ctx.level_scale(level), "sum_of_products");
  std::vector<Aligned> bss;
  for (const CiphertextRefs& bs_in : blocks) bss.push_back(aligned_at(bs_in, level, ctx.level_scale(level), "sum_of_products"));
  if (level == 0)
    for (const Aligned& bs : bss) check_level_zero_product(ctx, as[0].scale * bs[0].scale);
  const auto& primes = ctx.level_primes(level);
  const std::size_t limbs = level + 1, n = ctx.degree(), k = as.at.size();

  // d0 = sum a0 b0, d1 = sum (a0 b1 + a1 b0), d2 = sum a1 b1 for every
  // block, chunk by chunk of coefficients: the chunk of the a's (read by
  // every block) stays in cache, and each block's chunk is read from memory
  // once for its three sums.
  std::vector<std::array<ring::RnsPoly, 3>> d(blocks.size());
  for (auto& parts : d)
    for (auto& part : parts) part = ring::RnsPoly::uninitialized(n, limbs);
  const std::size_t chunk = std::min<std::size_t>(n, 512), chunks = n / chunk;
  parallel_for(0, limbs * chunks, [&](std::size_t job) {
    const std::size_t e = job / chunks, k0 = (job % chunks) * chunk;
    std::vector<const std::uint64_t*> a(2 * k), b(2 * k);
    for (std::size_t bl = 0; bl < blocks.size(); ++bl) {
      const Aligned& bs = bss[bl];
      for (std::size_t part = 0; part < 3; ++part) {
        std::size_t terms = 0;
        for (std::size_t t = 0; t < k; ++t) {
          if (part <= 1) {
            a[terms] = as[t].polys[0].limb(e) + k0;
            b[terms++] = bs[t].polys[part].limb(e) + k0;
          }
          if (part >= 1) {
            a[terms] = as[t].polys[1].limb(e) + k0;
            b[terms++] = bs[t].polys[part - 1].limb(e) + k0;
          }
        }
        eltwise::dot_accumulate(d[bl][part].limb(e) + k0, a.data(), b.data(), terms, chunk, primes[e]->modulus);
      }
    }
  });
  // Relinearise and rescale each in one step, as a single product does (at
  // level 0, relinearise only: check_level_zero_product).
  std::vector<Ciphertext> ys(blocks.size());
  for (std::size_t bl = 0; bl < blocks.size(); ++bl) {
    auto digits = ckks::decompose(ctx, d[bl][2], level);
    Ciphertext& y = ys[bl];
    const double scale = as[0].scale * bss[bl][0].scale;
    y = empty_like(as[0], level == 0 ? 0 : level - 1,
                   level == 0 ? scale : scale / static_cast<double>(ctx.params().q_primes[level]),
                   states[bl].slots_used);
    y.padding = states[bl].padding;
    y.period = states[bl].period;
    y.is_complex = states[bl].is_complex;
    ring::RnsPoly c0, c1;
    if (level == 0) {
      ring::RnsPoly k0, k1;
      ckks::apply_switch_key(ctx, digits, 0, keys.relin_key(), nullptr, k0, k1);
      c0 = ring::RnsPoly::uninitialized(n, 1);
      c1 = ring::RnsPoly::uninitialized(n, 1);
      ring::add(c0, d[bl][0], k0, primes);
      ring::add(c1, d[bl][1], k1, primes);
    } else {
      ckks::apply_switch_key_rescale(ctx, digits, level, keys.relin_key(), d[bl][0], d[bl][1], c0, c1);
    }
    y.polys.push_back(std::move(c0));
    y.polys.push_back(std::move(c1));
  }
  return ys;
}

Ciphertext sum_of_products(const ckks::KeySet& keys, const CiphertextRefs& as, const CiphertextRefs& bs) {
  return std::move(sum_of_products_many(keys, as, {bs}).front());
}

}  // namespace securinfer::linalg
