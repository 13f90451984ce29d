#include "autodiff/transforms.h"

#include <mutex>
#include <set>

#include "autodiff/backward.h"
#include "autodiff/node.h"
#include "autodiff/ops.h"

namespace dphys {

namespace {

// How many transforms enclose the current code. A derivative taken inside another transform must be
// recorded, because the enclosing one will differentiate it.
thread_local int transform_depth = 0;

class TracingScope {
 public:
  TracingScope() : recording_(true) { ++transform_depth; }
  ~TracingScope() { --transform_depth; }
  TracingScope(const TracingScope&) = delete;
  TracingScope& operator=(const TracingScope&) = delete;

 private:
  GradModeGuard recording_;
};

bool must_record_derivative(const std::vector<Tensor>& xs) {
  return GradMode::enabled() && (transform_depth > 0 || needs_grad(xs));
}

// Handles on xs that a reverse pass can target. A tensor with history gets an identity node on top, so the
// derivative stays connected to that history.
std::vector<Tensor> track(const std::vector<Tensor>& xs) {
  std::vector<Tensor> tracked;
  for (const Tensor& x : xs) {
    if (x.requires_grad()) {
      tracked.push_back(
          record("input", {x}, x, [](const Tensor& g, const Tensor&) { return std::vector<Tensor>{g}; }));
    } else if (!is_floating(x.dtype())) {
      tracked.push_back(x.detach());  // indices: no gradient to take (checkpoint passes them along)
    } else {
      Tensor leaf = x.detach();
      leaf.requires_grad_();
      tracked.push_back(leaf);
    }
  }
  return tracked;
}

Tensor trace(const Function& f, const std::vector<Tensor>& tracked, const char* transform) {
  Tensor y;
  {
    TracingScope scope;
    y = f(tracked);
  }
  DPHYS_CHECK(y.defined(), "{}: the function returned an undefined tensor", transform);
  return y;
}

std::vector<Tensor> zeros_where_undefined(std::vector<Tensor> grads, const std::vector<Tensor>& xs) {
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = zeros_like(xs[i]);
  return grads;
}

const char* intern(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  return names.insert(name).first->c_str();
}

Tensor make_custom(const char* name, const std::vector<Tensor>& inputs, const Function& forward,
                   CustomBackward backward, KeepOutput keep) {
  std::vector<Tensor> detached;
  for (const Tensor& x : inputs) detached.push_back(x.detach());
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward(detached);
  }
  DPHYS_CHECK(out.defined(), "{}: forward returned an undefined tensor", name);
  out = out.detach();
  if (!needs_grad(inputs)) return out;
  std::vector<Saved> saved(inputs.begin(), inputs.end());
  return record(
      name, inputs, out,
      [name, saved, backward = std::move(backward)](const Tensor& g, const Tensor& y) {
        std::vector<Tensor> ins;
        for (const Saved& s : saved) ins.push_back(s.get());
        std::vector<Tensor> grads = backward(g, ins, y);
        DPHYS_CHECK(grads.size() == ins.size(), "{}: backward returned {} gradients for {} inputs", name,
                    grads.size(), ins.size());
        // When the backward pass is itself recorded with a cotangent that has history (jvp's dummy
        // cotangent), a gradient that is linear in g yet has no history was computed without recording: its
        // derivative, the jvp, would silently be zero. (Reverse-over-reverse HVPs cannot be checked this
        // way: their seed has no history, and a linear op's gradient legitimately has none either.)
        if (GradMode::enabled() && g.requires_grad())
          for (std::size_t i = 0; i < grads.size(); ++i)
            DPHYS_CHECK(
                !grads[i].defined() || grads[i].requires_grad() || !ins[i].requires_grad() ||
                    !is_floating(grads[i].dtype()) || max(abs(grads[i].detach())).item() == 0.0,
                "{}: its backward ran without recording, so derivatives of its gradient (jvp) are not "
                "available; write the backward with differentiable ops",
                name);
        return grads;
      },
      keep);
}

}  // namespace

std::pair<Tensor, std::vector<Tensor>> vjp(const Function& f, const std::vector<Tensor>& xs,
                                           const Tensor& cotangent) {
  BackwardOptions options;
  options.create_graph = must_record_derivative(xs);
  const std::vector<Tensor> tracked = track(xs);
  Tensor y = trace(f, tracked, "vjp");
  if (cotangent.defined())
    DPHYS_CHECK(cotangent.shape() == y.shape(), "vjp: cotangent of shape {} for an output of shape {}",
                shape_str(cotangent.shape()), shape_str(y.shape()));
  else
    DPHYS_CHECK(y.numel() == 1, "grad: the function returned shape {}; it must return one element",
                shape_str(y.shape()));
  std::vector<Tensor> grads = run_backward({y}, {cotangent}, tracked, options);
  return {options.create_graph ? y : y.detach(), zeros_where_undefined(std::move(grads), xs)};
}

std::pair<Tensor, std::vector<Tensor>> value_and_grad(const Function& f, const std::vector<Tensor>& xs) {
  return vjp(f, xs, Tensor());
}

std::vector<Tensor> grad(const Function& f, const std::vector<Tensor>& xs) {
  return vjp(f, xs, Tensor()).second;
}

Tensor grad(const UnaryFunction& f, const Tensor& x) {
  return grad([&f](const std::vector<Tensor>& v) { return f(v[0]); }, std::vector<Tensor>{x})[0];
}

std::pair<Tensor, Tensor> jvp(const Function& f, const std::vector<Tensor>& xs,
                              const std::vector<Tensor>& tangents) {
  DPHYS_CHECK(xs.size() == tangents.size(), "jvp: {} inputs but {} tangents", xs.size(), tangents.size());
  for (std::size_t i = 0; i < xs.size(); ++i)
    DPHYS_CHECK(xs[i].shape() == tangents[i].shape(), "jvp: tangent {} has shape {} for an input of shape {}",
                i, shape_str(tangents[i].shape()), shape_str(xs[i].shape()));
  BackwardOptions outer;
  outer.create_graph = must_record_derivative(xs) || needs_grad(tangents);
  const std::vector<Tensor> tracked = track(xs);
  Tensor y = trace(f, tracked, "jvp");
  // g_i = J_iᵀ u is linear in the dummy cotangent u, so differentiating Σ⟨g_i, t_i⟩ with respect to u gives J
  // t, whatever u is. Ones rather than zeros, so that a custom op can tell a gradient computed without
  // recording (nonzero, yet with no history) from one that is zero.
  Tensor u = ones_like(y);
  u.requires_grad_();
  Tensor inner_product;
  {
    BackwardOptions inner;
    inner.create_graph = true;
    const std::vector<Tensor> g = run_backward({y}, {u}, tracked, inner);
    GradModeGuard recording(true);
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (!g[i].defined()) continue;
      const Tensor term = sum(g[i] * tangents[i]);
      inner_product = inner_product.defined() ? inner_product + term : term;
    }
  }
  const Tensor value = outer.create_graph ? y : y.detach();
  if (!inner_product.defined() || !inner_product.requires_grad()) return {value, zeros_like(y)};
  Tensor tangent_out = run_backward({inner_product}, {Tensor()}, {u}, outer)[0];
  return {value, tangent_out.defined() ? tangent_out : zeros_like(y)};
}

Tensor hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v) {
  DPHYS_CHECK(x.shape() == v.shape(), "hvp: direction of shape {} for an input of shape {}",
              shape_str(v.shape()), shape_str(x.shape()));
  return grad([&](const Tensor& z) { return sum(grad(f, z) * v); }, x);
}

Tensor jacobian(const UnaryFunction& f, const Tensor& x) {
  BackwardOptions options;
  options.create_graph = must_record_derivative({x});
  const std::vector<Tensor> tracked = track({x});
  const Tensor y = trace([&f](const std::vector<Tensor>& v) { return f(v[0]); }, tracked, "jacobian");
  Shape shape = y.shape();
  shape.insert(shape.end(), x.shape().begin(), x.shape().end());
  const std::int64_t n = y.numel();
  if (n == 0 || !y.requires_grad()) return zeros(shape, x.dtype(), x.device());
  const Tensor positions =
      reshape(arange(0.0, static_cast<double>(n), 1.0, y.dtype()).to(y.device()), y.shape());
  std::vector<Tensor> rows;
  for (std::int64_t i = 0; i < n; ++i) {
    options.retain_graph = i + 1 < n;
    const Tensor one_hot = eq(positions, scalar(static_cast<double>(i), y.dtype(), y.device()));
    Tensor row = run_backward({y}, {one_hot}, tracked, options)[0];
    rows.push_back(row.defined() ? row : zeros_like(x));
  }
  return reshape(stack(rows, 0), shape);
}

Tensor stop_gradient(const Tensor& x) { return x.detach(); }

Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, const Function& forward,
                 CustomBackward backward) {
  return make_custom(intern(name), inputs, forward, std::move(backward), KeepOutput::yes);
}

Tensor checkpoint(const Function& f, const std::vector<Tensor>& inputs) {
  return make_custom(
      "checkpoint", inputs, f,
      [f](const Tensor& g, const std::vector<Tensor>& ins, const Tensor&) { return vjp(f, ins, g).second; },
      KeepOutput::no);
}

}  // namespace dphys
