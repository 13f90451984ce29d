#pragma once
// The reverse pass. Most code calls the transforms (autodiff/transforms.h) or `backward` below.
#include <vector>

#include "engine/tensor.h"

namespace dphys {

struct BackwardOptions {
  // Record the backward pass itself (for grad of grad, HVPs); implies keeping the graph.
  bool create_graph = false;
  // Keep saved tensors so the same graph can be differentiated again.
  bool retain_graph = false;
  // Add the result into the .grad of every reached leaf.
  bool accumulate_into_leaves = false;
};

// Propagates `root_grads` (one per root, of the root's shape; undefined means ones for a one-element root)
// back through the graph and returns the cotangent of each target (undefined if it does not influence the
// roots). Only nodes on a path to a target (or to a leaf, when accumulating) are visited; visited nodes are
// released unless the graph is retained.
std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads,
                                 const std::vector<Tensor>& targets, const BackwardOptions& options);

// PyTorch-style: accumulates d(root)/d(leaf) into every leaf's .grad. root must have one element unless
// `root_grad` is given.
void backward(const Tensor& root, const Tensor& root_grad = Tensor(), bool retain_graph = false);

}  // namespace dphys
