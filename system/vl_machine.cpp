// Machine, policy level, accelerator candidates and machine options from the command line.
#include "system/vl_machine.h"

#include <fmt/format.h>

namespace corvid::vl {
namespace {

std::string g_prog = "corvid";

// Machine properties this version understands (beyond the policy ones).
bool known_machine_prop(const std::string& k) {
    return k == "type" || k == "accel" || k == "require-secure" || k == "prohibit-insecure" || k == "usb" ||
           k == "graphics" || k == "dump-guest-core" || k == "mem-merge" || k == "memory-backend";
}

}  // namespace

void set_prog(const std::string& p) {
    g_prog = p;
}
const std::string& prog() {
    return g_prog;
}

// Multi-line messages print their leading lines bare (as QEMU's KVM set-up does) and prefix
// the last.
void report(const std::string& location, const std::string& message) {
    std::string msg = message;
    size_t nl = msg.rfind('\n');
    if (nl != std::string::npos) {
        fmt::print(stderr, "{}\n", msg.substr(0, nl));
        msg = msg.substr(nl + 1);
    }
    if (location.empty()) {
        fmt::print(stderr, "{}: {}\n", g_prog, msg);
    } else {
        fmt::print(stderr, "{}: {}: {}\n", g_prog, location, msg);
    }
}

void warn(const std::string& message) {
    fmt::print(stderr, "{}: warning: {}\n", g_prog, message);
}

bool resolve_machine(const Config& cfg, const TypeRegistry& registry, MachineChoice* out) {
    std::string machine_name;
    PolicySettings settings;
    for (const OptionArg& m : cfg.machine) {
        for (const auto& [k, v] : m.opts.items) {
            if (k == "type") {
                machine_name = v;
            } else if (k == "require-secure" || k == "prohibit-insecure") {
                auto b = parse_bool_property(k, v);
                if (!b) {
                    report(m.location(), b.error());
                    return false;
                }
                (k == "require-secure" ? settings.require_secure : settings.prohibit_insecure) = *b;
            } else if (k == "accel") {
                out->accel_from_machine = v;
            } else if (k == "memory-backend") {
                out->memory_backend = v;
            }
        }
        out->location = m.location();
    }
    if (machine_name.empty()) {
        for (const TypeInfo* t : registry.list(kTypeMachine)) {
            if (t->is_default) out->type = t;
        }
        if (!out->type) {
            report("", "No machine specified, and there is no default\nUse -machine help to list supported machines");
            return false;
        }
    } else {
        out->type = registry.find(machine_name);
        if (!out->type || !registry.is_a(*out->type, kTypeMachine) || out->type->abstract) {
            report(out->location, "unsupported machine type (use -machine help to list supported machines)");
            return false;
        }
    }
    for (const OptionArg& m : cfg.machine) {
        for (const auto& [k, v] : m.opts.items) {
            // virt's interrupt controller: QEMU's default GICv2 is the one modelled.
            if (k == "gic-version" && out->type->name == "virt-machine") {
                if (v != "2") {
                    report(m.location(), fmt::format("gic-version={} is not supported: Corvid's virt board models "
                                                     "GICv2 only (gic-version=2)", v));
                    return false;
                }
                continue;
            }
            if (!known_machine_prop(k)) {
                report("", fmt::format("Property '{}.{}' not found", out->type->name, k));
                return false;
            }
        }
    }
    for (const OptionArg& c : cfg.compat) {
        for (const auto& [k, v] : c.opts.items) {
            if (k == "insecure-types") {
                auto lvl = parse_insecure_types(v);
                if (!lvl) {
                    report(c.location(), lvl.error());
                    return false;
                }
                settings.compat = *lvl;
            } else if (k == "deprecated-input" || k == "deprecated-output" || k == "unstable-input" ||
                       k == "unstable-output") {
                // QEMU's other -compat policies: accepted, no effect here.
            } else {
                report(c.location(), fmt::format("Parameter '{}' is unexpected", k));
                return false;
            }
        }
    }
    auto level = settings.level();
    if (!level) {
        report(out->location, level.error());
        return false;
    }
    out->level = *level;
    return true;
}

std::vector<AccelChoice> accel_choices(const Config& cfg, const TypeRegistry& registry, const MachineChoice& m) {
    std::vector<AccelChoice> accels;
    for (const OptionArg& a : cfg.accel) accels.push_back({a.opts.get("accel").value_or(""), a.location(), a.opts});
    if (accels.empty() && !m.accel_from_machine.empty()) {
        size_t start = 0;
        while (start <= m.accel_from_machine.size()) {
            size_t colon = m.accel_from_machine.find(':', start);
            std::string name = m.accel_from_machine.substr(start, colon - start);
            if (!name.empty()) accels.push_back({name, "", OptionList{}});
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    if (accels.empty() && !cfg.qtest.empty()) accels.push_back({"qtest", "", OptionList{}});
    if (accels.empty()) {
        for (const TypeInfo* t : registry.list(kTypeAccel)) {
            if (t->is_default) accels.push_back({t->short_name, "", OptionList{}});
        }
    }
    return accels;
}

bool machine_options(const Config& cfg, MachineOptions* mopts) {
    if (cfg.memory) {
        std::string size = cfg.memory->opts.get("size").value_or("");
        auto bytes = parse_size(size, 1ull << 20);
        if (!bytes || *bytes == 0) {
            report(cfg.memory->location(), bytes ? "memory size must be greater than zero" : bytes.error());
            return false;
        }
        if (*bytes < (1ull << 20) || *bytes > (64ull << 30)) {
            report(cfg.memory->location(), "ram size must be between 1M and 64G");
            return false;
        }
        mopts->ram_size = *bytes;
    }
    if (cfg.smp) {
        for (const auto& [k, v] : cfg.smp->opts.items) {
            if (k != "cpus" && k != "sockets" && k != "cores" && k != "threads" && k != "maxcpus") {
                report(cfg.smp->location(), fmt::format("Invalid parameter '{}'", k));
                return false;
            }
            if (v != "1") {
                report(cfg.smp->location(), fmt::format("Invalid SMP CPUs {}: only 1 CPU is supported", v));
                return false;
            }
        }
    }
    mopts->kernel = cfg.kernel;
    mopts->append = cfg.append;
    mopts->initrd = cfg.initrd;
    mopts->semihosting = cfg.semihosting;
    mopts->no_reboot = cfg.no_reboot;
    return true;
}

bool resolve_memory_backend(Vm& vm, const MachineChoice& mc, MachineOptions* mopts, MemoryBackendRam** backend) {
    *backend = nullptr;
    if (mc.memory_backend.empty()) return true;
    auto* mb = dynamic_cast<MemoryBackendRam*>(vm.find_object(mc.memory_backend));
    bool known = mb != nullptr;
    // A dry run creates no objects: the recorded type stands for the object.
    for (const auto& o : vm.objects()) {
        known |= (vm.dry_run() && o.id == mc.memory_backend && o.type->name == "memory-backend-ram");
    }
    if (!known) {
        report("", fmt::format("Memory backend '{}' not found", mc.memory_backend));
        return false;
    }
    if (!mb) return true;
    if (mopts->ram_size != 0 && mopts->ram_size != mb->size()) {
        // QEMU 7.2's wording (later versions say "Size specified by -m option must match ...").
        report("", "Machine memory size does not match the size of the memory backend");
        return false;
    }
    mopts->ram_size = mb->size();
    mopts->ram_host = mb->host();
    *backend = mb;
    return true;
}

}  // namespace corvid::vl
