// Differentiates x^2 through the installed library; exits non-zero on a wrong answer.
#include <dphys.h>

int main() {
  const dphys::Tensor x = dphys::from_vector({3.0}, {1}, dphys::DType::f64);
  const dphys::Tensor g = dphys::grad([](const dphys::Tensor& v) { return dphys::sum(v * v); }, x);
  return g.item() == 6.0 ? 0 : 1;
}
