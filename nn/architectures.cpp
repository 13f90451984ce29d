#include "nn/architectures.h"

#include <string>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "nn/init.h"
#include "nn/unet.h"

namespace dphys::nn {

namespace {

// Linear → activation [→ BatchNorm] per hidden width, then the linear output layer.
void append_mlp(Sequential& net, std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                const MlpOptions& options, Generator& gen, DType dtype) {
  for (std::int64_t width : hidden) {
    net.add(std::make_shared<Linear>(in, width, gen, true, dtype, options.init));
    net.add(make_activation(options.activation));
    if (options.batch_norm) net.add(std::make_shared<BatchNorm>(width, 1e-5, 0.1, dtype));
    in = width;
  }
  net.add(std::make_shared<Linear>(in, out, gen, true, dtype, options.init));
}

// Glorot weights and zero biases: Keras's Dense defaults, which the HIG and PBDL TensorFlow networks use.
MlpOptions keras_mlp(Activation activation) {
  MlpOptions options;
  options.activation = activation;
  options.zero_bias = true;
  options.init = Init::xavier;
  return options;
}

MlpOptions jpo_mlp() {
  MlpOptions options;
  options.zero_bias = true;
  return options;
}

G2sOptions jpo_g2s() {
  G2sOptions options;
  options.zero_bias = true;
  return options;
}

UNetOptions jpo_unet() {
  UNetOptions options;
  options.zero_bias = true;
  return options;
}

UNetOptions sip_unet(std::int64_t levels) {
  UNetOptions options;
  options.levels = levels;
  options.padding = ConvPadding::circular;
  return options;
}

}  // namespace

std::shared_ptr<Module> make_activation(Activation activation) {
  switch (activation) {
    case Activation::relu:
      return std::make_shared<Lambda>([](const Tensor& x) { return relu(x); });
    case Activation::tanh:
      return std::make_shared<Lambda>([](const Tensor& x) { return tanh(x); });
    case Activation::sigmoid:
      return std::make_shared<Lambda>([](const Tensor& x) { return sigmoid(x); });
  }
  fail("make_activation: unknown activation {}", static_cast<int>(activation));
}

std::shared_ptr<Module> make_conv(int spatial_dims, std::int64_t in, std::int64_t out, std::int64_t kernel,
                                  Generator& gen, Padding padding, ConvPadding mode, DType dtype, Init init) {
  DPHYS_CHECK(spatial_dims == 1 || spatial_dims == 2, "make_conv: spatial_dims must be 1 or 2, got {}",
              spatial_dims);
  if (spatial_dims == 1)
    return std::make_shared<Conv1d>(in, out, kernel, gen, padding, mode, 1, true, dtype, init);
  return std::make_shared<Conv2d>(in, out, kernel, gen, padding, mode, 1, true, dtype, init);
}

void zero_biases(Module& module) {
  NoGradGuard no_grad;
  for (auto& [name, tensor] : module.named_parameters())
    if (name == "bias" || (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0))
      tensor.fill_(0.0);
}

std::shared_ptr<Module> make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                                 Generator& gen, const MlpOptions& options, DType dtype) {
  auto net = std::make_shared<Sequential>();
  std::int64_t features = in;
  if (!options.positional_encoding.empty()) {
    net->add(std::make_shared<PositionalEncoding>(options.positional_encoding));
    features = in * 2 * static_cast<std::int64_t>(options.positional_encoding.size());
  }
  append_mlp(*net, features, hidden, out, options, gen, dtype);
  if (options.zero_bias) zero_biases(*net);
  return net;
}

std::shared_ptr<Module> make_g2s(std::int64_t in_channels, const Shape& spatial_size,
                                 const std::vector<std::int64_t>& block_widths,
                                 const std::vector<std::int64_t>& dense_widths, std::int64_t out,
                                 Generator& gen, const G2sOptions& options, DType dtype) {
  const int dims = static_cast<int>(spatial_size.size());
  DPHYS_CHECK(dims == 1 || dims == 2, "make_g2s: spatial_size must have 1 or 2 entries, got {}",
              shape_str(spatial_size));
  DPHYS_CHECK(!block_widths.empty() && options.convs_per_block >= 1,
              "make_g2s: needs at least one block and one convolution per block, got {} blocks of {}",
              block_widths.size(), options.convs_per_block);
  const std::int64_t scale = std::int64_t{1} << block_widths.size();
  std::int64_t features = block_widths.back();
  for (std::int64_t size : spatial_size) {
    DPHYS_CHECK(size % scale == 0, "make_g2s: spatial size {} is not divisible by 2^{} for {} blocks",
                shape_str(spatial_size), block_widths.size(), block_widths.size());
    features *= size / scale;
  }
  auto net = std::make_shared<Sequential>();
  std::int64_t channels = in_channels;
  for (std::int64_t width : block_widths) {
    if (options.pool_first) net->add(std::make_shared<MaxPool>(2));
    for (std::int64_t i = 0; i < options.convs_per_block; ++i) {
      net->add(make_conv(dims, channels, width, 3, gen, Padding::same, ConvPadding::zeros, dtype));
      if (options.batch_norm) net->add(std::make_shared<BatchNorm>(width, 1e-5, 0.1, dtype));
      net->add(make_activation(Activation::relu));
      channels = width;
    }
    if (!options.pool_first) net->add(std::make_shared<MaxPool>(2));
  }
  net->add(std::make_shared<Flatten>());
  MlpOptions head;
  head.batch_norm = options.batch_norm;
  append_mlp(*net, features, dense_widths, out, head, gen, dtype);
  if (options.zero_bias) zero_biases(*net);
  return net;
}

std::shared_ptr<Module> make_unet(int spatial_dims, std::int64_t in_channels, std::int64_t out_channels,
                                  Generator& gen, const UNetOptions& options, DType dtype) {
  auto net = std::make_shared<UNet>(spatial_dims, in_channels, out_channels, options.levels, options.filters,
                                    options.padding, options.batch_norm, gen, dtype);
  if (options.zero_bias) zero_biases(*net);
  return net;
}

std::shared_ptr<Module> make_jpo_wave_packet_g2s(Generator& gen, DType dtype) {
  return make_g2s(1, {256}, {16, 16, 16, 16, 16}, {64, 32}, 1, gen, jpo_g2s(), dtype);
}

std::shared_ptr<Module> make_jpo_wave_packet_g2g(Generator& gen, DType dtype) {
  return make_unet(1, 2, 1, gen, jpo_unet(), dtype);
}

std::shared_ptr<Module> make_jpo_billiards_s2s(Generator& gen, DType dtype) {
  MlpOptions options = jpo_mlp();
  options.positional_encoding = {1.0, 2.0, 3.0, 4.0};
  return make_mlp(4, {128, 128, 128}, 2, gen, options, dtype);
}

std::shared_ptr<Module> make_jpo_ks_g2s(Generator& gen, DType dtype) {
  return make_g2s(2, {128}, {32, 32, 64, 64}, {64, 64}, 2, gen, jpo_g2s(), dtype);
}

std::shared_ptr<Module> make_jpo_ks_g2g(Generator& gen, DType dtype) {
  return make_unet(1, 3, 1, gen, jpo_unet(), dtype);
}

std::shared_ptr<Module> make_jpo_fluid_g2s(Generator& gen, DType dtype) {
  return make_g2s(2, {64, 32}, {16, 32, 32, 32}, {64, 64}, 3, gen, jpo_g2s(), dtype);
}

std::shared_ptr<Module> make_jpo_fluid_g2g(Generator& gen, DType dtype) {
  return make_unet(2, 5, 2, gen, jpo_unet(), dtype);
}

std::shared_ptr<Module> make_jpo_robot_arm_s2s(Generator& gen, DType dtype) {
  return make_mlp(2, {128, 128, 128}, 4, gen, jpo_mlp(), dtype);
}

std::shared_ptr<Module> make_jpo_response_s2s(Generator& gen, DType dtype) {
  return make_mlp(1, {64, 64}, 1, gen, jpo_mlp(), dtype);
}

std::shared_ptr<Module> make_sip_poisson_unet(Generator& gen, DType dtype) {
  return make_unet(2, 1, 1, gen, sip_unet(4), dtype);
}

std::shared_ptr<Module> make_sip_heat_unet(Generator& gen, DType dtype) {
  return make_sip_poisson_unet(gen, dtype);
}

std::shared_ptr<Module> make_sip_fluid_unet(Generator& gen, DType dtype) {
  return make_unet(2, 2, 2, gen, sip_unet(5), dtype);
}

std::shared_ptr<Module> make_sip_sine_mlp(Generator& gen, DType dtype) {
  return make_mlp(2, {32, 64, 32}, 2, gen, MlpOptions{}, dtype);
}

std::shared_ptr<Module> make_sip_exponential_mlp(Generator& gen, DType dtype) {
  MlpOptions options;
  options.activation = Activation::sigmoid;
  return make_mlp(1, {16, 64, 16}, 1, gen, options, dtype);
}

std::shared_ptr<Module> make_sip_wave_packet_cnn(Generator& gen, DType dtype) {
  G2sOptions options;
  options.convs_per_block = 2;
  options.pool_first = true;
  options.batch_norm = false;
  return make_g2s(1, {256}, {16, 16, 16, 16, 16}, {64, 32}, 1, gen, options, dtype);
}

std::shared_ptr<Module> make_hig_toy_mlp(Generator& gen, DType dtype) {
  return make_mlp(1, {7}, 2, gen, keras_mlp(Activation::tanh), dtype);
}

std::shared_ptr<Module> make_hig_oscillator_mlp(Generator& gen, DType dtype) {
  return make_mlp(4, {20, 20, 20}, 96, gen, keras_mlp(Activation::relu), dtype);
}

std::shared_ptr<Module> make_hig_poisson_mlp(Generator& gen, DType dtype) {
  return make_mlp(64, {64, 256, 64}, 64, gen, keras_mlp(Activation::tanh), dtype);
}

std::shared_ptr<Module> make_hig_dipole_mlp(Generator& gen, DType dtype) {
  return make_mlp(28, {20, 20, 20}, 384, gen, keras_mlp(Activation::tanh), dtype);
}

std::shared_ptr<Module> make_hig_dipole_cnn(Generator& gen, DType dtype) {
  auto net = std::make_shared<Sequential>();
  std::int64_t channels = 2;
  for (int i = 0; i < 6; ++i) {
    net->add(make_conv(1, channels, 20, 3, gen, Padding::valid, ConvPadding::valid, dtype, Init::xavier));
    net->add(make_activation(Activation::tanh));
    channels = 20;
  }
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Linear>(20 * 2, 384, gen, true, dtype, Init::xavier));
  zero_biases(*net);
  return net;
}

std::shared_ptr<Module> make_pbdl_sine_mlp(Generator& gen, DType dtype) {
  return make_mlp(2, {64, 64}, 2, gen, MlpOptions{}, dtype);
}

std::shared_ptr<Module> make_pbdl_oscillator_mlp(Generator& gen, DType dtype) {
  return make_mlp(4, {20, 20, 20}, 24, gen, keras_mlp(Activation::tanh), dtype);
}

}  // namespace dphys::nn
