// Start-up steps shared by the run and the -security-report dry run (internal to system/vl*.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "accel/accel.h"
#include "base/run_control.h"
#include "hw/machine.h"
#include "object/type_registry.h"
#include "policy/policy.h"
#include "system/cmdline.h"
#include "system/objects/objects.h"
#include "system/vm.h"

namespace corvid::vl {

// QEMU's error_report: "<prog>: [<location>: ]<message>".
void report(const std::string& location, const std::string& message);
void warn(const std::string& message);
void set_prog(const std::string& prog);
const std::string& prog();

struct MachineChoice {
    const TypeInfo* type = nullptr;
    std::string location;
    std::string accel_from_machine;  // -machine accel=a:b
    std::string memory_backend;      // -machine memory-backend=ID
    PolicyLevel level = PolicyLevel::kAccept;
};

// Resolves -machine, its properties and the policy level (-machine ..., -compat). False: reported.
bool resolve_machine(const Config& cfg, const TypeRegistry& registry, MachineChoice* out);

struct AccelChoice {
    std::string name;
    std::string location;
    OptionList props;
};
// Every -accel in order, else -machine accel=a:b, else qtest when -qtest is given, else the default.
std::vector<AccelChoice> accel_choices(const Config& cfg, const TypeRegistry& registry, const MachineChoice& m);

// -m, -smp, -kernel...: false when reported.
bool machine_options(const Config& cfg, MachineOptions* out);

// -machine memory-backend=ID (QEMU >= 5.0): the object must be a memory-backend-ram; its size
// becomes the RAM size (an explicit -m must equal it) and its memory the board's RAM. Call
// after machine_options and the -object loop. `*backend` is the object (null on a dry run or
// without the option). False when reported.
bool resolve_memory_backend(Vm& vm, const MachineChoice& mc, MachineOptions* mopts, MemoryBackendRam** backend);

}  // namespace corvid::vl
