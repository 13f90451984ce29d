#include "nn/serialize.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "autodiff/grad_mode.h"

namespace dphys::nn {

namespace {

constexpr char kMagic[8] = {'D', 'P', 'H', 'Y', 'S', 'P', 'R', 'M'};
constexpr std::uint32_t kVersion = 1;

// Element bytes are copied as they lie in memory, which is the file's byte order only on little-endian hosts.
bool host_is_little_endian() {
  const std::uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// The file's dtype codes, fixed by the format whatever the order of the DType enum.
std::uint8_t dtype_code(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 0;
    case DType::f64:
      return 1;
    case DType::c64:
      return 2;
    case DType::c128:
      return 3;
    case DType::i64:
      return 4;
  }
  fail("save_tensors: unknown dtype {}", static_cast<int>(dtype));
}

bool dtype_from_code(std::uint8_t code, DType& dtype) {
  constexpr DType by_code[] = {DType::f32, DType::f64, DType::c64, DType::c128, DType::i64};
  if (code >= std::size(by_code)) return false;
  dtype = by_code[code];
  return true;
}

std::string describe(const Tensor& t) {
  return fmt::format("{} {}", shape_str(t.shape()), dtype_name(t.dtype()));
}

class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  void bytes(const void* data, std::size_t size) { out_.write(static_cast<const char*>(data), size); }
  void u8(std::uint8_t v) { bytes(&v, 1); }
  void u32(std::uint32_t v) { little_endian(v, 4); }
  void i64(std::int64_t v) { little_endian(static_cast<std::uint64_t>(v), 8); }

 private:
  void little_endian(std::uint64_t v, int size) {
    unsigned char b[8];
    for (int i = 0; i < size; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(b, size);
  }
  std::ostream& out_;
};

// Bounds-checked reading of a file held in memory.
class Reader {
 public:
  Reader(const std::string& data, const std::string& path, const char* op)
      : data_(data), path_(path), op_(op) {}
  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return data_.size() - offset_; }
  // The next `size` bytes, or an error naming what was being read.
  const char* take(std::uint64_t size, const std::string& what) {
    if (size > remaining()) truncated(what, std::to_string(size));
    const char* p = data_.data() + offset_;
    offset_ += size;
    return p;
  }
  [[noreturn]] void truncated(const std::string& what, const std::string& size) const {
    fail("{}: {}: truncated file: {} needs {} bytes at offset {}, but the file ends after {} bytes", op_,
         path_, what, size, offset_, data_.size());
  }
  std::uint8_t u8(const std::string& what) { return static_cast<std::uint8_t>(*take(1, what)); }
  std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(little_endian(4, what)); }
  std::int64_t i64(const std::string& what) { return static_cast<std::int64_t>(little_endian(8, what)); }
  [[noreturn]] void corrupt(const std::string& reason) const {
    fail("{}: {}: corrupt file: {} (offset {})", op_, path_, reason, offset_);
  }

 private:
  std::uint64_t little_endian(int size, const std::string& what) {
    const auto* b = reinterpret_cast<const unsigned char*>(take(size, what));
    std::uint64_t v = 0;
    for (int i = 0; i < size; ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    return v;
  }
  const std::string& data_;
  const std::string& path_;
  const char* op_;
  std::size_t offset_ = 0;
};

NamedTensors read_tensors(const std::string& path, const char* op) {
  DPHYS_CHECK(host_is_little_endian(), "{}: {}: big-endian hosts are not supported", op, path);
  // A regular file, read to the size it has: a directory made the stream throw from inside the read, and
  // /dev/zero or a pipe would be read without end before the magic was ever checked.
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status))
    fail("{}: {}: cannot open file: {}", op, path, error ? error.message() : "No such file or directory");
  if (!std::filesystem::is_regular_file(status)) fail("{}: {}: not a regular file", op, path);
  const std::uintmax_t file_size = std::filesystem::file_size(path, error);
  if (error) fail("{}: {}: cannot read its size: {}", op, path, error.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: {}: cannot open file: {}", op, path, std::strerror(errno));
  std::string data(static_cast<std::size_t>(file_size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad() || static_cast<std::uintmax_t>(in.gcount()) != file_size)
    fail("{}: {}: read error after {} of {} bytes", op, path, in.gcount(), file_size);

  Reader reader(data, path, op);
  if (std::memcmp(reader.take(sizeof(kMagic), "the magic \"DPHYSPRM\""), kMagic, sizeof(kMagic)) != 0)
    fail("{}: {}: bad magic: not a dphys tensor file (expected it to start with \"DPHYSPRM\")", op, path);
  const std::uint32_t version = reader.u32("the version");
  if (version != kVersion)
    fail("{}: {}: unsupported version {}; this build reads version {}", op, path, version, kVersion);
  const std::uint32_t count = reader.u32("the tensor count");

  NamedTensors out;
  std::set<std::string> names;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string record = fmt::format("tensor {} of {}", i, count);
    const std::uint32_t name_length = reader.u32(record + ": name length");
    const std::string name(reader.take(name_length, record + ": name"), name_length);
    const std::string what = fmt::format("tensor '{}'", name);
    if (!names.insert(name).second) reader.corrupt(fmt::format("{} appears twice", what));
    DType dtype = DType::f32;
    const std::uint8_t code = reader.u8(what + ": dtype");
    if (!dtype_from_code(code, dtype))
      reader.corrupt(fmt::format("{} has unknown dtype code {}", what, code));
    const std::uint32_t ndim = reader.u32(what + ": ndim");
    if (8 * static_cast<std::uint64_t>(ndim) > reader.remaining())
      reader.truncated(fmt::format("{}: dims (ndim {})", what, ndim),
                       std::to_string(8 * static_cast<std::uint64_t>(ndim)));
    Shape shape;
    bool empty = false;
    for (std::uint32_t d = 0; d < ndim; ++d) {
      shape.push_back(reader.i64(what + ": dims"));
      if (shape.back() < 0) reader.corrupt(fmt::format("{} has negative dimension {}", what, shape.back()));
      empty = empty || shape.back() == 0;
    }
    // The byte count in long double (exact up to 2^64), compared with what is left of the file. A tensor
    // without elements still may not have extents whose product leaves int64, where shape arithmetic
    // (numel, strides) would overflow.
    const std::string payload =
        fmt::format("{}: {} data of shape {}", what, dtype_name(dtype), shape_str(shape));
    long double extents = 1;
    for (std::int64_t extent : shape) extents *= static_cast<long double>(std::max<std::int64_t>(extent, 1));
    if (extents > static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
      reader.corrupt(fmt::format("{} has extents whose product exceeds 2^63", what));
    const long double bytes_needed = empty ? 0 : extents * static_cast<long double>(dtype_size(dtype));
    if (bytes_needed > static_cast<long double>(reader.remaining()))
      reader.truncated(payload, fmt::format("{:.0f}", bytes_needed));
    const auto size = static_cast<std::uint64_t>(bytes_needed);
    const char* bytes = reader.take(size, payload);
    Tensor tensor = Tensor::empty(shape, dtype);
    if (size > 0) std::memcpy(tensor.raw_data(), bytes, size);
    out.emplace_back(name, tensor);
  }
  if (reader.remaining() != 0)
    reader.corrupt(fmt::format("{} trailing bytes after the last of {} tensors", reader.remaining(), count));
  return out;
}

}  // namespace

void save_tensors(const std::string& path, const NamedTensors& tensors) {
  DPHYS_CHECK(host_is_little_endian(), "save_tensors: {}: big-endian hosts are not supported", path);
  DPHYS_CHECK(tensors.size() <= std::numeric_limits<std::uint32_t>::max(),
              "save_tensors: {}: {} tensors is too many", path, tensors.size());
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    DPHYS_CHECK(tensor.defined(), "save_tensors: {}: tensor '{}' is undefined", path, name);
    DPHYS_CHECK(names.insert(name).second, "save_tensors: {}: the name '{}' appears twice", path, name);
    DPHYS_CHECK(name.size() <= std::numeric_limits<std::uint32_t>::max(),
                "save_tensors: {}: a name is too long", path);
  }

  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail("save_tensors: {}: cannot create {}: {}", path, temporary, std::strerror(errno));
    Writer writer(out);
    writer.bytes(kMagic, sizeof(kMagic));
    writer.u32(kVersion);
    writer.u32(static_cast<std::uint32_t>(tensors.size()));
    for (const auto& [name, tensor] : tensors) {
      writer.u32(static_cast<std::uint32_t>(name.size()));
      writer.bytes(name.data(), name.size());
      writer.u8(dtype_code(tensor.dtype()));
      writer.u32(static_cast<std::uint32_t>(tensor.dim()));
      for (std::int64_t extent : tensor.shape()) writer.i64(extent);
      const Tensor host = tensor.to(Device::cpu());  // a device tensor is written from a host copy
      writer.bytes(host.raw_data(), host.numel() * dtype_size(host.dtype()));
    }
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      fail("save_tensors: {}: write to {} failed: {}", path, temporary, std::strerror(errno));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    fail("save_tensors: {}: cannot rename {} to it: {}", path, temporary, std::strerror(error));
  }
}

NamedTensors load_tensors(const std::string& path) { return read_tensors(path, "load_tensors"); }

NamedTensors module_state(const Module& module) {
  NamedTensors tensors = module.named_parameters();
  for (auto& entry : module.named_buffers()) tensors.push_back(std::move(entry));
  return tensors;
}

void load_module_state(Module& module, const NamedTensors& state, const std::string& source) {
  const NamedTensors targets = module_state(module);
  std::map<std::string, Tensor> given;
  for (const auto& [name, tensor] : state)
    DPHYS_CHECK(given.emplace(name, tensor).second, "load_module_state: {}: '{}' appears twice", source,
                name);
  std::vector<std::string> missing, mismatched;
  std::set<std::string> expected;
  for (const auto& [name, target] : targets) {
    DPHYS_CHECK(expected.insert(name).second, "load_module_state: {}: the module has two tensors named '{}'",
                source, name);
    const auto found = given.find(name);
    if (found == given.end()) {
      missing.push_back(name);
    } else if (found->second.shape() != target.shape() || found->second.dtype() != target.dtype()) {
      mismatched.push_back(fmt::format("'{}' is {} in {} but {} in the module", name, describe(found->second),
                                       source, describe(target)));
    }
  }
  std::vector<std::string> extra;
  for (const auto& [name, tensor] : state)
    if (expected.count(name) == 0) extra.push_back(name);

  std::vector<std::string> problems;
  if (!missing.empty()) problems.push_back(fmt::format("missing {}", fmt::join(missing, ", ")));
  if (!extra.empty()) problems.push_back(fmt::format("not in the module: {}", fmt::join(extra, ", ")));
  for (const std::string& m : mismatched) problems.push_back(m);
  if (!problems.empty())
    fail(
        "load_module_state: {} does not match the module ({} parameters and buffers): {}; the module is "
        "unchanged",
        source, targets.size(), fmt::join(problems, "; "));

  NoGradGuard no_grad;
  for (const auto& [name, target] : targets) Tensor(target).copy_(given.at(name));
}

void save_parameters(const std::string& path, const Module& module) {
  save_tensors(path, module_state(module));
}

void load_parameters(const std::string& path, Module& module) {
  load_module_state(module, read_tensors(path, "load_parameters"), path);
}

}  // namespace dphys::nn
