#pragma once
// Errors raised by dphys: every message names the op and the shapes, dtypes or devices involved.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <utility>

namespace dphys {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace dphys

#define DPHYS_CHECK(condition, ...)               \
  do {                                            \
    if (!(condition)) ::dphys::fail(__VA_ARGS__); \
  } while (0)
