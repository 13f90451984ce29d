// sip_heat end to end in tiny configurations: it runs, writes parseable outputs, and the quick-mode ordering
// checks hold.
#include <algorithm>

#include "app_test_util.h"

using dphys::test::check_line;
using dphys::test::contains;
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

TEST_CASE("sip_heat rejects unknown flags and methods with a message") {
  const std::string log = std::string(APP_TEST_DIR) + "/sip_heat_bad.log";
  CHECK(std::system((std::string(SIP_HEAT_BINARY) + " --no-such-flag 1 > " + log + " 2>&1").c_str()) != 0);
  CHECK(contains(read_file(log), "unknown flag --no-such-flag"));
  CHECK(std::system((std::string(SIP_HEAT_BINARY) + " --methods sip,lbfgs > " + log + " 2>&1").c_str()) != 0);
  CHECK(contains(read_file(log), "unknown method 'lbfgs'"));
}
