// Wave-packet signal model (jpo.md §6.1, sip.md §2.7): values at hand-computed samples, time axes, gradient.
#include <cmath>

#include "solvers/wave_packet.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

TEST_CASE("wave packet: shape and values at hand-computed samples") {
  // t0 = 100 puts the zero crossing on sample t = 100 (index 99 on JPO's axis t = 1..256). The second packet
  // is shifted so that t = 100 sits a quarter period after t0, on the crest: sin = 1, envelope e^{−d²/800}.
  const double quarter = M_PI / (2 * 0.7);
  const Tensor t0 = from_vector({100.0, 100.0 - quarter, 50.3}, {3}, DType::f64);
  const Tensor u = wave_packet(t0);
  REQUIRE(u.shape() == Shape{3, 256});
  const std::vector<double> v = u.to_vector<double>();
  CHECK(std::abs(v[99]) < 1e-15);
  CHECK(v[256 + 99] == doctest::Approx(std::exp(-quarter * quarter / 800)).epsilon(1e-14));
  CHECK(v[2 * 256 + 59] == doctest::Approx(std::sin(0.7 * 9.7) * std::exp(-9.7 * 9.7 / 800)).epsilon(1e-14));
  // Far from the packet the envelope has decayed: e^{−150²/800} ≈ 6e-13.
  CHECK(std::abs(v[255]) < 1e-12);
  CHECK(max_abs(u) <= 1.0);
}

TEST_CASE("wave packet: SIP's time axis t = 0..255 is the JPO axis shifted by one sample") {
  WavePacketConfig sip;
  sip.first_time = 0;
  const Tensor t0 = from_vector({40.5, 77.25}, {2}, DType::f64);
  CHECK(max_abs_diff(wave_packet(t0, sip), wave_packet(t0 + 1.0)) < 1e-14);
  CHECK(max_abs_diff(wave_packet(cast(t0, DType::f32)), wave_packet(t0)) < 1e-5);
}

TEST_CASE("wave packet: gradient of the fitting loss matches finite differences in f64") {
  Generator gen(21);
  const Tensor t0 = uniform({6}, 26, 230, gen, DType::f64);
  const Tensor observed =
      wave_packet(uniform({6}, 26, 230, gen, DType::f64)) + normal({6, 256}, 0, 0.1, gen, DType::f64);
  const Function loss = [&](const std::vector<Tensor>& v) {
    return sum(square(wave_packet(v[0]) - observed));
  };
  const Tensor g = grad(loss, {t0})[0];
  const Tensor fd = finite_difference_gradient(loss, {t0}, 0);
  const double error = max_abs_diff(g, fd) / max_abs(fd);
  MESSAGE("relative error " << error << " (|fd|max " << max_abs(fd) << ")");
  CHECK(error < 1e-7);
}

TEST_CASE("wave packet: wrong shapes and dtypes are errors") {
  CHECK(contains(error_message([] {
                   wave_packet(zeros({4, 1}, DType::f64));
                 }),
                 "t0 must be [B], got shape [4, 1]"));
  CHECK(
      contains(error_message([] { wave_packet(from_indices({3}, {1})); }), "t0 must be f32 or f64, got i64"));
  WavePacketConfig bad;
  bad.width = 0;
  CHECK(contains(error_message([&] { wave_packet(zeros({1}, DType::f64), bad); }), "invalid configuration"));
}
