// sip_heat end to end in tiny configurations: it runs, writes parseable outputs, and the quick-mode ordering
// checks hold.
#include <algorithm>
#include <filesystem>
#include <vector>

#include "app_test_util.h"

using dphys::test::check_line;
using dphys::test::contains;
using dphys::test::csv_rows;
using dphys::test::read_file;

TEST_CASE("sip_heat: a tiny run writes metrics, summary and fields, and SIP is ahead of Adam") {
  const std::string folder = std::string(APP_TEST_DIR) + "/sip_heat_tiny";
  const std::string command = std::string(SIP_HEAT_BINARY) +
                              " --methods sip,adam --iterations 16 --batch 8 "
                              "--test-batch 8 --out " +
                              folder + " > " + folder + ".log 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const std::string metrics = read_file(folder + "/metrics.csv");
  CHECK(contains(metrics, "method,iteration,wall_time_s,loss,error\n"));
  CHECK(contains(metrics, "\nsip,15,"));
  CHECK(contains(metrics, "\nadam,15,"));
  const std::string summary = read_file(folder + "/summary.json");
  CHECK(contains(summary, "\"sip.test_error\""));
  CHECK(contains(check_line(summary, "order.train"), "\"passed\": true"));
  CHECK(contains(check_line(summary, "order.test"), "\"passed\": true"));
  // Checks the run is too short for are reported as not evaluated, not as passed.
  CHECK(contains(check_line(summary, "3.5.2"), "\"passed\": null"));
  const std::string field = read_file(folder + "/example_sip.csv");
  CHECK(std::count(field.begin(), field.end(), '\n') == 64);
}

TEST_CASE("sip_heat with --device cuda trains as on the CPU") {
  if (!dphys::test::cuda_device_present()) return;
  // Two iterations of SIP and Adam from the same weights and batches on both devices: the logged losses
  // and errors agree to f32 round-off (the U-net runs in f32).
  const auto run = [](const std::string& device) {
    const std::string folder = std::string(APP_TEST_DIR) + "/sip_heat_" + device;
    REQUIRE(dphys::test::run_logged(std::string(SIP_HEAT_BINARY) +
                                        " --methods sip,adam --iterations 2 --batch 2 "
                                        "--test-batch 2 --device " +
                                        device + " --out " + folder,
                                    folder + ".log") == 0);
    std::vector<double> values;  // loss and error of every row (method,iteration,wall_time_s,loss,error)
    for (const auto& row : csv_rows(folder + "/metrics.csv", 5)) {
      values.push_back(std::stod(row[3]));
      values.push_back(std::stod(row[4]));
    }
    return values;
  };
  const std::vector<double> cpu = run("cpu"), cuda = run("cuda");
  REQUIRE(cpu.size() == 8);
  REQUIRE(cuda.size() == cpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) CHECK(cuda[i] == doctest::Approx(cpu[i]).epsilon(1e-4));
}

TEST_CASE("sip_heat split by --stop-at and --resume logs exactly what one uninterrupted run logs") {
  const std::string base =
      std::string(SIP_HEAT_BINARY) +
      " --methods sip,adam,sgd,adahessian,hessian_free --hf-cg-iterations 3 --iterations 7 --batch 4 "
      "--test-batch 4 --out " +
      std::string(APP_TEST_DIR);
  const auto run = [&](const std::string& name, const std::string& extra) {
    return dphys::test::run_logged(base + "/sip_heat_" + name + " " + extra,
                                   std::string(APP_TEST_DIR) + "/sip_heat_" + name + ".log");
  };
  // Every column but the wall-clock time, row by row.
  const auto logged = [](const std::string& name) {
    std::vector<std::string> rows;
    for (const auto& row : csv_rows(std::string(APP_TEST_DIR) + "/sip_heat_" + name + "/metrics.csv", 5))
      rows.push_back(row[0] + "," + row[1] + "," + row[3] + "," + row[4]);
    return rows;
  };
  const auto test_errors = [](const std::string& name) {
    const std::string summary = read_file(std::string(APP_TEST_DIR) + "/sip_heat_" + name + "/summary.json");
    std::vector<std::string> lines;
    for (const std::string m : {"sip", "adam", "sgd", "adahessian", "hessian_free"}) {
      const auto at = summary.find("\"" + m + ".test_error\"");
      REQUIRE(at != std::string::npos);
      lines.push_back(summary.substr(at, summary.find('\n', at) - at));
    }
    return lines;
  };
  std::filesystem::remove_all(std::string(APP_TEST_DIR) + "/sip_heat_split");
  REQUIRE(run("whole", "") == 0);
  // Three sittings: stop after 2, then after 5 (checkpoints every 2 on the way), then to the end.
  REQUIRE(run("split", "--stop-at 2") == 0);
  CHECK(
      contains(read_file(std::string(APP_TEST_DIR) + "/sip_heat_split.log"), "stopped at iteration 2 of 7"));
  REQUIRE(run("split", "--resume --stop-at 5 --checkpoint-every 2") == 0);
  CHECK(logged("split").size() == 25);
  CHECK(run("split", "--resume --stop-at 4") != 0);
  CHECK(contains(read_file(std::string(APP_TEST_DIR) + "/sip_heat_split.log"),
                 "--stop-at 4, but the run is already at iteration 5"));
  REQUIRE(run("split", "--resume") == 0);
  CHECK(contains(read_file(std::string(APP_TEST_DIR) + "/sip_heat_split.log"), "resuming"));
  REQUIRE(logged("whole").size() == 35);
  CHECK(logged("split") == logged("whole"));
  CHECK(test_errors("split") == test_errors("whole"));

  // A checkpoint is neither overwritten by a fresh run nor continued with other flags.
  CHECK(run("split", "") != 0);
  CHECK(
      contains(read_file(std::string(APP_TEST_DIR) + "/sip_heat_split.log"), "pass --resume to continue it"));
  CHECK(run("split", "--resume --lr-sip 0.01") != 0);
  CHECK(contains(read_file(std::string(APP_TEST_DIR) + "/sip_heat_split.log"),
                 "--lr-sip 0.01 (the run has 0.001)"));
}

TEST_CASE("sip_heat rejects unknown flags and methods with a message") {
  const std::string log = std::string(APP_TEST_DIR) + "/sip_heat_bad.log";
  CHECK(std::system((std::string(SIP_HEAT_BINARY) + " --no-such-flag 1 > " + log + " 2>&1").c_str()) != 0);
  CHECK(contains(read_file(log), "unknown flag --no-such-flag"));
  CHECK(std::system((std::string(SIP_HEAT_BINARY) + " --methods sip,lbfgs > " + log + " 2>&1").c_str()) != 0);
  CHECK(contains(read_file(log), "unknown method 'lbfgs'"));
  CHECK(std::system((std::string(SIP_HEAT_BINARY) + " --methods sip,adam,sip > " + log + " 2>&1").c_str()) !=
        0);
  CHECK(contains(read_file(log), "method 'sip' is listed twice"));
  // Values that strtod or strtoll take but that mean nothing here, and a flag given twice (the last one won).
  const auto rejects = [&](const std::string& flags, const std::string& message) {
    CAPTURE(flags);
    CHECK(std::system((std::string(SIP_HEAT_BINARY) + " " + flags + " > " + log + " 2>&1").c_str()) != 0);
    CHECK(contains(read_file(log), message));
  };
  rejects("--lr-adam 1e-400", "--lr-adam expects a finite number in range, got '1e-400'");
  rejects("--lr-adam nan", "--lr-adam expects a finite number in range");
  rejects("--seed 99999999999999999999", "--seed is out of range");
  rejects("--test-batch 1 --test-batch 0", "--test-batch is given twice ('1' and '0')");
  // A run that diverges in its last update is an error, not 'all passed' with a NaN test error.
  rejects("--quick --batch 2 --test-batch 1 --iterations 1 --methods sgd --lr-sgd 1e300 --out " +
              std::string(APP_TEST_DIR) + "/sip_heat_diverged",
          "diverged");
}
