#pragma once
// Everything a program using dphys needs: tensors, differentiable ops, transforms.
#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/creation.h"
#include "engine/random.h"
#include "engine/tensor.h"
