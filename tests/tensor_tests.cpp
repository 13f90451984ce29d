// Engine values against hand-computed results.
#include <cmath>

#include "engine/allocator.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::max_abs_diff;

namespace {

std::vector<double> values(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }
Tensor f64(std::vector<double> v, Shape shape) { return from_vector(v, shape, DType::f64); }

}  // namespace

TEST_CASE("creation") {
  CHECK(zeros({2, 3}).shape() == Shape{2, 3});
  CHECK(zeros({2, 3}).dtype() == DType::f32);
  CHECK(values(ones({3})) == std::vector<double>{1, 1, 1});
  CHECK(values(full({2}, 2.5, DType::f64)) == std::vector<double>{2.5, 2.5});
  CHECK(values(arange(1, 7, 2)) == std::vector<double>{1, 3, 5});
  CHECK(values(arange(3, 0, -1)) == std::vector<double>{3, 2, 1});
  CHECK(arange(0, 4, 1, DType::i64).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(values(linspace(0, 1, 5, DType::f64)) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(scalar(4.0).dim() == 0);
  CHECK(scalar(4.0).item() == 4.0);
  CHECK(from_indices({4, 5}, {2}).dtype() == DType::i64);
}

TEST_CASE("random draws are reproducible from the seed and have the right statistics") {
  Generator a(42), b(42), c(43);
  const Tensor x = normal({100000}, 1.0, 2.0, a, DType::f64);
  CHECK(max_abs_diff(x, normal({100000}, 1.0, 2.0, b, DType::f64)) == 0.0);
  CHECK(max_abs_diff(x, normal({100000}, 1.0, 2.0, c, DType::f64)) > 0.1);
  CHECK(mean(x).item() == doctest::Approx(1.0).epsilon(0.02));
  CHECK(std::sqrt(mean(square(x - 1.0)).item()) == doctest::Approx(2.0).epsilon(0.02));
  // A second draw from the same generator continues the stream instead of repeating it.
  CHECK(max_abs_diff(normal({100000}, 1.0, 2.0, a, DType::f64), x) > 0.1);
  const Tensor u = uniform({100000}, -3.0, 5.0, a);
  CHECK(min(u).item() >= -3.0);
  CHECK(max(u).item() < 5.0);
  CHECK(mean(u).item() == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("unary ops") {
  const Tensor x = f64({-1.0, 0.0, 2.0}, {3});
  CHECK(values(neg(x)) == std::vector<double>{1, 0, -2});
  CHECK(values(exp(x))[2] == doctest::Approx(7.38905609893065));
  CHECK(values(log(f64({1.0, std::exp(2.0)}, {2})))[1] == doctest::Approx(2.0));
  CHECK(values(sqrt(f64({4.0, 9.0}, {2}))) == std::vector<double>{2, 3});
  CHECK(values(sin(f64({M_PI / 2}, {1})))[0] == doctest::Approx(1.0));
  CHECK(values(cos(f64({M_PI}, {1})))[0] == doctest::Approx(-1.0));
  CHECK(values(tanh(f64({0.5}, {1})))[0] == doctest::Approx(0.46211715726000974));
  CHECK(values(sigmoid(x))[1] == 0.5);
  CHECK(values(relu(x)) == std::vector<double>{0, 0, 2});
  CHECK(values(abs(x)) == std::vector<double>{1, 0, 2});
  CHECK(values(sign(x)) == std::vector<double>{-1, 0, 1});
  CHECK(values(square(x)) == std::vector<double>{1, 0, 4});
  CHECK(values(clamp(x, -0.5, 1.0)) == std::vector<double>{-0.5, 0, 1});
}

TEST_CASE("binary ops broadcast like NumPy and promote dtypes") {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 1, 3});
  const Tensor b = f64({10, 20, 30, 40}, {4, 1});
  const Tensor c = a + b;
  REQUIRE(c.shape() == Shape{2, 4, 3});
  const auto v = values(c);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) CHECK(v[(i * 4 + j) * 3 + k] == (i * 3 + k + 1) + 10.0 * (j + 1));
  CHECK(values(f64({1, 2}, {2}) * 3.0) == std::vector<double>{3, 6});
  CHECK(values(1.0 - f64({1, 2}, {2})) == std::vector<double>{0, -1});
  CHECK(values(f64({1, 8}, {2}) / f64({2}, {1})) == std::vector<double>{0.5, 4});
  CHECK(values(pow(f64({2, 3}, {2}), 2.0)) == std::vector<double>{4, 9});
  CHECK(values(maximum(f64({1, 5}, {2}), f64({3, 2}, {2}))) == std::vector<double>{3, 5});
  CHECK(values(minimum(f64({1, 5}, {2}), f64({3, 2}, {2}))) == std::vector<double>{1, 2});
  CHECK((ones({2}) + ones({2}, DType::f64)).dtype() == DType::f64);
}

TEST_CASE("comparisons return 0/1 and where selects") {
  const Tensor a = f64({1, 2, 3}, {3}), b = f64({2, 2, 2}, {3});
  CHECK(values(eq(a, b)) == std::vector<double>{0, 1, 0});
  CHECK(values(ne(a, b)) == std::vector<double>{1, 0, 1});
  CHECK(values(lt(a, b)) == std::vector<double>{1, 0, 0});
  CHECK(values(le(a, b)) == std::vector<double>{1, 1, 0});
  CHECK(values(gt(a, b)) == std::vector<double>{0, 0, 1});
  CHECK(values(ge(a, b)) == std::vector<double>{0, 1, 1});
  CHECK(values(where(gt(a, b), a, f64({-1}, {1}))) == std::vector<double>{-1, -1, 3});
}

TEST_CASE("reductions over axes with keepdims") {
  const Tensor x = f64({1, 5, 3, 4, 2, 6}, {2, 3});
  CHECK(sum(x).item() == 21);
  CHECK(values(sum(x, {0})) == std::vector<double>{5, 7, 9});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
  CHECK(values(sum(x, {-1})) == std::vector<double>{9, 12});
  CHECK(values(mean(x, {1})) == std::vector<double>{3, 4});
  CHECK(values(max(x, {1})) == std::vector<double>{5, 6});
  CHECK(values(min(x, {0})) == std::vector<double>{1, 2, 3});
  CHECK(argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2});
  CHECK(argmax(x, 0, true).shape() == Shape{1, 3});
  CHECK(norm(f64({3, 4}, {2})).item() == 5.0);
  CHECK(values(sum_to(x, {1, 3})) == std::vector<double>{5, 7, 9});
  CHECK(values(broadcast_to(f64({1, 2}, {2, 1}), {2, 2})) == std::vector<double>{1, 1, 2, 2});
}

TEST_CASE("large inputs take the parallel path and agree with a plain loop") {
  Generator gen(8);
  const std::int64_t n = 1 << 20;
  const Tensor a = uniform({n}, -1, 1, gen, DType::f64), b = uniform({n}, -1, 1, gen, DType::f64);
  const auto pa = a.to_vector<double>(), pb = b.to_vector<double>(), product = (a * b).to_vector<double>();
  double dot = 0.0;
  bool same = true;
  for (std::int64_t i = 0; i < n; ++i) {
    same = same && product[i] == pa[i] * pb[i];
    dot += pa[i] * pb[i];
  }
  CHECK(same);
  CHECK(sum(a * b).item() == doctest::Approx(dot).epsilon(1e-12));
  const Tensor rows = reshape(a, {1024, 1024});
  const auto row_sums = sum(rows, {1}).to_vector<double>();
  double first = 0.0;
  for (int j = 0; j < 1024; ++j) first += pa[j];
  CHECK(row_sums[0] == doctest::Approx(first).epsilon(1e-12));
}

TEST_CASE("reshape shares storage; permute, transpose, slice") {
  const Tensor x = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  const Tensor r = reshape(x, {3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.storage() == x.storage());
  CHECK(values(transpose(x)) == std::vector<double>{0, 3, 1, 4, 2, 5});
  const Tensor y = reshape(arange(0, 24, 1, DType::f64), {2, 3, 4});
  const Tensor p = permute(y, {2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(values(p)[1 * 6 + 1 * 3 + 2] == 1 * 12 + 2 * 4 + 1);  // p[1,1,2] = y[1,2,1]
  CHECK(values(slice(arange(0, 10, 1, DType::f64), 0, 1, 8, 3)) == std::vector<double>{1, 4, 7});
  CHECK(values(slice(x, 1, -2, 3)) == std::vector<double>{1, 2, 4, 5});
  CHECK(values(flatten(x)).size() == 6);
  CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 3});
  CHECK(squeeze(unsqueeze(x, 2), -1).shape() == Shape{2, 3});
}

TEST_CASE("index_select, gather, scatter_add") {
  const Tensor x = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  CHECK(values(index_select(x, 1, from_indices({2, 0, 2}, {3}))) == std::vector<double>{2, 0, 2, 5, 3, 5});
  CHECK(values(index_select(x, 0, from_indices({1}, {1}))) == std::vector<double>{3, 4, 5});
  CHECK(values(gather(x, 1, from_indices({1, 1, 0, 2}, {2, 2}))) == std::vector<double>{1, 1, 3, 5});
  // Repeated indices accumulate.
  const Tensor s = scatter_add(zeros({2, 3}, DType::f64), 1, from_indices({0, 0, 2, 1}, {2, 2}),
                               f64({1, 2, 3, 4}, {2, 2}));
  CHECK(values(s) == std::vector<double>{3, 0, 0, 0, 4, 3});
}

TEST_CASE("pad in constant, periodic and edge modes") {
  const Tensor x = f64({1, 2, 3}, {3});
  CHECK(values(pad(x, {{2, 1}}, PadMode::constant, 9)) == std::vector<double>{9, 9, 1, 2, 3, 9});
  CHECK(values(pad(x, {{2, 4}}, PadMode::periodic)) == std::vector<double>{2, 3, 1, 2, 3, 1, 2, 3, 1});
  CHECK(values(pad(x, {{2, 1}}, PadMode::edge)) == std::vector<double>{1, 1, 1, 2, 3, 3});
  const Tensor m = f64({1, 2, 3, 4}, {2, 2});
  CHECK(values(pad(m, {{1, 0}, {0, 1}}, PadMode::periodic)) ==
        std::vector<double>{3, 4, 3, 1, 2, 1, 3, 4, 3});
  CHECK(values(pad(m, {{0, 1}, {1, 0}})) == std::vector<double>{0, 1, 2, 0, 3, 4, 0, 0, 0});
}

TEST_CASE("concat, stack, roll, flip") {
  const Tensor a = f64({1, 2}, {1, 2}), b = f64({3, 4, 5, 6}, {2, 2});
  CHECK(values(concat({a, b}, 0)) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(values(concat({b, b}, 1)) == std::vector<double>{3, 4, 3, 4, 5, 6, 5, 6});
  const Tensor s = stack({f64({1, 2}, {2}), f64({3, 4}, {2})}, 1);
  CHECK(s.shape() == Shape{2, 2});
  CHECK(values(s) == std::vector<double>{1, 3, 2, 4});
  const Tensor x = f64({1, 2, 3, 4}, {4});
  CHECK(values(roll(x, 1, 0)) == std::vector<double>{4, 1, 2, 3});
  CHECK(values(roll(x, -1, 0)) == std::vector<double>{2, 3, 4, 1});
  CHECK(values(roll(x, 6, 0)) == std::vector<double>{3, 4, 1, 2});
  CHECK(values(flip(b, 1)) == std::vector<double>{4, 3, 6, 5});
}

TEST_CASE("matmul: 2-D by hand, batched with broadcast batch axes against a naive loop") {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64({7, 8, 9, 10, 11, 12}, {3, 2});
  CHECK(values(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
  Generator gen(2);
  const Tensor x = normal({2, 1, 3, 4}, 0, 1, gen, DType::f64), y = normal({5, 4, 2}, 0, 1, gen, DType::f64);
  const Tensor z = matmul(x, y);
  REQUIRE(z.shape() == Shape{2, 5, 3, 2});
  const auto px = values(x), py = values(y), pz = values(z);
  double worst = 0.0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 5; ++j)
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 2; ++c) {
          double expected = 0.0;
          for (int k = 0; k < 4; ++k) expected += px[(i * 3 + r) * 4 + k] * py[(j * 4 + k) * 2 + c];
          worst = std::max(worst, std::abs(pz[((i * 5 + j) * 3 + r) * 2 + c] - expected));
        }
  CHECK(worst < 1e-12);
}

TEST_CASE("casts, host copies, printing") {
  const Tensor x = f64({1.5, -2.25}, {2});
  CHECK(cast(x, DType::f32).to_vector<float>() == std::vector<float>{1.5f, -2.25f});
  CHECK(values(cast(cast(x, DType::f32), DType::f64)) == std::vector<double>{1.5, -2.25});
  const std::string text = f64({1, 2, 3, 4}, {2, 2}).str();
  CHECK(contains(text, "shape=[2, 2]"));
  CHECK(contains(text, "[[1, 2],\n [3, 4]]"));
  CHECK(contains(zeros({5000}).str(), "..."));
  CHECK(contains(fmt::format("{}", scalar(7.0)), "7"));
}

TEST_CASE("clone copies, detach shares; in-place writes change values and bump the version") {
  Tensor x = f64({1, 2}, {2});
  const Tensor copy = x.clone(), alias = x.detach();
  CHECK(copy.storage() != x.storage());
  CHECK(alias.storage() == x.storage());
  const auto v0 = x.storage()->version();
  x.add_(f64({10, 20}, {2}), 0.5);
  CHECK(values(x) == std::vector<double>{6, 12});
  x.mul_(2.0);
  CHECK(values(alias) == std::vector<double>{12, 24});
  x.copy_(f64({7, 8}, {2}));
  x.fill_(3.0);
  CHECK(values(x) == std::vector<double>{3, 3});
  CHECK(x.storage()->version() == v0 + 4);
  CHECK(values(copy) == std::vector<double>{1, 2});
}

TEST_CASE("complex tensors: creation, casts and arithmetic") {
  const Tensor a = cast(f64({1, 2}, {2}), DType::c128);
  CHECK(a.dtype() == DType::c128);
  CHECK(zeros({3}, DType::c64).dtype() == DType::c64);
  const Tensor b = a * a + a;
  const c128* p = b.data<c128>();
  CHECK(p[1] == c128(6, 0));
  Tensor i = zeros({1}, DType::c128);
  i.data<c128>()[0] = c128(0, 1);
  const c128 product = (i * i).data<c128>()[0];
  CHECK(product == c128(-1, 0));
  CHECK(contains(test::error_message([&] { cast(i, DType::f64); }), "imaginary"));
}

TEST_CASE("freed storage is cached by size and reused") {
  host_cache_clear();
  const void* first = nullptr;
  {
    const Tensor a = zeros({1000}, DType::f64);
    first = a.raw_data();
  }
  CHECK(host_cache_bytes() >= 8000);
  const Tensor b = ones({1000}, DType::f64);
  CHECK(b.raw_data() == first);
  CHECK(values(b) == std::vector<double>(1000, 1.0));
  host_cache_clear();
  CHECK(host_cache_bytes() == 0);
}
