#include "flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/error.h"

namespace dphys::app {

double parse_number(const std::string& text, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  DPHYS_CHECK(end != text.c_str() && *end == '\0', "flags: {} expects a number, got '{}'", what, text);
  // strtod accepts "nan" and "inf" and flushes 1e-400 to 0 or 1e400 to inf (ERANGE): a learning rate of 0
  // once trained silently.
  DPHYS_CHECK(errno != ERANGE && std::isfinite(value), "flags: {} expects a finite number in range, got '{}'",
              what, text);
  return value;
}

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
    std::string name = arg, value = "true";  // a switch unless a value follows
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    }
    // The last one silently won before: '--test-batch 1 ... --test-batch 0' ran with 0.
    DPHYS_CHECK(given_.emplace(name, value).second, "flags: --{} is given twice ('{}' and '{}')", name,
                given_[name], value);
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
    value = parse_number(*s, "--" + name);
  }
  declare(name, fmt::format("{}", default_value), help, fmt::format("{}", value));
  return value;
}

std::int64_t Flags::integer(const std::string& name, std::int64_t default_value, const std::string& help) {
  std::int64_t value = default_value;
  if (const std::string* s = find(name)) {
    char* end = nullptr;
    errno = 0;
    value = std::strtoll(s->c_str(), &end, 10);
    DPHYS_CHECK(end != s->c_str() && *end == '\0', "flags: --{} expects an integer, got '{}'", name, *s);
    DPHYS_CHECK(errno != ERANGE, "flags: --{} is out of range: '{}'", name, *s);
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
