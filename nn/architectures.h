#pragma once
// The papers' networks: generic builders (MLP, grid-to-scalars CNN, U-net) and one factory per network of the
// experiment specs (shared/experiments/{jpo,sip,hig,pbdl_physgrad}.md), each with the spec's parameter count.
// Every builder draws its weights from the given generator, in construction order.
#include <memory>
#include <vector>

#include "nn/layers.h"

namespace dphys::nn {

enum class Activation { relu, tanh, sigmoid };

// The activation as a parameter-free module.
std::shared_ptr<Module> make_activation(Activation activation);

// Conv1d (spatial_dims = 1) or Conv2d (spatial_dims = 2) with bias. Init::xavier redraws the weight with
// Glorot-uniform (Keras's default, HIG spec §1.10); the bias keeps PyTorch's default.
std::shared_ptr<Module> make_conv(int spatial_dims, std::int64_t in, std::int64_t out, std::int64_t kernel,
                                  Generator& gen, Padding padding = Padding::same,
                                  ConvPadding mode = ConvPadding::zeros, DType dtype = DType::f32,
                                  Init init = Init::pytorch_default);

// Sets every parameter named "bias" (Linear, conv, BatchNorm shift) to zero, as PhiML (JPO spec §4.1) and
// Keras (HIG spec §1.10) initialise them.
void zero_biases(Module& module);

struct MlpOptions {
  Activation activation = Activation::relu;
  // Frequencies of a PositionalEncoding applied to the raw inputs first (JPO spec §4.3); empty for none.
  std::vector<double> positional_encoding;
  // Linear → activation → BatchNorm for each hidden layer (JPO spec §4.2's dense head).
  bool batch_norm = false;
  bool zero_bias = false;
  Init init = Init::pytorch_default;
};

// [B, in] -> [B, out]: Linear → activation per hidden width, then a linear output layer.
std::shared_ptr<Module> make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                                 Generator& gen, const MlpOptions& options = {}, DType dtype = DType::f32);

struct G2sOptions {
  // Each block: convs_per_block × [conv3 → BN → ReLU], then maxpool(2) (JPO spec §4.2); with pool_first,
  // maxpool(2) and then the convolutions (SIP spec §2.7).
  std::int64_t convs_per_block = 1;
  bool pool_first = false;
  // BatchNorm after every convolution and after every hidden dense layer's ReLU.
  bool batch_norm = true;
  bool zero_bias = false;
};

// Grid to scalars (JPO spec §4.2): [B, in_channels, *spatial_size] -> [B, out]. spatial_size has 1 or 2
// entries, which picks 1-D or 2-D convolutions; each must be divisible by 2^blocks. One block per entry of
// block_widths (its output channels), zero-padded 3-wide convolutions, then a channel-major flatten and an
// MLP with ReLU over dense_widths to `out` linear outputs.
std::shared_ptr<Module> make_g2s(std::int64_t in_channels, const Shape& spatial_size,
                                 const std::vector<std::int64_t>& block_widths,
                                 const std::vector<std::int64_t>& dense_widths, std::int64_t out,
                                 Generator& gen, const G2sOptions& options = {}, DType dtype = DType::f32);

struct UNetOptions {
  std::int64_t levels = 4;
  std::int64_t filters = 16;
  ConvPadding padding = ConvPadding::zeros;
  bool batch_norm = true;
  bool zero_bias = false;
};

// Grid to grid (JPO spec §4.4, SIP spec §1.11.1), see nn/unet.h: [B, in, *S] -> [B, out, *S] with 1 or 2
// spatial axes.
std::shared_ptr<Module> make_unet(int spatial_dims, std::int64_t in_channels, std::int64_t out_channels,
                                  Generator& gen, const UNetOptions& options = {}, DType dtype = DType::f32);

// ---- JPO (shared/experiments/jpo.md §4): ReLU, BatchNorm, PyTorch weights, all biases zero ----

// §4.5 wave packet, JPO and supervised: G2S 1-D, u(t) [B, 1, 256] -> t0 [B, 1]; blocks (16 ×5), dense (64,
// 32). 13,921 parameters (the paper's 13,925 is 4 more, ambiguity A17).
std::shared_ptr<Module> make_jpo_wave_packet_g2s(Generator& gen, DType dtype = DType::f32);
// §4.5 wave packet, NA surrogate: U-net 1-D, [t0 map, ε] [B, 2, 256] -> u [B, 1, 256]. 13,073 parameters.
std::shared_ptr<Module> make_jpo_wave_packet_g2g(Generator& gen, DType dtype = DType::f32);
// §4.5 billiards, JPO, supervised and NA surrogate: S2S with positional encoding (frequencies 1..4, A13),
// 4 scalars [B, 4] -> 32 features -> (128, 128, 128) -> [B, 2]. 37,506 parameters.
std::shared_ptr<Module> make_jpo_billiards_s2s(Generator& gen, DType dtype = DType::f32);
// §4.5 Kuramoto–Sivashinsky, JPO and supervised: G2S 1-D, [u0, u25] [B, 2, 128] -> (α, β) [B, 2];
// blocks (32, 32, 64, 64), dense (64, 64). 59,650 parameters.
std::shared_ptr<Module> make_jpo_ks_g2s(Generator& gen, DType dtype = DType::f32);
// §4.5 Kuramoto–Sivashinsky, NA surrogate: U-net 1-D, [u0, α map, β map] [B, 3, 128] -> u25 [B, 1, 128].
// 13,121 parameters.
std::shared_ptr<Module> make_jpo_ks_g2g(Generator& gen, DType dtype = DType::f32);
// §4.5 fluid, JPO and supervised: G2S 2-D, final velocity on the upper half [B, 2, 64, 32] -> (x0, v0x, v0y)
// [B, 3]; blocks (16, 32, 32, 32), dense (64, 64). 44,723 parameters.
std::shared_ptr<Module> make_jpo_fluid_g2s(Generator& gen, DType dtype = DType::f32);
// §4.5 fluid, NA surrogate: U-net 2-D, [u0x, u0y, x0, v0x, v0y maps] [B, 5, 64, 64] -> [B, 2, 64, 64].
// 38,290 parameters.
std::shared_ptr<Module> make_jpo_fluid_g2g(Generator& gen, DType dtype = DType::f32);
// §4.5 / §10 robot arm: S2S, y [B, 2] -> (128, 128, 128) -> x [B, 4], no positional encoding. 33,924
// parameters.
std::shared_ptr<Module> make_jpo_robot_arm_s2s(Generator& gen, DType dtype = DType::f32);
// §5.8 Fig. 2b network response: S2S 1 -> 64 -> 64 -> 1. 4,353 parameters (derived from the layout; the
// spec states no count).
std::shared_ptr<Module> make_jpo_response_s2s(Generator& gen, DType dtype = DType::f32);

// ---- SIP (shared/experiments/sip.md §1.11): PyTorch default initialisation ----

// §1.11.1 / §2.4.4 Poisson: U-net 2-D, 4 levels, 16 filters, circular padding, y* [B, 1, H, W] ->
// x [B, 1, H, W] (H, W divisible by 8; 64×64 in the experiment). 37,697 parameters.
std::shared_ptr<Module> make_sip_poisson_unet(Generator& gen, DType dtype = DType::f32);
// §2.5.4 heat equation: the same U-net as make_sip_poisson_unet. 37,697 parameters.
std::shared_ptr<Module> make_sip_heat_unet(Generator& gen, DType dtype = DType::f32);
// §1.11.1 / §2.6.6 fluid: U-net 2-D, 5 levels, 16 filters, circular padding, (m0, mt) [B, 2, 64, 64] ->
// v0 [B, 2, 64, 64]. 49,570 parameters.
std::shared_ptr<Module> make_sip_fluid_unet(Generator& gen, DType dtype = DType::f32);
// §1.11.2 / §2.3.2 sine: MLP 2 -> 32 -> 64 -> 32 -> 2, ReLU. 4,354 parameters.
std::shared_ptr<Module> make_sip_sine_mlp(Generator& gen, DType dtype = DType::f32);
// §1.11.2 / §2.2 exponential: MLP 1 -> 16 -> 64 -> 16 -> 1, sigmoid. 2,177 parameters.
std::shared_ptr<Module> make_sip_exponential_mlp(Generator& gen, DType dtype = DType::f32);
// §2.7 wave packet: [B, 1, 256] -> raw output o [B, 1] (the caller maps t0 = 25.6 + 102.4·sigmoid(o));
// five blocks of maxpool(2) → conv3(16) → ReLU → conv3(16) → ReLU, then dense 128 -> 64 -> 32 -> 1 (ReLU),
// no BatchNorm. 17,489 parameters.
std::shared_ptr<Module> make_sip_wave_packet_cnn(Generator& gen, DType dtype = DType::f32);

// ---- HIG (shared/experiments/hig.md §2): Glorot-uniform weights, zero biases (§1.10) ----

// §2.1 toy regression (also PBDL spec §2.7, E7): 1 -> 7 tanh -> 2. 30 parameters.
std::shared_ptr<Module> make_hig_toy_mlp(Generator& gen, DType dtype = DType::f32);
// §2.2 coupled oscillators: 4 -> 20 -> 20 -> 20 (ReLU) -> 96 controls. 2,956 parameters.
std::shared_ptr<Module> make_hig_oscillator_mlp(Generator& gen, DType dtype = DType::f32);
// §2.3 Poisson: ρ [B, 64] -> 64 -> 256 -> 64 (tanh) -> φ [B, 64] (the paper's width, A16). 41,408 parameters.
std::shared_ptr<Module> make_hig_poisson_mlp(Generator& gen, DType dtype = DType::f32);
// §2.4 quantum dipole, MLP: 28 reals -> 20 -> 20 -> 20 (tanh) -> 384 controls. 9,484 parameters.
std::shared_ptr<Module> make_hig_dipole_mlp(Generator& gen, DType dtype = DType::f32);
// §2.4 quantum dipole, CNN: (Re, Im) [B, 2, 14] -> six valid conv3(20) with tanh (14 -> 2 positions) ->
// channel-major flatten (40) -> 384 controls. 21,984 parameters.
std::shared_ptr<Module> make_hig_dipole_cnn(Generator& gen, DType dtype = DType::f32);

// ---- PBDL physgrad chapter (shared/experiments/pbdl_physgrad.md §2) ----

// §2.6 E6 SIP sine example, default of ambiguity 16: MLP 2 -> 64 -> 64 -> 2, ReLU, PyTorch init. 4,482
// parameters (derived from the layout; the spec states no count).
std::shared_ptr<Module> make_pbdl_sine_mlp(Generator& gen, DType dtype = DType::f32);
// §2.9 E9 coupled oscillators (TensorFlow, so Glorot weights and zero biases): 4 -> 20 -> 20 -> 20 (tanh) ->
// 24 controls. 1,444 parameters (derived from the layout; the spec states no count).
std::shared_ptr<Module> make_pbdl_oscillator_mlp(Generator& gen, DType dtype = DType::f32);

}  // namespace dphys::nn
