// Built instead of torch_cases.cpp when libtorch is not installed: strata's
// figures alone, against the probes.
#include "cases.hpp"

namespace bench {

void register_libtorch(const CaseSpec&) {}
bool have_libtorch() {
  return false;
}
std::string libtorch_version() {
  return "";
}
void set_libtorch_threads(int) {}

}  // namespace bench
