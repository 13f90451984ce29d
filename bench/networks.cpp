// Network training steps: the SIP heat U-net (4 levels, 16 filters, batch norm, circular padding, 64×64) and
// the SIP sine MLP (2 → 32 → 64 → 32 → 2), f32, with Adam. Prints `dphys <workload> <value> <unit>`;
// bench/networks_torch.py runs the same networks in PyTorch. Usage: bench_networks [unet batch, default 128]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "bench/timing.h"
#include "dphys.h"
#include "nn/architectures.h"
#include "optim/adam.h"

using namespace dphys;
using bench::median_ms;

namespace {

void train_step(nn::Module& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& y) {
  optimizer.zero_grad();
  backward(sum(square(model(x) - y)));
  optimizer.step();
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t batch = argc > 1 ? std::atoll(argv[1]) : 128;
  Generator gen(0);
  auto unet = nn::make_sip_heat_unet(gen);
  std::printf("dphys unet_parameters %lld count\n", static_cast<long long>(unet->num_parameters()));
  const Tensor x = normal({batch, 1, 64, 64}, 0, 1, gen), y = normal({batch, 1, 64, 64}, 0, 1, gen);
  optim::Adam adam(unet->parameters());
  std::printf("dphys unet_64x64_batch%lld_step %.1f ms\n", static_cast<long long>(batch),
              median_ms(3, [&] { train_step(*unet, adam, x, y); }));

  auto mlp = nn::make_sip_sine_mlp(gen);
  const Tensor xs = normal({128, 2}, 0, 1, gen), ys = normal({128, 2}, 0, 1, gen);
  optim::Adam mlp_adam(mlp->parameters());
  std::printf("dphys mlp_4354_batch128_step %.3f ms\n",
              median_ms(51, [&] { train_step(*mlp, mlp_adam, xs, ys); }));
  return 0;
}
