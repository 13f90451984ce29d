#include "autodiff/node.h"

#include <atomic>

namespace dphys {

namespace {
thread_local bool grad_enabled = true;
std::atomic<std::uint64_t> next_sequence{1};
}  // namespace

namespace {
// Parts of dying nodes whose destruction is deferred to the outermost ~Node, so that freeing a chain of n
// nodes takes constant stack depth instead of n nested destructor calls.
struct Graveyard {
  bool draining = false;
  std::vector<std::shared_ptr<Node>> nodes;
  std::vector<Node::Vjp> closures;
};
thread_local Graveyard graveyard;
}  // namespace

Node::~Node() {
  for (auto& input : inputs) graveyard.nodes.push_back(std::move(input));
  if (vjp) graveyard.closures.push_back(std::move(vjp));
  if (graveyard.draining) return;
  graveyard.draining = true;
  while (!graveyard.nodes.empty() || !graveyard.closures.empty()) {
    if (!graveyard.nodes.empty()) {
      std::shared_ptr<Node> node = std::move(graveyard.nodes.back());
      graveyard.nodes.pop_back();
    } else {
      Node::Vjp closure = std::move(graveyard.closures.back());
      graveyard.closures.pop_back();
    }
  }
  graveyard.draining = false;
}

bool GradMode::enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

const Tensor& Saved::get() const {
  if (tensor_.defined() && tensor_.storage()->version() != version_)
    fail("a tensor of shape {} saved for backward was modified in place (version {} -> {})",
         shape_str(tensor_.shape()), version_, tensor_.storage()->version());
  return tensor_;
}

bool needs_grad(const std::vector<Tensor>& tensors) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : tensors)
    if (t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, const std::vector<Tensor>& inputs, const Tensor& out, Node::Vjp vjp,
              KeepOutput keep) {
  auto node = std::make_shared<Node>();
  node->name = name;
  node->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
  node->inputs.reserve(inputs.size());
  for (const Tensor& input : inputs) node->inputs.push_back(input.requires_grad() ? input.node() : nullptr);
  node->vjp = std::move(vjp);
  node->shape = out.shape();
  node->dtype = out.dtype();
  if (keep == KeepOutput::yes) {
    node->output_storage = out.storage();
    node->output_version = out.storage()->version();
  }
  return Tensor(std::make_shared<TensorImpl>(
      TensorImpl{out.shape(), out.dtype(), out.storage(), std::move(node), nullptr}));
}

std::shared_ptr<Node> make_leaf_node(const std::shared_ptr<TensorImpl>& impl) {
  auto node = std::make_shared<Node>();
  node->name = "leaf";
  node->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
  node->shape = impl->shape;
  node->dtype = impl->dtype;
  node->leaf = impl;
  return node;
}

}  // namespace dphys
