// The emulator's start-up sequence behind main(): parse, check policy, build, run.
#pragma once

#include <string>
#include <vector>

#include "hw/machine.h"
#include "object/type_registry.h"

namespace corvid {

// Registers every type a binary for `arch` offers (machines, accelerators, devices...).
void register_all_types(TypeRegistry& registry, Arch arch);

// The whole program: returns the process exit status.
int system_main(Arch arch, int argc, char** argv);

// Help listings (also used by tests and the doc generator).
std::string machine_help(const TypeRegistry& registry);
std::string accel_help(const TypeRegistry& registry);
std::string device_help(const TypeRegistry& registry);
std::string chardev_help(const TypeRegistry& registry);
std::string object_help(const TypeRegistry& registry);

}  // namespace corvid
