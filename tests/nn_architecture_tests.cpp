// The papers' networks: parameter counts from the experiment specs (shared/experiments/*.md) and output
// shapes.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "nn/architectures.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::nn;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

using Factory = std::function<std::shared_ptr<Module>(Generator&, DType)>;

struct Case {
  std::string name;
  Factory make;
  std::int64_t parameters;  // as the spec states it, or as its layer widths give it
  Shape input, output;      // batch of 2 (BatchNorm in train mode needs more than one value)
};

// Counts from jpo.md §4.5 and acceptance check A.1, sip.md §1.11 and §2.7, hig.md §3.5. Where the spec gives
// only the layer widths, the count is written out from them.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"jpo_wave_packet_g2s", make_jpo_wave_packet_g2s, 13921, {2, 1, 256}, {2, 1}},
      {"jpo_wave_packet_g2g", make_jpo_wave_packet_g2g, 13073, {2, 2, 256}, {2, 1, 256}},
      {"jpo_billiards_s2s", make_jpo_billiards_s2s, 37506, {2, 4}, {2, 2}},
      {"jpo_ks_g2s", make_jpo_ks_g2s, 59650, {2, 2, 128}, {2, 2}},
      {"jpo_ks_g2g", make_jpo_ks_g2g, 13121, {2, 3, 128}, {2, 1, 128}},
      {"jpo_fluid_g2s", make_jpo_fluid_g2s, 44723, {2, 2, 64, 32}, {2, 3}},
      {"jpo_fluid_g2g", make_jpo_fluid_g2g, 38290, {2, 5, 64, 64}, {2, 2, 64, 64}},
      {"jpo_robot_arm_s2s", make_jpo_robot_arm_s2s, 33924, {2, 2}, {2, 4}},
      {"jpo_response_s2s",
       make_jpo_response_s2s,
       (1 * 64 + 64) + (64 * 64 + 64) + (64 * 1 + 1),
       {2, 1},
       {2, 1}},
      {"sip_poisson_unet", make_sip_poisson_unet, 37697, {2, 1, 64, 64}, {2, 1, 64, 64}},
      {"sip_heat_unet", make_sip_heat_unet, 37697, {2, 1, 64, 64}, {2, 1, 64, 64}},
      {"sip_fluid_unet", make_sip_fluid_unet, 49570, {2, 2, 64, 64}, {2, 2, 64, 64}},
      {"sip_sine_mlp", make_sip_sine_mlp, 4354, {2, 2}, {2, 2}},
      {"sip_exponential_mlp", make_sip_exponential_mlp, 2177, {2, 1}, {2, 1}},
      {"sip_wave_packet_cnn", make_sip_wave_packet_cnn, 17489, {2, 1, 256}, {2, 1}},
      {"hig_toy_mlp", make_hig_toy_mlp, 30, {2, 1}, {2, 2}},
      {"hig_oscillator_mlp", make_hig_oscillator_mlp, 2956, {2, 4}, {2, 96}},
      {"hig_poisson_mlp", make_hig_poisson_mlp, 41408, {2, 64}, {2, 64}},
      {"hig_dipole_mlp", make_hig_dipole_mlp, 9484, {2, 28}, {2, 384}},
      {"hig_dipole_cnn", make_hig_dipole_cnn, 21984, {2, 2, 14}, {2, 384}},
      {"pbdl_sine_mlp", make_pbdl_sine_mlp, (2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2), {2, 2}, {2, 2}},
      {"pbdl_oscillator_mlp",
       make_pbdl_oscillator_mlp,
       (4 * 20 + 20) + 2 * (20 * 20 + 20) + (20 * 24 + 24),
       {2, 4},
       {2, 24}},
  };
  return all;
}

bool is_bias(const std::string& name) { return name == "bias" || contains(name, ".bias"); }

const Case& find_case(const std::string& name) {
  const auto found =
      std::find_if(cases().begin(), cases().end(), [&](const Case& c) { return c.name == name; });
  REQUIRE(found != cases().end());
  return *found;
}

std::shared_ptr<Module> build(const std::string& name, std::uint64_t seed = 0, DType dtype = DType::f32) {
  Generator gen(seed);
  return find_case(name).make(gen, dtype);
}

}  // namespace

TEST_CASE("every factory has the spec's parameter count") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    Generator gen(0);
    CHECK(c.make(gen, DType::f32)->num_parameters() == c.parameters);
  }
}

TEST_CASE("every factory maps the spec's input shape to its output shape, in train and eval mode") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    Generator gen(1);
    auto net = c.make(gen, DType::f32);
    const Tensor x = normal(c.input, 0, 1, gen);
    const Tensor y = net->forward(x);
    CHECK(y.shape() == c.output);
    CHECK(y.dtype() == DType::f32);
    CHECK(std::isfinite(test::max_abs(y)));
    net->eval();
    CHECK(net->forward(x).shape() == c.output);
  }
}

TEST_CASE("factories build in f64 and gradients reach every parameter") {
  for (const char* name : {"jpo_wave_packet_g2s", "jpo_fluid_g2g", "jpo_billiards_s2s", "sip_wave_packet_cnn",
                           "hig_dipole_cnn"}) {
    CAPTURE(name);
    auto net = build(name, 2, DType::f64);
    Generator gen(3);
    const Tensor y = net->forward(normal(find_case(name).input, 0, 1, gen, DType::f64));
    CHECK(y.dtype() == DType::f64);
    backward(sum(square(y)));
    for (const auto& [param, tensor] : net->named_parameters()) {
      CAPTURE(param);
      CHECK(tensor.dtype() == DType::f64);
      REQUIRE(tensor.grad().defined());
      CHECK(tensor.grad().shape() == tensor.shape());
    }
  }
}

TEST_CASE("JPO and HIG networks start with zero biases; SIP networks keep PyTorch's default biases") {
  for (const char* name : {"jpo_wave_packet_g2s", "jpo_ks_g2g", "jpo_billiards_s2s", "jpo_robot_arm_s2s",
                           "hig_poisson_mlp", "hig_dipole_cnn", "pbdl_oscillator_mlp"}) {
    CAPTURE(name);
    for (const auto& [param, tensor] : build(name)->named_parameters())
      if (is_bias(param)) CHECK(test::max_abs(tensor) == 0.0);
  }
  // SIP §1.11.1: bias U(±1/√fan_in); the first conv of the 1-channel U-net has fan_in 9.
  const NamedTensors params = build("sip_poisson_unet")->named_parameters();
  REQUIRE(params.size() > 1);
  CHECK(params[0].first == "inc.0.weight");
  CHECK(params[1].first == "inc.0.bias");
  const double bias = test::max_abs(params[1].second);
  CHECK(bias > 0.0);
  CHECK(bias <= 1.0 / 3.0);
}

TEST_CASE("HIG weights are Glorot-uniform") {
  // hig.md §1.10: U(±√(6 / (fan_in + fan_out))); Conv1D fan_in = k·C_in, fan_out = k·C_out.
  const NamedTensors params = build("hig_dipole_cnn")->named_parameters();
  CHECK(params[0].second.shape() == Shape{20, 2, 3});
  const double conv_bound = std::sqrt(6.0 / (3 * 2 + 3 * 20));
  CHECK(test::max_abs(params[0].second) <= conv_bound);
  CHECK(test::max_abs(params[0].second) > 0.8 * conv_bound);
  const Tensor dense = params[params.size() - 2].second;
  CHECK(dense.shape() == Shape{384, 40});
  const double dense_bound = std::sqrt(6.0 / (40 + 384));
  CHECK(test::max_abs(dense) <= dense_bound);
  CHECK(test::max_abs(dense) > 0.9 * dense_bound);
}

TEST_CASE("the same seed builds the same network") {
  const NamedTensors a = build("jpo_ks_g2s", 7)->named_parameters();
  const NamedTensors b = build("jpo_ks_g2s", 7)->named_parameters();
  const NamedTensors c = build("jpo_ks_g2s", 8)->named_parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(test::max_abs_diff(a[i].second, b[i].second) == 0.0);
  }
  CHECK(test::max_abs_diff(a[0].second, c[0].second) > 0.0);
}

TEST_CASE("make_unet's count follows the DoubleConv layout for any levels, filters and dimension") {
  // sip.md §1.11.1: inc = DoubleConv(c_in → f), (L − 1) × down DoubleConv(f → f), (L − 1) × up
  // DoubleConv(2f → f), outc = 1×1 conv (f → c_out); conv3 has k = 3^dims taps, BN 2 parameters per channel.
  for (int dims : {1, 2})
    for (std::int64_t levels : {1, 3, 5})
      for (std::int64_t f : {4, 16})
        for (bool bn : {false, true}) {
          CAPTURE(dims);
          CAPTURE(levels);
          CAPTURE(f);
          CAPTURE(bn);
          const std::int64_t k = dims == 1 ? 3 : 9, in = 3, out = 2;
          const auto double_conv = [&](std::int64_t a, std::int64_t b) {
            return (a * b * k + b) + (b * b * k + b) + (bn ? 4 * b : 0);
          };
          UNetOptions options;
          options.levels = levels;
          options.filters = f;
          options.batch_norm = bn;
          Generator gen(6);
          CHECK(make_unet(dims, in, out, gen, options)->num_parameters() ==
                double_conv(in, f) + (levels - 1) * (double_conv(f, f) + double_conv(2 * f, f)) + f * out +
                    out);
        }
}

TEST_CASE("the U-net concatenates [skip, upsampled] and feeds the skip from the matching resolution") {
  // Two levels, one filter, no BatchNorm, every conv an identity except up1's first, which weighs the skip
  // channel by a and the upsampled channel by b: for x >= 0 the output is relu(a·x + b·up(maxpool(x))).
  Generator gen(7);
  UNetOptions options;
  options.levels = 2;
  options.filters = 1;
  options.batch_norm = false;
  auto net = make_unet(1, 1, 1, gen, options, DType::f64);
  const auto set = [&](double a, double b) {
    NoGradGuard no_grad;
    for (auto& [name, tensor] : net->named_parameters()) {
      if (is_bias(name)) {
        tensor.fill_(0.0);
      } else if (name == "up1.0.weight") {
        REQUIRE(tensor.shape() == Shape{1, 2, 3});
        tensor.copy_(from_vector({0, a, 0, 0, b, 0}, {1, 2, 3}, DType::f64));
      } else if (name == "outc.weight") {
        tensor.fill_(1.0);
      } else {
        REQUIRE(tensor.shape() == Shape{1, 1, 3});
        tensor.copy_(from_vector({0, 1, 0}, {1, 1, 3}, DType::f64));
      }
    }
  };
  const Tensor x = from_vector({0.1, 0.5, 0.3, 0.2, 0.9, 0.4, 0.7, 0.6}, {1, 1, 8}, DType::f64);
  set(1, 0);
  CHECK(test::max_abs_diff(net->forward(x), x) < 1e-15);
  set(0, 1);
  CHECK(test::max_abs_diff(net->forward(x), upsample_linear(max_pool1d(x, 2), 2)) < 1e-15);
}

TEST_CASE("builders reject sizes the pooling cannot halve") {
  Generator gen(5);
  CHECK(contains(error_message([&] { make_g2s(1, {100}, {16, 16, 16}, {8}, 1, gen); }), "make_g2s"));
  auto unet = make_jpo_ks_g2g(gen, DType::f32);
  const std::string message = error_message([&] { unet->forward(zeros({2, 3, 100})); });
  CHECK(contains(message, "UNet"));
  CHECK(contains(message, "[2, 3, 100]"));
  CHECK(contains(error_message([&] { make_unet(3, 1, 1, gen); }), "spatial_dims"));
}
