// Type registration for a binary and the `help` listings of -machine/-accel/-device/-chardev/-object.
#include <fmt/format.h>

#include "accel/accel.h"
#include "hw/boards/boards.h"
#include "system/chardev/chardev.h"
#include "system/objects/objects.h"
#include "system/vl.h"

namespace corvid {
namespace {

std::string security_mark(Security s) {
    switch (s) {
        case Security::kSecure: return " (secure)";
        case Security::kInsecure: return " (insecure)";
        case Security::kUndeclared: return "";
    }
    return "";
}

std::string list_help(const TypeRegistry& registry, const char* root, const char* heading) {
    std::string out = heading;
    for (const TypeInfo* t : registry.list(root)) {
        const std::string& name = t->short_name.empty() ? t->name : t->short_name;
        out += fmt::format("{:<20} {}{}{}\n", name, t->description, security_mark(t->security),
                           t->is_default ? " (default)" : "");
    }
    return out;
}

}  // namespace

std::string machine_help(const TypeRegistry& r) {
    return list_help(r, kTypeMachine, "Supported machines are:\n");
}
std::string accel_help(const TypeRegistry& r) {
    return list_help(r, kTypeAccel, "Accelerators supported in QEMU binary:\n");
}
std::string chardev_help(const TypeRegistry& r) {
    std::string out = "Available chardev backend types:\n";
    for (const TypeInfo* t : r.list(kTypeChardev)) {
        std::string backend = t->name.rfind("chardev-", 0) == 0 ? t->name.substr(8) : t->name;
        out += fmt::format("{:<20} {}{}\n", backend, t->description, security_mark(t->security));
    }
    return out;
}
std::string object_help(const TypeRegistry& r) {
    return list_help(r, kTypeObject, "List of user creatable objects:\n");
}

std::string device_help(const TypeRegistry& r) {
    std::string out;
    std::vector<const TypeInfo*> devs;
    for (const TypeInfo* t : r.list(kTypeDevice)) {
        if (t->user_creatable) devs.push_back(t);
    }
    if (devs.empty()) return "No user-creatable devices in this version.\n";
    out += "Devices:\n";
    for (const TypeInfo* t : devs) {
        out += fmt::format("name \"{}\", desc \"{}\"{}\n", t->short_name.empty() ? t->name : t->short_name,
                           t->description, security_mark(t->security));
    }
    return out;
}

void register_all_types(TypeRegistry& registry, Arch arch) {
    register_root_types(registry);
    register_machine_types(registry, arch);
    register_accel_types(registry, arch);
    register_chardev_types(registry);
    register_object_types(registry);
}

}  // namespace corvid
