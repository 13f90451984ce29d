// sip_toy end to end in a tiny configuration: it runs, writes parseable outputs, the saddle-free Newton
// properties hold, and SIP is ahead where the spec says it must be.
#include <utility>
#include <vector>

#include "app_test_util.h"

using dphys::test::check_line;
using dphys::test::contains;
using dphys::test::csv_rows;
using dphys::test::read_file;
using dphys::test::run_logged;

TEST_CASE("sip_toy: a tiny run writes curves, sweeps and checks") {
  const std::string folder = std::string(APP_TEST_DIR) + "/sip_toy_tiny";
  REQUIRE(run_logged(std::string(SIP_TOY_BINARY) +
                         " --iterations 300 --sip-iterations 300 --xi-sweep 1,64 --phi-sweep 0,45 --out " +
                         folder,
                     folder + ".log") == 0);
  const std::string metrics = read_file(folder + "/metrics.csv");
  CHECK(contains(metrics, "method,iteration,wall_time_s,loss,error\n"));
  CHECK(contains(metrics, "\nsip/xi=32/phi=45,"));
  CHECK(contains(metrics, "\nrmsprop/xi=64/phi=0,"));
  const std::string sweeps = read_file(folder + "/sweeps.csv");
  CHECK(contains(sweeps, "method,xi,phi_deg,panels,final_distance,final_distance_budget,ms_per_iteration\n"));
  CHECK(contains(sweeps, "\nadam,32,45,5c 5e,"));
  const std::string summary = read_file(folder + "/summary.json");
  for (const char* fragment : {"closed-form g and H", "points downhill", "uncapped update"})
    CHECK(contains(check_line(summary, "3.3.5", fragment), "\"passed\": true"));
  // The orderings that hold from the first few hundred iterations: SIP keeps its accuracy over ξ and φ and is
  // ahead of every other method where the problem is badly conditioned or coupled.
  for (const char* id : {"3.3.3", "3.3.3.equal"}) {
    CHECK(contains(check_line(summary, id, "SIP's relative accuracy"), "\"passed\": true"));
    CHECK(contains(check_line(summary, id, "SIP best"), "\"passed\": true"));
  }
  for (const char* id : {"3.3.4", "3.3.4.equal"}) {
    CHECK(contains(check_line(summary, id, "SIP's max/min"), "\"passed\": true"));
    CHECK(contains(check_line(summary, id, "SIP beats Adam"), "\"passed\": true"));
  }
  CHECK(contains(summary, "\"final.sip/xi=1/phi=45\""));
}

TEST_CASE("sip_toy with --device cuda trains as on the CPU") {
  if (!dphys::test::cuda_device_present()) return;
  // 20 iterations of SIP and Adam from the same weights and batches on both devices: every run's final
  // distances agree to f32 round-off (the MLP runs in f32).
  const auto run = [](const std::string& device) {
    const std::string folder = std::string(APP_TEST_DIR) + "/sip_toy_" + device;
    REQUIRE(
        run_logged(std::string(SIP_TOY_BINARY) +
                       " --iterations 20 --sip-iterations 20 --xi-sweep 1 --phi-sweep 0 --methods sip,adam "
                       "--device " +
                       device + " --out " + folder,
                   folder + ".log") == 0);
    // method,xi,phi_deg,panels,final_distance,final_distance_budget,ms_per_iteration
    std::vector<std::pair<std::string, double>> finals;
    for (const auto& row : csv_rows(folder + "/sweeps.csv", 7))
      finals.push_back({row[0] + "/" + row[1] + "/" + row[2], std::stod(row[4])});
    return finals;
  };
  const auto cpu = run("cpu"), cuda = run("cuda");
  REQUIRE(cpu.size() == 8);  // sip and adam at (1, 0), (1, 45), (32, 0), (32, 45)
  REQUIRE(cuda.size() == cpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    CAPTURE(cpu[i].first);
    CHECK(cuda[i].first == cpu[i].first);
    CHECK(cuda[i].second == doctest::Approx(cpu[i].second).epsilon(1e-4));
  }
}

TEST_CASE("sip_toy rejects unknown methods and a SIP budget above the iterations") {
  const std::string log = std::string(APP_TEST_DIR) + "/sip_toy_bad.log";
  CHECK(run_logged(std::string(SIP_TOY_BINARY) + " --methods sip,lbfgs", log) != 0);
  CHECK(contains(read_file(log), "unknown method 'lbfgs'"));
  CHECK(run_logged(std::string(SIP_TOY_BINARY) + " --iterations 100 --sip-iterations 200", log) != 0);
  CHECK(contains(read_file(log), "sip-iterations <= iterations"));
}
