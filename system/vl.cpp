// Start-up sequence: parse, resolve and check the machine, resolve and check the accelerator,
// check every -device, build the board, initialise the accelerator, run.
#include "system/vl.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "accel/accel.h"
#include "base/log.h"
#include "base/run_control.h"
#include "hw/boards/boards.h"
#include "policy/policy.h"
#include "system/char_backends.h"
#include "system/cmdline.h"
#include "system/version.h"

namespace corvid {
namespace {

std::string g_prog = "corvid";

// QEMU's error_report: "<prog>: [<location>: ]<message>". Multi-line messages print their
// leading lines bare (as QEMU's KVM set-up does) and prefix the last.
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

void warn(const std::string& message) { fmt::print(stderr, "{}: warning: {}\n", g_prog, message); }

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

// Machine properties this version understands (beyond the policy ones).
bool known_machine_prop(const std::string& k) {
    return k == "type" || k == "accel" || k == "require-secure" || k == "prohibit-insecure" || k == "usb" ||
           k == "graphics" || k == "dump-guest-core" || k == "mem-merge";
}

struct Startup {
    Arch arch;
    TypeRegistry registry;
    Config cfg;
    Policy policy;
    RunControl& rc = RunControl::global();
};

}  // namespace

std::string machine_help(const TypeRegistry& r) { return list_help(r, kTypeMachine, "Supported machines are:\n"); }
std::string accel_help(const TypeRegistry& r) { return list_help(r, kTypeAccel, "Accelerators supported in QEMU binary:\n"); }
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
}

int system_main(Arch arch, int argc, char** argv) {
    g_prog = argc > 0 ? argv[0] : "corvid";
    if (size_t slash = g_prog.rfind('/'); slash != std::string::npos) g_prog = g_prog.substr(slash + 1);

    Startup s{arch, {}, {}, Policy{}};
    register_all_types(s.registry, arch);

    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto parsed = parse_command_line(args);
    if (!parsed) {
        report("", parsed.error());
        return 1;
    }
    Config& cfg = *parsed;

    if (cfg.show_help) {
        fmt::print("{}", usage_text(g_prog));
        return 0;
    }
    if (cfg.show_version) {
        fmt::print("{} version {}\n", g_prog, kCorvidVersion);
        return 0;
    }
    if (cfg.help_machine) {
        fmt::print("{}", machine_help(s.registry));
        return 0;
    }
    if (cfg.help_accel) {
        fmt::print("{}", accel_help(s.registry));
        return 0;
    }
    if (cfg.help_device) {
        fmt::print("{}", device_help(s.registry));
        return 0;
    }
    if (cfg.help_log) {
        size_t n;
        const log::CategoryInfo* cats = log::categories(&n);
        fmt::print("Log items (comma separated):\n");
        for (size_t i = 0; i < n; ++i) fmt::print("{:<15} {}\n", cats[i].name, cats[i].help);
        return 0;
    }

    // Logging.
    if (!cfg.log_items.empty()) {
        auto m = log::parse_categories(cfg.log_items);
        if (!m) {
            report("-d " + cfg.log_items, m.error());
            return 1;
        }
        log::set_mask(*m);
    }
    if (!cfg.log_file.empty()) {
        if (auto st = log::set_file(cfg.log_file); !st) {
            report("-D " + cfg.log_file, st.error());
            return 1;
        }
    }

    // Machine: the last type named wins; properties accumulate.
    std::string machine_name;
    std::string machine_loc;
    PolicySettings settings;
    std::string accel_from_machine;
    for (const OptionArg& m : cfg.machine) {
        for (const auto& [k, v] : m.opts.items) {
            if (k == "type") {
                machine_name = v;
            } else if (k == "require-secure" || k == "prohibit-insecure") {
                auto b = parse_bool_property(k, v);
                if (!b) {
                    report(m.location(), b.error());
                    return 1;
                }
                (k == "require-secure" ? settings.require_secure : settings.prohibit_insecure) = *b;
            } else if (k == "accel") {
                accel_from_machine = v;
            }
        }
        machine_loc = m.location();
    }
    const TypeInfo* machine_type = nullptr;
    if (machine_name.empty()) {
        for (const TypeInfo* t : s.registry.list(kTypeMachine)) {
            if (t->is_default) machine_type = t;
        }
        if (!machine_type) {
            report("", "No machine specified, and there is no default\nUse -machine help to list supported machines");
            return 1;
        }
    } else {
        machine_type = s.registry.find(machine_name);
        if (!machine_type || !s.registry.is_a(*machine_type, kTypeMachine) || machine_type->abstract) {
            report(machine_loc, "unsupported machine type (use -machine help to list supported machines)");
            return 1;
        }
    }
    for (const OptionArg& m : cfg.machine) {
        for (const auto& [k, v] : m.opts.items) {
            if (!known_machine_prop(k)) {
                report("", fmt::format("Property '{}.{}' not found", machine_type->name, k));
                return 1;
            }
        }
    }
    for (const OptionArg& c : cfg.compat) {
        for (const auto& [k, v] : c.opts.items) {
            if (k == "insecure-types") {
                auto lvl = parse_insecure_types(v);
                if (!lvl) {
                    report(c.location(), lvl.error());
                    return 1;
                }
                settings.compat = *lvl;
            } else if (k == "deprecated-input" || k == "deprecated-output" || k == "unstable-input" ||
                       k == "unstable-output") {
                // QEMU's other -compat policies: accepted, no effect here.
            } else {
                report(c.location(), fmt::format("Parameter '{}' is unexpected", k));
                return 1;
            }
        }
    }
    auto level = settings.level();
    if (!level) {
        report(machine_loc, level.error());
        return 1;
    }
    s.policy.set_level(*level);
    s.policy.set_warning_sink(warn);

    if (auto st = s.policy.check(*machine_type); !st) {
        report("", st.error());
        return 1;
    }

    // Accelerator candidates: every -accel in order, else -machine accel=a:b, else the default.
    struct AccelChoice {
        std::string name;
        std::string location;
        OptionList props;
    };
    std::vector<AccelChoice> accels;
    for (const OptionArg& a : cfg.accel) {
        accels.push_back({a.opts.get("accel").value_or(""), a.location(), a.opts});
    }
    if (accels.empty() && !accel_from_machine.empty()) {
        size_t start = 0;
        while (start <= accel_from_machine.size()) {
            size_t colon = accel_from_machine.find(':', start);
            std::string name = accel_from_machine.substr(start, colon - start);
            if (!name.empty()) accels.push_back({name, "", OptionList{}});
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    if (accels.empty()) {
        for (const TypeInfo* t : s.registry.list(kTypeAccel)) {
            if (t->is_default) accels.push_back({t->short_name, "", OptionList{}});
        }
    }

    // Machine options.
    MachineOptions mopts;
    if (cfg.memory) {
        std::string size = cfg.memory->opts.get("size").value_or("");
        auto bytes = parse_size(size, 1ull << 20);
        if (!bytes || *bytes == 0) {
            report(cfg.memory->location(), bytes ? "memory size must be greater than zero" : bytes.error());
            return 1;
        }
        if (*bytes < (1ull << 20) || *bytes > (64ull << 30)) {
            report(cfg.memory->location(), "ram size must be between 1M and 64G");
            return 1;
        }
        mopts.ram_size = *bytes;
    }
    if (cfg.smp) {
        std::string cpus = cfg.smp->opts.get("cpus").value_or("1");
        for (const auto& [k, v] : cfg.smp->opts.items) {
            if (k != "cpus" && k != "sockets" && k != "cores" && k != "threads" && k != "maxcpus") {
                report(cfg.smp->location(), fmt::format("Invalid parameter '{}'", k));
                return 1;
            }
            if (v != "1") {
                report(cfg.smp->location(), fmt::format("Invalid SMP CPUs {}: only 1 CPU is supported", v));
                return 1;
            }
        }
        (void)cpus;
    }
    mopts.kernel = cfg.kernel;
    mopts.append = cfg.append;
    mopts.initrd = cfg.initrd;
    mopts.semihosting = cfg.semihosting;
    mopts.no_reboot = cfg.no_reboot;

    auto machine_obj = s.registry.create(*machine_type, OptionList{});
    if (!machine_obj) {
        report("", machine_obj.error());
        return 1;
    }
    std::unique_ptr<Machine> machine(static_cast<Machine*>(machine_obj->release()));

    if (cfg.help_cpu) {
        fmt::print("Available CPUs:\n");
        for (const auto& m : machine->cpu_models()) fmt::print("  {}\n", m);
        return 0;
    }
    mopts.cpu_model = cfg.cpu.empty() ? machine->default_cpu() : cfg.cpu;
    if (!cfg.cpu.empty()) {
        bool ok = false;
        for (const auto& m : machine->cpu_models()) ok |= (m == cfg.cpu);
        if (!ok) {
            report("", fmt::format("unable to find CPU model '{}'", cfg.cpu));
            return 1;
        }
    }

    // Accelerator: policy check, then create (props validated by the factory).
    std::unique_ptr<Accelerator> accel;
    const TypeInfo* accel_type = nullptr;
    std::string accel_loc;
    std::string last_error, last_loc;
    for (const AccelChoice& choice : accels) {
        const TypeInfo* t = s.registry.find(choice.name);
        std::string loc = choice.location;
        if (!t || !s.registry.is_a(*t, kTypeAccel) || t->abstract) {
            report(loc, fmt::format("invalid accelerator {}", choice.name));
            return 1;
        }
        if (auto st = s.policy.check(*t); !st) {
            report("", st.error());
            return 1;
        }
        auto obj = s.registry.create(*t, choice.props);
        if (!obj) {
            report(loc, obj.error());
            return 1;
        }
        accel.reset(static_cast<Accelerator*>(obj->release()));
        accel_type = t;
        accel_loc = loc.empty() ? "-accel " + choice.name : loc;
        break;
    }
    if (!accel) {
        report(last_loc, last_error.empty() ? "no accelerator found" : last_error);
        return 1;
    }

    // -device: resolve and check every one before anything is built.
    std::vector<const TypeInfo*> device_types;
    for (const OptionArg& d : cfg.devices) {
        std::string driver = d.opts.get("driver").value_or("");
        const TypeInfo* t = s.registry.find(driver);
        if (!t || !s.registry.is_a(*t, kTypeDevice) || t->abstract) {
            report(d.location(), fmt::format("'{}' is not a valid device model name", driver));
            return 1;
        }
        if (!t->user_creatable) {
            report(d.location(), "Parameter 'driver' expects a pluggable device type");
            return 1;
        }
        if (auto st = s.policy.check(*t); !st) {
            report(d.location(), st.error());
            return 1;
        }
        device_types.push_back(t);
    }

    // Serial: -serial wins, else -nographic gives stdio, else null (QEMU's vc without a display).
    std::string serial_spec = !cfg.serial.empty() ? cfg.serial[0] : (cfg.nographic ? "stdio" : "null");
    auto serial = make_serial_backend(serial_spec, s.rc);
    if (!serial) {
        report("-serial " + serial_spec, serial.error());
        return 1;
    }
    std::unique_ptr<CharBackend> serial_backend = std::move(*serial);
    std::unique_ptr<CharBackend> null_backend;
    if (!serial_backend) {
        auto n = make_serial_backend("null", s.rc);
        null_backend = std::move(*n);
    }
    mopts.serial0 = serial_backend ? serial_backend.get() : null_backend.get();

    s.rc.install_signal_handlers();

    if (auto st = machine->init(mopts); !st) {
        report("", st.error());
        return 1;
    }
    if (auto st = accel->init(*machine); !st) {
        report(accel_loc, st.error());
        return 1;
    }
    (void)accel_type;

    int status = accel->run(*machine, s.rc, cfg.start_stopped);
    if (int sig = s.rc.terminate_signal(); sig != 0) {
        fmt::print(stderr, "{}: terminating on signal {}\n", g_prog, sig);
        return 0;
    }
    return status;
}

}  // namespace corvid
