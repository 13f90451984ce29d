// Bad input raises dphys::Error naming the op and the shapes (or dtypes, devices) involved.
#include "engine/value_check.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

void check_names(const std::string& message, std::initializer_list<const char*> parts) {
  INFO(message);
  for (const char* part : parts) CHECK(contains(message, part));
}

}  // namespace

TEST_CASE("binary ops reject shapes that do not broadcast") {
  const Tensor a = zeros({2, 3}), b = zeros({4});
  check_names(error_message([&] { add(a, b); }), {"add", "[2, 3]", "[4]"});
  check_names(error_message([&] { sub(a, b); }), {"sub", "[2, 3]", "[4]"});
  check_names(error_message([&] { mul(a, b); }), {"mul", "[2, 3]", "[4]"});
  check_names(error_message([&] { div(a, b); }), {"div", "[2, 3]", "[4]"});
  check_names(error_message([&] { maximum(a, b); }), {"maximum", "[2, 3]", "[4]"});
  check_names(error_message([&] { where(a, a, b); }), {"where", "[2, 3]", "[4]"});
}

TEST_CASE("matmul rejects mismatched inner dimensions and dtypes") {
  check_names(error_message([] { matmul(zeros({2, 3}), zeros({4, 5})); }), {"matmul", "[2, 3]", "[4, 5]"});
  check_names(error_message([] {
                matmul(zeros({2, 3}), zeros({3, 5}, DType::f64));
              }),
              {"matmul", "f32", "f64", "[2, 3]", "[3, 5]"});
  check_names(error_message([] { matmul(zeros({3}), zeros({3, 5})); }), {"matmul", "[3]"});
}

TEST_CASE("shape ops reject wrong sizes, axes and permutations") {
  const Tensor x = zeros({2, 3});
  check_names(error_message([&] { reshape(x, {4, 2}); }), {"reshape", "[2, 3]", "[4, 2]"});
  check_names(error_message([&] { reshape(x, {-1, 4}); }), {"reshape", "[2, 3]"});
  check_names(error_message([&] { slice(x, 1, 0, 5); }), {"slice", "[2, 3]"});
  check_names(error_message([&] { permute(x, {0, 0}); }), {"permute", "[0, 0]"});
  check_names(error_message([&] { sum(x, {2}); }), {"sum", "axis 2"});
  check_names(error_message([&] { concat({x, zeros({2, 4})}, 0); }), {"concat", "[2, 3]", "[2, 4]"});
  check_names(error_message([&] { stack({x, zeros({3, 2})}); }), {"stack", "[2, 3]", "[3, 2]"});
  check_names(error_message([&] { pad(x, {{1, 1}}); }), {"pad", "[2, 3]"});
  check_names(error_message([&] { broadcast_to(x, {3, 3}); }), {"broadcast_to", "[2, 3]", "[3, 3]"});
  check_names(error_message([&] { squeeze(x, 0); }), {"squeeze", "[2, 3]"});
}

TEST_CASE("indexing ops reject out-of-range and non-integer indices") {
  const Tensor x = zeros({2, 3});
  const Tensor bad = from_indices({0, 3}, {2});
  check_names(error_message([&] { index_select(x, 1, bad); }), {"index_select", "index 3", "[2, 3]"});
  check_names(error_message([&] { index_select(x, 1, zeros({2})); }), {"index_select", "i64", "f32"});
  const Tensor bad2d = from_indices({0, 1, 5, 0}, {2, 2});
  check_names(error_message([&] { gather(x, 1, bad2d); }), {"gather", "index 5", "[2, 3]"});
  check_names(error_message([&] {
                scatter_add(x, 1, bad2d, zeros({2, 2}));
              }),
              {"scatter_add", "index 5", "[2, 3]"});
  check_names(error_message([&] { gather(x, 1, zeros({2, 2})); }), {"gather", "i64", "f32"});
  check_names(error_message([&] {
                scatter_add(x, 1, zeros({2, 2}), zeros({2, 2}));
              }),
              {"scatter_add", "i64", "f32"});
}

TEST_CASE("creation and element access reject inconsistent requests") {
  check_names(error_message([] { from_vector({1.0, 2.0, 3.0}, {2, 2}); }), {"from_vector", "[2, 2]"});
  check_names(error_message([] { zeros({2}).data<double>(); }), {"data", "f64", "f32", "[2]"});
  check_names(error_message([] { zeros({2, 2}).item(); }), {"item", "[2, 2]"});
  check_names(error_message([] { zeros({-1}); }), {"full", "[-1]"});
}

TEST_CASE("a device this build or machine does not have is named in the error") {
  // Asking for a missing device says which one was refused: cuda:0 without a GPU, cuda:7 in any case.
  if (!cuda_available())
    check_names(error_message([] { zeros({2}, DType::f32, Device::cuda()); }), {"cuda:0"});
  check_names(error_message([] { zeros({2}, DType::f32, Device::cuda(7)); }), {"cuda:7"});
  // Why there is no device is said (a broken driver must not look like a machine without a GPU), and
  // nothing is said when there is one.
  CHECK(cuda_unavailable_reason().empty() == cuda_available());
  if (!cuda_available()) {
    CHECK(contains(cuda_unavailable_reason(), "CUDA"));
    CHECK(contains(error_message([] { zeros({2}, DType::f32, Device::cuda()); }), cuda_unavailable_reason()));
  }
}

TEST_CASE("autodiff misuse is reported, never a silent wrong gradient") {
  Tensor i = from_indices({1, 2}, {2});
  check_names(error_message([&] { i.requires_grad_(); }), {"requires_grad_", "i64", "[2]"});

  Tensor w = ones({2}, DType::f64);
  w.requires_grad_();
  check_names(error_message([&] { w.add_(ones({2}, DType::f64)); }), {"add_", "in-place", "[2]"});
  {
    NoGradGuard no_grad;
    w.add_(ones({2}, DType::f64));  // optimizer-style update: allowed without recording
  }
  CHECK(w.to_vector<double>() == std::vector<double>{2.0, 2.0});

  Tensor x = from_vector({1.0, 2.0}, {2}, DType::f64);
  const Tensor loss = sum(x * w);  // mul saves x for w's gradient
  {
    NoGradGuard no_grad;
    x.mul_(3.0);
  }
  check_names(error_message([&] { backward(loss); }), {"mul", "modified in place"});

  // The same through the grad transform, with the saved weight updated while f runs.
  check_names(error_message([&] {
                grad(
                    [&](const Tensor& v) {
                      const Tensor y = v * w;  // mul saves w for v's gradient
                      {
                        NoGradGuard no_grad;
                        w.add_(ones({2}, DType::f64));
                      }
                      return sum(y);
                    },
                    x);
              }),
              {"mul", "modified in place"});

  const Tensor y = exp(w);  // exp keeps its output
  const Tensor loss2 = sum(y);
  {
    NoGradGuard no_grad;
    y.detach().fill_(0.0);
  }
  check_names(error_message([&] { backward(loss2); }), {"exp", "modified in place"});

  const Tensor loss3 = sum(w * w);
  backward(loss3);
  check_names(error_message([&] { backward(loss3); }), {"already freed"});
  check_names(error_message([&] { backward(w * 2.0); }), {"backward", "[2]"});
  check_names(error_message([&] { grad([](const Tensor& v) { return v * 2.0; }, w); }), {"grad", "[2]"});
}

TEST_CASE("axis, permutation and dtype errors also name the tensor shapes") {
  const Tensor x = zeros({2, 3});
  check_names(error_message([&] { sum(x, {2}); }), {"sum", "[2, 3]"});
  check_names(error_message([&] { permute(x, {0, 0}); }), {"permute", "[2, 3]"});
  check_names(error_message([&] { concat({x, zeros({2, 3}, DType::f64)}); }), {"concat", "[2, 3]"});
}

TEST_CASE("norm names itself, not the sum it is built from") {
  check_names(error_message([] { norm(zeros({2, 3}), {2}); }), {"norm", "[2, 3]"});
}

TEST_CASE("matmul batch mismatch names the operand shapes") {
  check_names(error_message([] {
                matmul(zeros({2, 2, 3}), zeros({3, 3, 2}));
              }),
              {"matmul", "[2, 2, 3]", "[3, 3, 2]"});
}

TEST_CASE("check_finite raises its message for NaN or Inf, in f32 and f64, and passes finite values") {
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    const double big = dtype == DType::f32 ? 3e38 : 1e300;  // finite extremes: 0·x stays 0
    CHECK_NOTHROW(kernel::check_finite(from_vector({-big, 0.0, big}, {3}, dtype), "never raised"));
    CHECK_NOTHROW(kernel::check_finite(zeros({0, 4}, dtype), "never raised"));
    CHECK(contains(error_message([&] {
                     kernel::check_finite(from_vector({1.0, NAN}, {2}, dtype), "x has a NaN");
                   }),
                   "x has a NaN"));
    CHECK(contains(error_message([&] {
                     kernel::check_finite(from_vector({-INFINITY, 1.0}, {2}, dtype), "x has Inf");
                   }),
                   "x has Inf"));
  }
  check_names(error_message([] { kernel::check_finite(zeros({2}, DType::i64), "unused"); }),
              {"check_finite", "i64"});
}
