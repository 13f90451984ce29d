#pragma once
// Command-line flags for the experiment apps: `--name value` or `--name=value`, every flag declared with its
// default (the paper's value) and a help line; `--help` lists them; an unknown flag or a bad value is an
// error naming the flag.
#include <map>
#include <string>
#include <vector>

#include "engine/device.h"

namespace dphys::app {

class Flags {
 public:
  Flags(int argc, char** argv, std::string description);
  double number(const std::string& name, double default_value, const std::string& help);
  std::int64_t integer(const std::string& name, std::int64_t default_value, const std::string& help);
  std::string text(const std::string& name, const std::string& default_value, const std::string& help);
  // A switch: present means true (or `--name=false`).
  bool boolean(const std::string& name, const std::string& help);
  // Call after declaring every flag: prints help and returns false for --help; raises on unknown flags.
  bool finish();
  // "name=value" for every declared flag, for the run's summary.
  const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }

 private:
  const std::string* find(const std::string& name);
  void declare(const std::string& name, const std::string& shown_default, const std::string& help,
               const std::string& used);
  std::string description_;
  std::map<std::string, std::string> given_;
  std::map<std::string, bool> used_;
  std::vector<std::string> help_lines_;
  std::vector<std::pair<std::string, std::string>> values_;
  bool help_ = false;
};

// `text` as a finite double in range, or an error naming `what` (a flag, or a list a flag holds).
double parse_number(const std::string& text, const std::string& what);

// The value of a --device flag: "cpu", or "cuda" where this build and machine have a CUDA device; `app` names
// the program in the error.
Device parse_device(const std::string& value, const char* app);

}  // namespace dphys::app
