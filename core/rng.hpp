// A seeded random generator whose streams are the same on every platform and
// standard library (xoshiro256** seeded by splitmix64; normals by Box-Muller),
// so a seed reproduces bit-identical arrays everywhere.
#pragma once

#include <cstdint>

namespace strata {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next();
  // Uniform in [0, 1).
  double uniform();
  // Standard normal.
  double normal();
  // A uniformly chosen integer in [0, n).
  uint64_t below(uint64_t n);
  // An independent generator derived from this seed and `stream` (for one
  // layer or one thread), without advancing this one.
  Rng derive(uint64_t stream) const;

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace strata
