// Saving and loading tensors, module parameters and optimizer state; every malformed file is rejected.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "nn/serialize.h"
#include "optim/adam.h"
#include "test_util.h"

using namespace dphys;
using dphys::nn::NamedTensors;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

// A file in a fresh per-test folder, removed with the folder.
class TempFile {
 public:
  explicit TempFile(const std::string& name) {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("dphys_serialize_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / name).string();
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }
  std::string bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void write(const std::string& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.numel() * dtype_size(a.dtype())) == 0;
}

// Two parameters and one buffer: weight [3, 2], bias [2], running [2].
class Tiny : public nn::Module {
 public:
  Tiny(Generator& gen, std::int64_t out = 2) {
    weight = register_parameter("weight", normal({3, out}, 0, 1, gen));
    bias = register_parameter("bias", normal({out}, 0, 1, gen));
    running = register_buffer("running", normal({out}, 0, 1, gen));
  }
  Tensor forward(const Tensor& x) override { return matmul(x, weight) + bias; }
  Tensor weight, bias, running;
};

// Deep copies of a module's tensors, to compare after a failed load.
NamedTensors snapshot(const nn::Module& m) {
  NamedTensors out;
  for (const auto& [name, t] : m.named_parameters()) out.emplace_back(name, t.clone());
  for (const auto& [name, t] : m.named_buffers()) out.emplace_back(name, t.clone());
  return out;
}

void check_unchanged(const nn::Module& m, const NamedTensors& before) {
  const NamedTensors now = snapshot(m);
  REQUIRE(now.size() == before.size());
  for (std::size_t i = 0; i < now.size(); ++i) CHECK(bit_equal(now[i].second, before[i].second));
}

}  // namespace

TEST_CASE("named tensors round trip bit-exactly in every dtype, including scalars and empty tensors") {
  Generator gen(1);
  const NamedTensors tensors = {
      {"f32", normal({2, 3}, 0, 1, gen)},
      {"f64", normal({4}, 0, 1, gen, DType::f64)},
      {"c64", cast(normal({2, 2}, 0, 1, gen), DType::c64)},
      {"c128", cast(normal({3}, 0, 1, gen, DType::f64), DType::c128)},
      {"i64", from_indices({-5, 0, 1LL << 40}, {3})},
      {"scalar", scalar(std::acos(-1.0), DType::f64)},
      {"empty", zeros({0, 3})},
      {"a name with spaces.and.dots", ones({1, 1, 1})},
  };
  const TempFile file("tensors.bin");
  nn::save_tensors(file.path(), tensors);
  const NamedTensors loaded = nn::load_tensors(file.path());
  REQUIRE(loaded.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    CHECK(loaded[i].first == tensors[i].first);
    CHECK(bit_equal(loaded[i].second, tensors[i].second));
    CHECK(!loaded[i].second.requires_grad());
  }
  CHECK(!std::filesystem::exists(file.path() + ".tmp"));
}

TEST_CASE("the file layout is the documented one") {
  const TempFile file("layout.bin");
  nn::save_tensors(file.path(), {{"ab", from_vector({1.5, -2.0}, {2, 1}, DType::f64)}});
  const std::string bytes = file.bytes();
  // 8 magic + 4 version + 4 count + 4 name length + 2 name + 1 dtype + 4 ndim + 2·8 dims + 2·8 data.
  REQUIRE(bytes.size() == 8 + 4 + 4 + 4 + 2 + 1 + 4 + 16 + 16);
  CHECK(bytes.substr(0, 8) == "DPHYSPRM");
  CHECK(bytes.substr(8, 8) == std::string("\x01\0\0\0\x01\0\0\0", 8));
  CHECK(bytes.substr(16, 6) == std::string("\x02\0\0\0ab", 6));
  CHECK(bytes[22] == 1);  // f64
  CHECK(bytes.substr(23, 20) == std::string("\x02\0\0\0\x02\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0", 20));
  double first = 0.0;
  std::memcpy(&first, bytes.data() + 43, 8);
  CHECK(first == 1.5);
}

TEST_CASE("a module's parameters and buffers round trip bit-exactly") {
  Generator gen(2);
  Tiny source(gen), target(gen);
  const TempFile file("tiny.params");
  nn::save_parameters(file.path(), source);
  std::vector<std::string> names;
  for (const auto& [name, t] : nn::load_tensors(file.path())) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight", "bias", "running"});

  nn::load_parameters(file.path(), target);
  check_unchanged(target, snapshot(source));
  // The loaded parameters are still the module's trainable leaves.
  CHECK(target.weight.requires_grad());
  backward(sum(target(ones({1, 3}))));
  CHECK(target.weight.grad().defined());
}

TEST_CASE("every truncation of a file is rejected with the reason, and the module is unchanged") {
  Generator gen(3);
  Tiny source(gen), target(gen);
  const TempFile file("tiny.params");
  nn::save_parameters(file.path(), source);
  const std::string bytes = file.bytes();
  const NamedTensors before = snapshot(target);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    file.write(bytes.substr(0, length));
    const std::string message = error_message([&] { nn::load_parameters(file.path(), target); });
    CHECK(contains(message, "truncated file"));
    CHECK(contains(message, file.path()));
  }
  check_unchanged(target, before);
  file.write(bytes.substr(0, bytes.size() - 1));
  const std::string message = error_message([&] { nn::load_tensors(file.path()); });
  CHECK(contains(message, "load_tensors"));
  CHECK(contains(message, "tensor 'running': f32 data of shape [2]"));
}

TEST_CASE("bad magic, version, dtype code and trailing bytes are rejected") {
  const TempFile file("bad.bin");
  nn::save_tensors(file.path(), {{"x", ones({2})}});
  const std::string good = file.bytes();
  auto rejects = [&](std::string bytes, const std::string& reason) {
    file.write(bytes);
    const std::string message = error_message([&] { nn::load_tensors(file.path()); });
    CHECK_MESSAGE(contains(message, reason), message);
  };
  std::string bad = good;
  bad[0] = 'X';
  rejects(bad, "bad magic");
  bad = good;
  bad[8] = 2;
  rejects(bad, "unsupported version 2");
  bad = good;
  bad[16 + 4 + 1] = 9;
  rejects(bad, "unknown dtype code 9");
  rejects(good + "z", "1 trailing bytes");
  // A corrupt dimension that would need more memory than the file holds.
  bad = good;
  bad[16 + 4 + 1 + 1 + 4 + 7] = 0x10;
  rejects(bad, "truncated file");
  rejects("", "truncated file");
  // The message names the bytes the record needs, not what is left.
  rejects(good.substr(0, good.size() - 1), "f32 data of shape [2] needs 8 bytes");
}

TEST_CASE("a record without elements may not claim extents beyond int64") {
  const TempFile file("empty.bin");
  nn::save_tensors(file.path(), {{"x", zeros({0, 1, 1})}});
  std::string bytes = file.bytes();
  // Header (16), name length (4), "x", dtype (1), ndim (4): the dims start at byte 26. Dims 1 and 2 become
  // 2^62.
  bytes[34 + 7] = 0x40;
  bytes[42 + 7] = 0x40;
  file.write(bytes);
  CHECK(contains(error_message([&] { nn::load_tensors(file.path()); }),
                 "tensor 'x' has extents whose product exceeds 2^63"));
}

TEST_CASE("a directory or a device instead of a file is an error, not a read without end") {
  const TempFile file("params");
  std::filesystem::create_directories(file.path());
  CHECK(contains(error_message([&] { nn::load_tensors(file.path()); }), "not a regular file"));
  CHECK(contains(error_message([&] { nn::load_tensors("/dev/zero"); }), "/dev/zero: not a regular file"));
}

TEST_CASE("a missing file is rejected with its path") {
  Generator gen(4);
  Tiny model(gen);
  const std::string path = "/nonexistent/dphys/model.params";
  const std::string message = error_message([&] { nn::load_parameters(path, model); });
  CHECK(contains(message, "load_parameters"));
  CHECK(contains(message, path));
  CHECK(contains(message, "cannot open"));
  CHECK(contains(error_message([&] { nn::save_parameters(path, model); }), "cannot create"));
}

TEST_CASE("mismatched shapes, dtypes and names are rejected and leave the model unchanged") {
  Generator gen(5);
  const TempFile file("model.params");
  Tiny model(gen);
  const NamedTensors before = snapshot(model);

  Tiny wider(gen, 4);
  nn::save_parameters(file.path(), wider);
  std::string message = error_message([&] { nn::load_parameters(file.path(), model); });
  CHECK(contains(message, "'weight' is [3, 4] f32 in " + file.path() + " but [3, 2] f32 in the module"));
  CHECK(contains(message, "'bias' is [4] f32 in " + file.path() + " but [2] f32 in the module"));
  check_unchanged(model, before);

  NamedTensors renamed = snapshot(model);
  renamed[1].first = "bias_renamed";
  renamed.emplace_back("extra", zeros({1}));
  nn::save_tensors(file.path(), renamed);
  message = error_message([&] { nn::load_parameters(file.path(), model); });
  CHECK(contains(message, "missing bias"));
  CHECK(contains(message, "not in the module: bias_renamed, extra"));
  check_unchanged(model, before);

  NamedTensors wrong_dtype = snapshot(model);
  wrong_dtype[2].second = cast(wrong_dtype[2].second, DType::f64);
  nn::save_tensors(file.path(), wrong_dtype);
  message = error_message([&] { nn::load_parameters(file.path(), model); });
  CHECK(contains(message, "'running' is [2] f64 in " + file.path() + " but [2] f32 in the module"));
  check_unchanged(model, before);
}

TEST_CASE("load_module_state copies named tensors into a module and names their source in errors") {
  Generator gen(6);
  Tiny source(gen), target(gen);
  NamedTensors state;  // copies in reverse order: names, not positions, decide where each goes
  for (const auto& [name, tensor] : nn::module_state(source))
    state.emplace(state.begin(), name, tensor.clone());
  nn::load_module_state(target, state, "the checkpoint");
  check_unchanged(target, snapshot(source));

  const NamedTensors before = snapshot(target);
  NamedTensors doubled = state;
  doubled.push_back(state.front());
  CHECK(contains(error_message([&] { nn::load_module_state(target, doubled, "the checkpoint"); }),
                 "the checkpoint: '" + state.front().first + "' appears twice"));
  state.pop_back();
  const std::string message = error_message([&] { nn::load_module_state(target, state, "the checkpoint"); });
  CHECK(contains(message,
                 "the checkpoint does not match the module (3 parameters and buffers): missing weight"));
  check_unchanged(target, before);
}

TEST_CASE("save_tensors rejects duplicate names") {
  const TempFile file("dup.bin");
  CHECK(contains(error_message([&] {
                   nn::save_tensors(file.path(), {{"x", ones({1})}, {"x", ones({1})}});
                 }),
                 "'x' appears twice"));
}

TEST_CASE("optimizer state round trips through a file and training continues identically") {
  Generator gen(6);
  const Tensor start = normal({4}, 0, 1, gen, DType::f64);
  const Tensor a = from_vector({1.0, 2.0, 0.5, 3.0}, {4}, DType::f64);
  auto train = [&](optim::Optimizer& opt, const Tensor& theta, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      backward(sum(a * theta * theta));
      opt.step();
    }
  };
  optim::AdamOptions options;
  options.lr = 0.05;
  const Tensor theta = start.clone().requires_grad_();
  optim::Adam adam({theta}, options);
  train(adam, theta, 3);
  adam.set_lr(0.02);

  const TempFile file("adam.state");
  nn::save_tensors(file.path(), adam.state());
  const Tensor resumed_theta = theta.clone().requires_grad_();
  optim::Adam resumed({resumed_theta}, optim::AdamOptions());
  resumed.load_state(nn::load_tensors(file.path()));
  CHECK(resumed.lr() == 0.02);

  const NamedTensors original = adam.state(), restored = resumed.state();
  REQUIRE(original.size() == restored.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    CHECK(original[i].first == restored[i].first);
    CHECK(bit_equal(original[i].second, restored[i].second));
  }
  train(adam, theta, 2);
  train(resumed, resumed_theta, 2);
  CHECK(bit_equal(theta.detach(), resumed_theta.detach()));
}
