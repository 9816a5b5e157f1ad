#include "linalg/bsgs.h"

#include <set>

#include "util/errors.h"

namespace securinfer::linalg {

BsgsSplit split_bsgs(const std::vector<std::size_t>& ks, std::size_t slots, std::size_t baby_step) {
  SECURINFER_CHECK(baby_step >= 1 && baby_step <= slots, ParameterError, "baby step must be in [1, slots]");
  BsgsSplit s;
  s.baby_step = baby_step;
  std::set<std::size_t> babies;
  for (std::size_t k : ks) {
    SECURINFER_CHECK(k < slots, ParameterError, "diagonal index out of range");
    const std::size_t i = k % baby_step;
    babies.insert(i);
    s.giants[k - i].push_back(k);
  }
  s.babies.assign(babies.begin(), babies.end());
  return s;
}

double bsgs_cost(const BsgsSplit& s) {
  double cost = 0;
  for (std::size_t i : s.babies) cost += i != 0 ? 1.0 : 0.0;
  for (const auto& g : s.giants) cost += g.first != 0 ? kGiantCost : 0.0;
  return cost;
}

std::size_t choose_baby_step(const std::vector<std::size_t>& ks, std::size_t slots) {
  std::size_t best = 1;
  double best_cost = -1;
  for (std::size_t n1 = 1; n1 <= slots; n1 *= 2) {
    const double c = bsgs_cost(split_bsgs(ks, slots, n1));
    if (best_cost < 0 || c <= best_cost) {
      best_cost = c;
      best = n1;
    }
  }
  return best;
}

}  // namespace securinfer::linalg
