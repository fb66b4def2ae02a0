// Factories of the concrete accelerators (registered by register_accel_types).
#pragma once

#include <memory>

#include "accel/accel.h"
#include "base/options.h"

namespace corvid {

std::unique_ptr<Accelerator> make_kvm_accel(const OptionList& props);
std::unique_ptr<Accelerator> make_qtest_accel(const OptionList& props);
Result<std::unique_ptr<Accelerator>> make_tcg_accel(const OptionList& props);

}  // namespace corvid
