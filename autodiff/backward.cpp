#include "autodiff/backward.h"

#include <algorithm>
#include <unordered_map>

#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/creation.h"

namespace dphys {

namespace {

// Every node reachable from the roots, in execution order. Iterative: rollouts make graphs deep.
std::vector<std::shared_ptr<Node>> collect_graph(const std::vector<Tensor>& roots) {
  std::vector<std::shared_ptr<Node>> order, stack;
  std::unordered_map<Node*, bool> seen;
  for (const Tensor& root : roots)
    if (root.requires_grad() && seen.emplace(root.node().get(), true).second) stack.push_back(root.node());
  while (!stack.empty()) {
    std::shared_ptr<Node> node = std::move(stack.back());
    stack.pop_back();
    for (const auto& input : node->inputs)
      if (input && seen.emplace(input.get(), true).second) stack.push_back(input);
    order.push_back(std::move(node));
  }
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
  return order;
}

Tensor accumulate(const Tensor& sum, const Tensor& term) { return sum.defined() ? add(sum, term) : term; }

void check_cotangent(const Node& from, const Node& input, const Tensor& grad) {
  DPHYS_CHECK(grad.shape() == input.shape && grad.dtype() == input.dtype,
              "backward of {}: returned a gradient of shape {} ({}) for an input of shape {} ({})", from.name,
              shape_str(grad.shape()), dtype_name(grad.dtype()), shape_str(input.shape),
              dtype_name(input.dtype));
}

}  // namespace

std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads,
                                 const std::vector<Tensor>& targets, const BackwardOptions& options) {
  DPHYS_CHECK(roots.size() == root_grads.size(), "backward: {} roots but {} root gradients", roots.size(),
              root_grads.size());
  const std::vector<std::shared_ptr<Node>> order = collect_graph(roots);
  std::unordered_map<Node*, std::size_t> position;
  position.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) position.emplace(order[i].get(), i);

  // A node is needed when a target (or, when accumulating, a leaf) lies at or below it.
  std::vector<char> is_target(order.size(), 0), needed(order.size(), 0);
  for (const Tensor& t : targets)
    if (t.requires_grad()) {
      auto it = position.find(t.node().get());
      if (it != position.end()) is_target[it->second] = 1;
    }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Node* node = order[i].get();
    needed[i] = is_target[i] || (options.accumulate_into_leaves && node->is_leaf());
    for (const auto& input : node->inputs)
      if (input && needed[position.at(input.get())]) needed[i] = 1;
  }

  std::vector<Tensor> grads(order.size());
  for (std::size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r];
    if (!root.requires_grad()) continue;
    Tensor seed = root_grads[r];
    if (!seed.defined()) {
      DPHYS_CHECK(root.numel() == 1,
                  "backward: the root has shape {}; pass its cotangent or reduce it to one "
                  "element",
                  shape_str(root.shape()));
      seed = ones_like(root);
    }
    DPHYS_CHECK(seed.shape() == root.shape(), "backward: cotangent of shape {} for a root of shape {}",
                shape_str(seed.shape()), shape_str(root.shape()));
    DPHYS_CHECK(seed.device() == root.device(), "backward: cotangent on {} for a root of shape {} on {}",
                seed.device().str(), shape_str(root.shape()), root.device().str());
    if (seed.dtype() != root.dtype()) seed = cast(seed, root.dtype());
    Tensor& slot = grads[position.at(root.node().get())];
    slot = accumulate(slot, seed);
  }

  const bool retain = options.retain_graph || options.create_graph;
  GradModeGuard mode(options.create_graph);
  std::vector<Tensor> target_grads(order.size());
  for (std::size_t i = order.size(); i-- > 0;) {
    Node* node = order[i].get();
    Tensor grad = std::move(grads[i]);
    if (!needed[i] || !grad.defined()) continue;
    if (is_target[i]) target_grads[i] = grad;
    if (node->is_leaf()) {
      if (options.accumulate_into_leaves) {
        if (auto impl = node->leaf.lock()) {
          // A cotangent may share storage with another leaf's (add passes one tensor to both inputs): store
          // a copy, so an in-place edit of one .grad (clipping, zeroing) cannot change another.
          const Tensor previous = Tensor(impl).grad();
          Tensor stored = options.create_graph ? grad : grad.detach();
          Tensor(impl).set_grad(previous.defined() ? add(previous, stored) : stored.clone());
        }
      }
      continue;
    }
    bool inputs_needed = false;
    for (const auto& input : node->inputs)
      inputs_needed = inputs_needed || (input && needed[position.at(input.get())]);
    if (!inputs_needed) continue;
    DPHYS_CHECK(!node->released,
                "backward of {}: the graph was already freed by an earlier backward pass; pass "
                "retain_graph to differentiate it twice",
                node->name);
    Tensor out;
    if (node->output_storage) {
      DPHYS_CHECK(node->output_storage->version() == node->output_version,
                  "backward of {}: its output (shape {}) was modified in place after it was computed",
                  node->name, shape_str(node->shape));
      // Rebuilt rather than stored: a node holding its own output would be a reference cycle.
      out = Tensor(std::make_shared<TensorImpl>(
          TensorImpl{node->shape, node->dtype, node->output_storage, order[i], nullptr}));
    }
    std::vector<Tensor> input_grads;
    try {
      input_grads = node->vjp(grad, out);
    } catch (const Error& e) {
      fail("backward of {}: {}", node->name, e.what());
    }
    DPHYS_CHECK(input_grads.size() == node->inputs.size(), "backward of {}: {} gradients for {} inputs",
                node->name, input_grads.size(), node->inputs.size());
    for (std::size_t k = 0; k < node->inputs.size(); ++k) {
      Node* input = node->inputs[k].get();
      if (!input || !input_grads[k].defined()) continue;
      const std::size_t at = position.at(input);
      if (!needed[at]) continue;
      check_cotangent(*node, *input, input_grads[k]);
      grads[at] = accumulate(grads[at], input_grads[k]);
    }
    if (!retain) node->release();
  }

  std::vector<Tensor> result;
  for (const Tensor& t : targets) {
    Tensor g;
    if (t.requires_grad()) {
      auto it = position.find(t.node().get());
      if (it != position.end()) g = target_grads[it->second];
    }
    result.push_back(g);
  }
  return result;
}

void backward(const Tensor& root, const Tensor& root_grad, bool retain_graph) {
  DPHYS_CHECK(root.requires_grad(),
              "backward: the root (shape {}) does not require grad; nothing recorded it",
              shape_str(root.shape()));
  BackwardOptions options;
  options.retain_graph = retain_graph;
  options.accumulate_into_leaves = true;
  run_backward({root}, {root_grad}, {}, options);
}

}  // namespace dphys
