// pbdl_toy end to end: one run writes metrics.csv and summary.json, every acceptance check of
// ../shared/experiments/pbdl_physgrad.md §4 passes, and the numbers the app computed are the spec's.
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "app_test_util.h"

using dphys::test::check_line;
using dphys::test::contains;
using dphys::test::csv_rows;
using dphys::test::read_file;
using dphys::test::run_logged;

namespace {

// The run folder of one full run, shared by the test cases (the app takes about a second).
const std::string& run_folder() {
  static const std::string folder = [] {
    const std::string f = std::string(APP_TEST_DIR) + "/pbdl_toy_run";
    REQUIRE(run_logged(std::string(PBDL_TOY_BINARY) + " --out " + f, f + ".log") == 0);
    return f;
  }();
  return folder;
}

// The number after `"key": ` in `text`.
double number_after(const std::string& text, const std::string& key) {
  const std::string marker = "\"" + key + "\": ";
  const auto at = text.find(marker);
  REQUIRE_MESSAGE(at != std::string::npos, key << " missing");
  return std::strtod(text.c_str() + at + marker.size(), nullptr);
}

double measured(const std::string& summary, const std::string& id) {
  return number_after(check_line(summary, id), "measured");
}

}  // namespace

TEST_CASE("pbdl_toy writes metrics.csv, summary.json and the paths plot.py draws") {
  const std::string metrics = read_file(run_folder() + "/metrics.csv");
  CHECK(contains(metrics, "method,iteration,wall_time_s,loss,error\n"));
  CHECK(contains(metrics, "\nE1.newton.alpha=100,10,"));
  CHECK(contains(metrics, "\nE1.gd_a.alpha=100,69000,"));
  CHECK(contains(metrics, "\nE5.pg,10,"));
  CHECK(contains(metrics, "\nE5.pg_lbfgs,10,"));
  const std::string summary = read_file(run_folder() + "/summary.json");
  CHECK(contains(summary, "\"settings\""));
  CHECK(contains(summary, "\"wall_time_s\""));
  CHECK(contains(summary, "\"all_evaluated_checks_passed\": true"));
  for (const char* name : {"e1_alpha=1_newton", "e1_alpha=5_gd_a", "e5_pg_x", "e5_gd_y"})
    CHECK_MESSAGE(!read_file(run_folder() + "/" + name + ".csv").empty(), name);
}

TEST_CASE("pbdl_toy: every acceptance check 4.1 to 4.8 is evaluated and passes") {
  const std::string summary = read_file(run_folder() + "/summary.json");
  for (int item = 1; item <= 8; ++item)
    CHECK_MESSAGE(contains(summary, "\"id\": \"4." + std::to_string(item) + "."),
                  "no check for item " << item);
  std::istringstream lines(summary);
  int checks = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!contains(line, "\"id\": \"4.")) continue;
    ++checks;
    CHECK_MESSAGE(contains(line, "\"passed\": true"), line);
  }
  CHECK(checks >= 40);
}

TEST_CASE("pbdl_toy: the measured numbers are those of pbdl_physgrad.md §2 and §4") {
  const std::string summary = read_file(run_folder() + "/summary.json");
  // §4.1 and §4.2: Newton/IG/PG need 10 iterations for every α, GD with η = 0.45/α² about 6.9 α².
  const std::pair<int, int> gd_iterations[] = {{1, 3}, {3, 59}, {5, 170}, {10, 688}, {100, 69049}};
  for (const auto& [alpha, iterations] : gd_iterations) {
    const std::string tag = "alpha=" + std::to_string(alpha);
    CHECK(measured(summary, "4.1.c." + tag) == 10);
    CHECK(std::abs(measured(summary, "4.2.a." + tag) - iterations) <= 1);
  }
  CHECK(measured(summary, "4.2.c.alpha=10") <= 50);
  // §2.1 table: GD with η = 0.02 after 20 steps.
  CHECK(number_after(summary, "E1.gd_b.norm_x20.alpha=1") == doctest::Approx(0.436).epsilon(2e-3));
  CHECK(number_after(summary, "E1.gd_b.norm_x20.alpha=3") == doctest::Approx(0.221).epsilon(3e-3));
  // §4.3: x₁₀ of GD, Newton and PG.
  CHECK(number_after(summary, "E5.gd.x10_0") == doctest::Approx(2.451218).epsilon(1e-6));
  CHECK(number_after(summary, "E5.gd.x10_1") == doctest::Approx(0.961712).epsilon(1e-6));
  CHECK(number_after(summary, "E5.newton.x10_0") == doctest::Approx(0.052025).epsilon(1e-5));
  CHECK(number_after(summary, "E5.newton.x10_1") == doctest::Approx(0.923838).epsilon(1e-6));
  CHECK(number_after(summary, "E5.pg.x10_0") == doctest::Approx(0.084743).epsilon(1e-5));
  CHECK(number_after(summary, "E5.pg.x10_1") == doctest::Approx(0.504210).epsilon(1e-6));
  // §4.4: the diagonal lengths.
  CHECK(measured(summary, "4.4.gd") == doctest::Approx(1.0539).epsilon(1e-4));
  CHECK(measured(summary, "4.4.newton") == doctest::Approx(1.2649).epsilon(1e-4));
  CHECK(measured(summary, "4.4.pg") == doctest::Approx(1.3564).epsilon(1e-4));
  // §2.5 metrics table: iterations to ‖x‖ < 0.1.
  CHECK(number_after(summary, "E5.gd.iterations_to_0.1") == 1244);
  CHECK(number_after(summary, "E5.newton.iterations_to_0.1") == 29);
  CHECK(number_after(summary, "E5.pg.iterations_to_0.1") == 20);
  // §4.7 and §1.9: first-step scaling α^(κ+1).
  CHECK(measured(summary, "4.7.gd") == doctest::Approx(100.0).epsilon(1e-9));
  CHECK(measured(summary, "4.7.hig") == doctest::Approx(std::sqrt(10.0)).epsilon(1e-9));
  for (const char* method : {"gn", "ig", "newton", "pg"})
    CHECK(measured(summary, std::string("4.7.") + method) == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(number_after(summary, "E2.hig.first_step.alpha=100") == doctest::Approx(4.0).epsilon(1e-9));
  // §4.8: the branch-keeping inverse of x².
  CHECK(measured(summary, "4.8.a") == -1.0);
  CHECK(measured(summary, "4.8.d") == doctest::Approx(-1.760682).epsilon(1e-6));
}

TEST_CASE("pbdl_toy rejects unknown flags and devices with a message") {
  const std::string log = std::string(APP_TEST_DIR) + "/pbdl_toy_bad.log";
  CHECK(run_logged(std::string(PBDL_TOY_BINARY) + " --no-such-flag 1", log) != 0);
  CHECK(contains(read_file(log), "unknown flag --no-such-flag"));
  CHECK(run_logged(std::string(PBDL_TOY_BINARY) + " --device tpu --out " + APP_TEST_DIR + "/pbdl_toy_tpu",
                   log) != 0);
  CHECK(contains(read_file(log), "unknown --device 'tpu'"));
}

TEST_CASE("pbdl_toy with --device cuda computes what it computes on the CPU") {
  if (!dphys::test::cuda_device_present()) return;
  const std::string folder = std::string(APP_TEST_DIR) + "/pbdl_toy_cuda";
  REQUIRE(run_logged(std::string(PBDL_TOY_BINARY) + " --device cuda --out " + folder, folder + ".log") == 0);
  // Every row of metrics.csv but its wall-clock column: same methods, iterations, losses and errors (to
  // round-off: a GPU may fuse multiply-adds the CPU does not).
  const auto cpu = csv_rows(run_folder() + "/metrics.csv", 5), cuda = csv_rows(folder + "/metrics.csv", 5);
  REQUIRE(cuda.size() == cpu.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const auto &a = cpu[i], &b = cuda[i];
    bool same = b[0] == a[0] && b[1] == a[1];
    for (int k : {3, 4}) same = same && std::stod(b[k]) == doctest::Approx(std::stod(a[k])).epsilon(1e-9);
    if (!same) MESSAGE("row " << i << ": cpu " << a[0] << "," << a[3] << " cuda " << b[0] << "," << b[3]);
    mismatches += !same;
  }
  CHECK(cpu.size() > 1000);
  CHECK(mismatches == 0);
  CHECK(contains(check_line(read_file(folder + "/summary.json"), "4.8.a"), "\"passed\": true"));
}
