#include "checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/error.h"
#include "nn/serialize.h"

namespace dphys::app {

RunCheckpoint::RunCheckpoint(std::string folder)
    : folder_(std::move(folder)),
      path_(folder_ + "/checkpoint.bin"),
      flags_path_(folder_ + "/checkpoint_flags.txt") {}

bool RunCheckpoint::exists() const { return std::filesystem::exists(path_); }

void RunCheckpoint::start(const FlagValues& flags) const {
  std::ofstream out(flags_path_);
  for (const auto& [name, value] : flags) {
    DPHYS_CHECK(value.find('\n') == std::string::npos,
                "RunCheckpoint: flag --{} has a line break in its value", name);
    out << name << '=' << value << '\n';
  }
  out.close();
  DPHYS_CHECK(static_cast<bool>(out), "RunCheckpoint: cannot write '{}'", flags_path_);
}

void RunCheckpoint::check_resumable(const FlagValues& flags, const std::vector<std::string>& free) const {
  std::ifstream in(flags_path_);
  DPHYS_CHECK(in.good(), "RunCheckpoint: {} exists but '{}' cannot be read, so the run's flags are unknown",
              path_, flags_path_);
  std::map<std::string, std::string> recorded;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    DPHYS_CHECK(eq != std::string::npos, "RunCheckpoint: '{}': line '{}' is not name=value", flags_path_,
                line);
    recorded[line.substr(0, eq)] = line.substr(eq + 1);
  }
  std::vector<std::string> differences;
  for (const auto& [name, value] : flags) {
    if (std::find(free.begin(), free.end(), name) != free.end()) continue;
    const auto found = recorded.find(name);
    const std::string before = found == recorded.end() ? "(not recorded)" : found->second;
    if (before != value) differences.push_back(fmt::format("--{} {} (the run has {})", name, value, before));
  }
  DPHYS_CHECK(differences.empty(),
              "RunCheckpoint: cannot resume the run in '{}' with different flags: {}; pass the flags it was "
              "started with, or choose another --out",
              folder_, fmt::join(differences, ", "));
}

void RunCheckpoint::save(const NamedTensors& tensors) const { nn::save_tensors(path_, tensors); }

NamedTensors RunCheckpoint::load() const { return nn::load_tensors(path_); }

void append_prefixed(const std::string& prefix, const NamedTensors& tensors, NamedTensors& out) {
  for (const auto& [name, tensor] : tensors) out.emplace_back(prefix + name, tensor);
}

NamedTensors entries_under(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, tensor] : tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), tensor);
  return out;
}

Tensor entry(const NamedTensors& tensors, const std::string& name, const std::string& source) {
  for (const auto& [entry_name, tensor] : tensors)
    if (entry_name == name) return tensor;
  fail("{} has no entry '{}'", source, name);
}

}  // namespace dphys::app
