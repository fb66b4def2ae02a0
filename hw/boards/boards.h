// Registration of the board (machine) types each binary offers.
#pragma once

#include "hw/machine.h"
#include "object/type_registry.h"

namespace corvid {

// AArch64: virt (secure, default), none (insecure).
// x86_64: pc (secure, default), q35 (secure), microvm (secure), isapc (insecure), none (insecure).
void register_machine_types(TypeRegistry& registry, Arch arch);

void register_x86_machines(TypeRegistry& registry);
void register_aarch64_machines(TypeRegistry& registry);

// A device type that only a board creates (declared secure, listed by -device help and the
// security report, refused by -device with "NAME is an onboard device of BOARD").
void register_onboard_type(TypeRegistry& registry, const char* name, const char* parent, const char* description,
                           const char* board);

}  // namespace corvid
