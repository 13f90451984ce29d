#pragma once
// Checkpoints that split a long run over several sittings. A run folder holds `checkpoint.bin` (the run's
// tensors, nn::save_tensors: written next to the file and renamed over it, so a run stopped mid-save keeps
// the previous checkpoint) and `checkpoint_flags.txt` (the flags the run was started with, one name=value
// per line). A run is resumed with the same flags it was started with, apart from those that only steer the
// checkpointing itself.
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace dphys::app {

using nn::NamedTensors;
using FlagValues = std::vector<std::pair<std::string, std::string>>;

class RunCheckpoint {
 public:
  explicit RunCheckpoint(std::string folder);
  bool exists() const;
  // Records the settings of a run that starts from scratch.
  void start(const FlagValues& flags) const;
  // Raises, naming every flag whose value differs from the recorded one (flags in `free` may differ), when
  // this run's settings cannot continue the checkpointed run.
  void check_resumable(const FlagValues& flags, const std::vector<std::string>& free) const;
  void save(const NamedTensors& tensors) const;
  NamedTensors load() const;
  const std::string& path() const { return path_; }

 private:
  std::string folder_, path_, flags_path_;
};

// `tensors` with every name prefixed by `prefix`, appended to `out`.
void append_prefixed(const std::string& prefix, const NamedTensors& tensors, NamedTensors& out);
// The entries of `tensors` whose names start with `prefix`, with the prefix removed.
NamedTensors entries_under(const std::string& prefix, const NamedTensors& tensors);
// The one entry named `name`; raises naming `source` when it is missing.
Tensor entry(const NamedTensors& tensors, const std::string& name, const std::string& source);

}  // namespace dphys::app
