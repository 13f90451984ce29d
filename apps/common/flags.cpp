#include "flags.h"

#include <cstdio>
#include <cstdlib>

#include "engine/error.h"

namespace dphys::app {

Flags::Flags(int argc, char** argv, std::string description) : description_(std::move(description)) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    DPHYS_CHECK(arg.rfind("--", 0) == 0, "flags: unexpected argument '{}' (flags look like --name value)",
                arg);
    arg = arg.substr(2);
    const auto eq = arg.find('=');
    if (eq != std::string::npos) {
      given_[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      given_[arg] = argv[++i];
    } else {
      given_[arg] = "true";  // a switch
    }
  }
}

const std::string* Flags::find(const std::string& name) {
  used_[name] = true;
  auto it = given_.find(name);
  return it == given_.end() ? nullptr : &it->second;
}

void Flags::declare(const std::string& name, const std::string& shown_default, const std::string& help,
                    const std::string& used) {
  help_lines_.push_back(fmt::format("  --{:<22} {} (default {})", name, help, shown_default));
  values_.emplace_back(name, used);
}

double Flags::number(const std::string& name, double default_value, const std::string& help) {
  double value = default_value;
  if (const std::string* s = find(name)) {
    char* end = nullptr;
    value = std::strtod(s->c_str(), &end);
    DPHYS_CHECK(end != s->c_str() && *end == '\0', "flags: --{} expects a number, got '{}'", name, *s);
  }
  declare(name, fmt::format("{}", default_value), help, fmt::format("{}", value));
  return value;
}

std::int64_t Flags::integer(const std::string& name, std::int64_t default_value, const std::string& help) {
  std::int64_t value = default_value;
  if (const std::string* s = find(name)) {
    char* end = nullptr;
    value = std::strtoll(s->c_str(), &end, 10);
    DPHYS_CHECK(end != s->c_str() && *end == '\0', "flags: --{} expects an integer, got '{}'", name, *s);
  }
  declare(name, fmt::format("{}", default_value), help, fmt::format("{}", value));
  return value;
}

std::string Flags::text(const std::string& name, const std::string& default_value, const std::string& help) {
  const std::string* s = find(name);
  const std::string value = s ? *s : default_value;
  declare(name, default_value.empty() ? "\"\"" : default_value, help, value);
  return value;
}

bool Flags::boolean(const std::string& name, const std::string& help) {
  const std::string* s = find(name);
  DPHYS_CHECK(!s || *s == "true" || *s == "false", "flags: --{} is a switch, got '{}'", name, *s);
  const bool value = s && *s == "true";
  declare(name, "off", help, value ? "true" : "false");
  return value;
}

bool Flags::finish() {
  if (help_) {
    std::printf("%s\n\nflags:\n", description_.c_str());
    for (const auto& line : help_lines_) std::printf("%s\n", line.c_str());
    return false;
  }
  for (const auto& [name, value] : given_)
    DPHYS_CHECK(used_.count(name), "flags: unknown flag --{} (see --help)", name);
  return true;
}

Device parse_device(const std::string& value, const char* app) {
  DPHYS_CHECK(value == "cpu" || value == "cuda", "{}: unknown --device '{}' (cpu or cuda)", app, value);
  DPHYS_CHECK(value == "cpu" || cuda_available(), "{}: --device cuda, but there is no CUDA device: {}", app,
              cuda_unavailable_reason());
  return value == "cpu" ? Device::cpu() : Device::cuda();
}

}  // namespace dphys::app
