#include "nn/unet.h"

#include <string>

#include "autodiff/ops.h"
#include "nn/architectures.h"

namespace dphys::nn {

namespace {

std::shared_ptr<Sequential> double_conv(int dims, std::int64_t in, std::int64_t out, ConvPadding padding,
                                        bool batch_norm, Generator& gen, DType dtype) {
  auto block = std::make_shared<Sequential>();
  for (std::int64_t channels : {in, out}) {
    block->add(make_conv(dims, channels, out, 3, gen, Padding::same, padding, dtype));
    if (batch_norm) block->add(std::make_shared<BatchNorm>(out, 1e-5, 0.1, dtype));
    block->add(make_activation(Activation::relu));
  }
  return block;
}

}  // namespace

UNet::UNet(int spatial_dims, std::int64_t in_channels, std::int64_t out_channels, std::int64_t levels,
           std::int64_t filters, ConvPadding padding, bool batch_norm, Generator& gen, DType dtype)
    : spatial_dims_(spatial_dims) {
  DPHYS_CHECK(spatial_dims == 1 || spatial_dims == 2, "UNet: spatial_dims must be 1 or 2, got {}",
              spatial_dims);
  DPHYS_CHECK(levels >= 1 && filters >= 1, "UNet: needs levels >= 1 and filters >= 1, got {} and {}", levels,
              filters);
  inc_ = register_module("inc",
                         double_conv(spatial_dims, in_channels, filters, padding, batch_norm, gen, dtype));
  for (std::int64_t i = 1; i < levels; ++i) {
    auto down = std::make_shared<Sequential>();
    down->add(std::make_shared<MaxPool>(2));
    down->add(double_conv(spatial_dims, filters, filters, padding, batch_norm, gen, dtype));
    down_.push_back(register_module("down" + std::to_string(i), down));
  }
  for (std::int64_t i = 1; i < levels; ++i)
    up_.push_back(register_module("up" + std::to_string(i), double_conv(spatial_dims, 2 * filters, filters,
                                                                        padding, batch_norm, gen, dtype)));
  outc_ = register_module("outc", make_conv(spatial_dims, filters, out_channels, 1, gen, Padding::valid,
                                            ConvPadding::valid, dtype));
}

Tensor UNet::forward(const Tensor& x) {
  DPHYS_CHECK(x.dim() == spatial_dims_ + 2, "UNet: expected a [batch, channels] + {}-D input, got shape {}",
              spatial_dims_, shape_str(x.shape()));
  const std::int64_t scale = std::int64_t{1} << down_.size();
  for (int d = 2; d < x.dim(); ++d)
    DPHYS_CHECK(x.shape()[d] % scale == 0,
                "UNet: input shape {} has a spatial size not divisible by 2^(levels-1) = {}",
                shape_str(x.shape()), scale);
  std::vector<Tensor> encoded{inc_->forward(x)};
  for (const auto& down : down_) encoded.push_back(down->forward(encoded.back()));
  Tensor y = encoded.back();
  for (std::size_t i = 0; i < up_.size(); ++i) {
    const Tensor& skip = encoded[encoded.size() - 2 - i];
    y = up_[i]->forward(concat({skip, upsample_linear(y, 2)}, 1));
  }
  return outc_->forward(y);
}

}  // namespace dphys::nn
