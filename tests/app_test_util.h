#pragma once
// Helpers of the app suites (<app>_app_tests.cpp): read a run's files and find a check in summary.json.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace dphys::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The summary line of check `id` (one check per line in summary.json) whose description contains
// `fragment`; the first such line when several match.
inline std::string check_line(const std::string& summary, const std::string& id,
                              const std::string& fragment = "") {
  std::istringstream lines(summary);
  for (std::string line; std::getline(lines, line);)
    if (contains(line, "\"id\": \"" + id + "\"") && contains(line, fragment)) return line;
  FAIL("check " << id << " (" << fragment << ") missing from summary.json");
  return "";
}

// The rows of a CSV file after its header line, split at commas; each must have `columns` fields.
inline std::vector<std::vector<std::string>> csv_rows(const std::string& path, std::size_t columns) {
  std::istringstream lines(read_file(path));
  std::string line;
  std::getline(lines, line);  // the header
  std::vector<std::vector<std::string>> rows;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    REQUIRE_MESSAGE(fields.size() == columns, path << ": row '" << line << "' has " << fields.size()
                                                   << " fields, expected " << columns);
    rows.push_back(std::move(fields));
  }
  return rows;
}

// Runs `command` with stdout and stderr into `log`; returns the exit status.
inline int run_logged(const std::string& command, const std::string& log) {
  return std::system((command + " > " + log + " 2>&1").c_str());
}

}  // namespace dphys::test
