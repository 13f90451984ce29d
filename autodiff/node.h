#pragma once
// The record of one differentiable op: its inputs' nodes and its vector-Jacobian product. Nodes are linked
// from the tensors they produced, so a graph lives exactly as long as something can still differentiate it.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autodiff/grad_mode.h"
#include "engine/tensor.h"

namespace dphys {

struct Node {
  // Given the cotangent of the output (and the output itself, for ops that declared they need it), returns
  // one cotangent per input, each of that input's shape and dtype (undefined where the input has no grad).
  // Written with differentiable ops, so a backward pass run with recording on can be differentiated again.
  using Vjp = std::function<std::vector<Tensor>(const Tensor& grad, const Tensor& out)>;

  const char* name = "";
  std::uint64_t sequence = 0;                 // execution order: inputs always have smaller numbers
  std::vector<std::shared_ptr<Node>> inputs;  // null where the input needs no gradient
  Vjp vjp;                                    // empty for leaves and once backward released the node
  bool released = false;
  Shape shape;  // of the output
  DType dtype = DType::f32;
  // The output's storage, kept only for ops whose vjp uses the output (exp, tanh, ...).
  std::shared_ptr<Storage> output_storage;
  std::uint64_t output_version = 0;
  std::weak_ptr<TensorImpl> leaf;  // for leaves: where `backward` accumulates .grad

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Tears the graph down iteratively: a rollout's chain is deeper than the call stack.
  ~Node();

  bool is_leaf() const { return inputs.empty(); }
  void release() {
    vjp = nullptr;
    output_storage.reset();
    released = true;
  }
};

// A tensor captured by a vjp. Reading it checks that no in-place write happened since it was saved.
class Saved {
 public:
  explicit Saved(Tensor tensor)
      : tensor_(std::move(tensor)), version_(tensor_.defined() ? tensor_.storage()->version() : 0) {}
  const Tensor& get() const;

 private:
  Tensor tensor_;
  std::uint64_t version_;
};

// True when recording is on and any argument requires grad.
template <class... Ts>
bool needs_grad(const Ts&... tensors) {
  return GradMode::enabled() && (tensors.requires_grad() || ...);
}
bool needs_grad(const std::vector<Tensor>& tensors);

enum class KeepOutput { no, yes };
// Attaches a node for `name` to a fresh handle of `out` and returns it.
Tensor record(const char* name, const std::vector<Tensor>& inputs, const Tensor& out, Node::Vjp vjp,
              KeepOutput keep = KeepOutput::no);
// A leaf node for a tensor the user differentiates with respect to.
std::shared_ptr<Node> make_leaf_node(const std::shared_ptr<TensorImpl>& impl);

}  // namespace dphys
