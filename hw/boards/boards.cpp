// Board registration dispatch and shared helpers.
#include "hw/boards/boards.h"

#include <fmt/format.h>

namespace corvid {

const char* arch_name(Arch arch) { return arch == Arch::kAArch64 ? "aarch64" : "x86_64"; }

void register_machine_types(TypeRegistry& registry, Arch arch) {
    if (arch == Arch::kAArch64) {
        register_aarch64_machines(registry);
    } else {
        register_x86_machines(registry);
    }
}

void register_onboard_type(TypeRegistry& registry, const char* name, const char* parent, const char* description,
                           const char* board) {
    TypeInfo t;
    t.name = name;
    t.parent = parent;
    t.description = description;
    t.security = Security::kSecure;
    t.user_creatable = false;
    t.factory = [name = std::string(name), board = std::string(board)](
                    const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return make_error(fmt::format("{} is an onboard device of {}", name, board));
    };
    (void)registry.add(std::move(t));
}

}  // namespace corvid
