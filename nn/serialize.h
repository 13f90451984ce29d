#pragma once
// Saving and loading named tensors: model parameters, buffers and optimizer state.
//
// File format, version 1. Every integer is little-endian; there is no padding.
//
//   offset  size      field
//   0       8         magic, the ASCII bytes "DPHYSPRM"
//   8       4         u32 version (1)
//   12      4         u32 count, the number of tensors
//   then `count` records, each:
//           4         u32 name length L (bytes)
//           L         name, UTF-8, not NUL-terminated; names are unique within a file
//           1         u8 dtype: 0 = f32, 1 = f64, 2 = c64, 3 = c128, 4 = i64
//           4         u32 ndim (0 for a scalar)
//           8·ndim    i64 dims, outermost first
//           E·numel   the elements, row-major, each little-endian (E = 4, 8, 8, 16, 8 bytes by dtype; a
//                     complex element is its real part followed by its imaginary part)
//
// The file ends right after the last record; trailing bytes are an error. Readers check every size against
// the file length before reading it, so a truncated or corrupt file raises a dphys::Error naming the file,
// the offset and the reason, and never allocates more than the file holds.
//
// Optimizer checkpoints use the same format: save_tensors(path, optimizer.state()) and
// optimizer.load_state(load_tensors(path)) (optim/optimizer.h).
#include <string>

#include "nn/module.h"

namespace dphys::nn {

// Writes the tensors (unique names; any device, read through a host copy) to `path`. The file is written next
// to `path` and renamed over it, so an interrupted save leaves the previous file intact.
void save_tensors(const std::string& path, const NamedTensors& tensors);
// Reads and validates a whole file; the tensors come back in file order with no gradient history.
NamedTensors load_tensors(const std::string& path);

// The module's named_parameters() followed by its named_buffers() (the module's own handles, not copies).
NamedTensors module_state(const Module& module);
// Copies `state` into the module's parameters and buffers, across devices if need be. `state` must hold
// exactly the module's names with the same shapes and dtypes; `source` says where it came from in errors.
// Everything is checked before the first tensor is written: on error the module is unchanged.
void load_module_state(Module& module, const NamedTensors& state, const std::string& source);

// Saves module_state(module).
void save_parameters(const std::string& path, const Module& module);
// Loads a file written by save_parameters into a module of the same architecture (load_module_state). On any
// error (missing, truncated or corrupt file, bad magic or version, missing or extra names, shape or dtype
// mismatch) the module is unchanged.
void load_parameters(const std::string& path, Module& module);

}  // namespace dphys::nn
