#pragma once
// The U-net of PhiML/PhiFlow's `u_net` (JPO spec §4.4, SIP spec §1.11.1), in 1-D or 2-D.
#include <memory>
#include <vector>

#include "nn/layers.h"

namespace dphys::nn {

// inc = DoubleConv(in → f); down_i = maxpool(2) → DoubleConv(f → f) for i = 1..levels−1;
// up_i = ×2 (bi)linear upsampling, concatenation [skip, upsampled] (2f channels), DoubleConv(2f → f), where
// up_1 pairs with the second-coarsest encoder output and up_{levels−1} with inc's; outc = 1×1 conv (f → out),
// no activation. DoubleConv(a → b) = conv3(a → b) → [BN] → ReLU → conv3(b → b) → [BN] → ReLU. Every spatial
// size of the input must be divisible by 2^(levels−1).
class UNet : public Module {
 public:
  UNet(int spatial_dims, std::int64_t in_channels, std::int64_t out_channels, std::int64_t levels,
       std::int64_t filters, ConvPadding padding, bool batch_norm, Generator& gen, DType dtype = DType::f32);
  // [B, in, L] -> [B, out, L] (1-D) or [B, in, H, W] -> [B, out, H, W] (2-D).
  Tensor forward(const Tensor& x) override;

 private:
  int spatial_dims_;
  std::shared_ptr<Module> inc_, outc_;
  std::vector<std::shared_ptr<Module>> down_, up_;
};

}  // namespace dphys::nn
