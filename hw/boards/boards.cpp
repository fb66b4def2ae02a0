// Board registration dispatch and shared helpers.
#include "hw/boards/boards.h"

namespace corvid {

const char* arch_name(Arch arch) { return arch == Arch::kAArch64 ? "aarch64" : "x86_64"; }

void register_machine_types(TypeRegistry& registry, Arch arch) {
    if (arch == Arch::kAArch64) {
        register_aarch64_machines(registry);
    } else {
        register_x86_machines(registry);
    }
}

}  // namespace corvid
