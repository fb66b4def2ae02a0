// Start-up sequence: parse, resolve and check the machine, resolve and check the accelerator,
// create -object and -chardev, check every -device, build the board, initialise the
// accelerator, start the monitors, run. -security-report stops before anything runs.
#include "system/vl.h"

#include "hw/net/net_backend.h"
#include "hw/watchdog/watchdog.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "accel/accel.h"
#include "base/log.h"
#include "base/run_control.h"
#include "hw/clock.h"
#include "policy/policy.h"
#include "system/chardev/chardev.h"
#include "system/cmdline.h"
#include "system/monitor/monitor.h"
#include "system/objects/objects.h"
#include "system/qtest/qtest.h"
#include "system/security_report.h"
#include "system/version.h"
#include "system/vl_machine.h"
#include "system/vm.h"

namespace corvid {
namespace {

using vl::report;

// -serial none: the board still needs a backend; output goes nowhere.
class DiscardBackend : public CharBackend {
public:
    void write(const uint8_t*, size_t) override {}
    void set_receiver(Receiver) override {}
};

// Help and version requests: true when one was handled (the process then exits 0).
bool print_help(const Config& cfg, const TypeRegistry& registry) {
    if (cfg.show_help) {
        fmt::print("{}", usage_text(vl::prog()));
    } else if (cfg.show_version) {
        fmt::print("{} version {}\n", vl::prog(), kCorvidVersion);
    } else if (cfg.help_machine) {
        fmt::print("{}", machine_help(registry));
    } else if (cfg.help_accel) {
        fmt::print("{}", accel_help(registry));
    } else if (cfg.help_device) {
        fmt::print("{}", device_help(registry));
    } else if (cfg.help_chardev) {
        fmt::print("{}", chardev_help(registry));
    } else if (cfg.help_object) {
        fmt::print("{}", object_help(registry));
    } else if (cfg.help_log) {
        size_t n;
        const log::CategoryInfo* cats = log::categories(&n);
        fmt::print("Log items (comma separated):\n");
        for (size_t i = 0; i < n; ++i) fmt::print("{:<15} {}\n", cats[i].name, cats[i].help);
    } else {
        return false;
    }
    return true;
}

bool setup_logging(const Config& cfg) {
    if (!cfg.log_items.empty()) {
        auto m = log::parse_categories(cfg.log_items);
        if (!m) {
            report("-d " + cfg.log_items, m.error());
            return false;
        }
        log::set_mask(*m);
    }
    if (!cfg.log_file.empty()) {
        if (auto st = log::set_file(cfg.log_file); !st) {
            report("-D " + cfg.log_file, st.error());
            return false;
        }
    }
    return true;
}

// Monitors and the qtest server, created from -monitor/-qmp/-mon/-qtest.
struct Frontends {
    std::vector<std::unique_ptr<Monitor>> monitors;
    std::unique_ptr<QtestServer> qtest;
    // Pending until the machine exists.
    std::vector<std::pair<Chardev*, Monitor::Mode>> pending;
    Chardev* qtest_chr = nullptr;
};

bool create_monitor_chardevs(const Config& cfg, Vm& vm, Frontends* fe) {
    int n = 0;
    auto add = [&](const std::string& option, const std::string& spec, Monitor::Mode mode) {
        auto c = vm.chardev_from_spec(spec, fmt::format("compat_monitor{}", n++));
        if (!c) {
            report(option + " " + spec, c.error());
            return false;
        }
        if (*c) fe->pending.emplace_back(*c, mode);
        return true;
    };
    for (const auto& m : cfg.monitors) {
        if (!add("-monitor", m, Monitor::Mode::kReadline)) return false;
    }
    for (const auto& q : cfg.qmps) {
        if (!add("-qmp", q, Monitor::Mode::kControl)) return false;
    }
    for (const OptionArg& m : cfg.mons) {
        auto mon = parse_mon_option(m.opts);
        if (!mon) {
            report(m.location(), mon.error());
            return false;
        }
        auto c = vm.chardev_from_spec("chardev:" + mon->chardev, "");
        if (!c) {
            report(m.location(), c.error());
            return false;
        }
        if (*c) fe->pending.emplace_back(*c, mon->mode);
    }
    if (!cfg.qtest.empty()) {
        auto c = vm.chardev_from_spec(cfg.qtest, "qtest");
        if (!c) {
            report("-qtest " + cfg.qtest, c.error());
            return false;
        }
        fe->qtest_chr = *c;
    }
    return true;
}

bool start_frontends(Vm& vm, Frontends* fe) {
    for (auto& [chr, mode] : fe->pending) {
        auto m = std::make_unique<Monitor>(vm, *chr, mode);
        if (auto st = m->start(); !st) {
            report("", st.error());
            return false;
        }
        fe->monitors.push_back(std::move(m));
    }
    fe->pending.clear();
    if (fe->qtest_chr) {
        fe->qtest = std::make_unique<QtestServer>(vm, *fe->qtest_chr);
        if (auto st = fe->qtest->start(); !st) {
            report("-qtest", st.error());
            return false;
        }
    }
    return true;
}

}  // namespace

int system_main(Arch arch, int argc, char** argv) {
    std::string prog = argc > 0 ? argv[0] : "corvid";
    if (size_t slash = prog.rfind('/'); slash != std::string::npos) prog = prog.substr(slash + 1);
    vl::set_prog(prog);

    TypeRegistry registry;
    register_all_types(registry, arch);
    RunControl& rc = RunControl::global();

    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto parsed = parse_command_line(args);
    if (!parsed) {
        report("", parsed.error());
        return 1;
    }
    Config& cfg = *parsed;
    if (print_help(cfg, registry)) return 0;
    if (!setup_logging(cfg)) return 1;

    vl::MachineChoice mc;
    if (!vl::resolve_machine(cfg, registry, &mc)) return 1;
    // The dry run evaluates everything at `accept` and judges the result at the real level.
    const bool dry = cfg.security_report;
    Policy policy(dry ? PolicyLevel::kAccept : mc.level);
    policy.set_warning_sink(vl::warn);
    Vm vm(registry, policy, rc);
    vm.set_arch(arch);
    vm.set_dry_run(dry);

    if (auto st = policy.check(*mc.type); !st) {
        report("", st.error());
        return 1;
    }
    std::vector<vl::AccelChoice> accels = vl::accel_choices(cfg, registry, mc);
    MachineOptions mopts;
    if (!vl::machine_options(cfg, &mopts)) return 1;

    auto machine_obj = registry.create(*mc.type, OptionList{});
    if (!machine_obj) {
        report("", machine_obj.error());
        return 1;
    }
    std::unique_ptr<Machine> machine(static_cast<Machine*>(machine_obj->release()));
    machine->set_type(mc.type);

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
    for (const vl::AccelChoice& choice : accels) {
        const TypeInfo* t = registry.find(choice.name);
        if (!t || !registry.is_a(*t, kTypeAccel) || t->abstract) {
            report(choice.location, fmt::format("invalid accelerator {}", choice.name));
            return 1;
        }
        if (auto st = policy.check(*t); !st) {
            report("", st.error());
            return 1;
        }
        auto obj = registry.create(*t, choice.props);
        if (!obj) {
            report(choice.location, obj.error());
            return 1;
        }
        accel.reset(static_cast<Accelerator*>(obj->release()));
        accel->set_type(t);
        accel_type = t;
        accel_loc = choice.location.empty() ? "-accel " + choice.name : choice.location;
        break;
    }
    if (!accel) {
        report("", "no accelerator found");
        return 1;
    }
    vm.set_machine(machine.get(), mc.type);
    vm.set_accel(accel.get(), accel_type);

    // -object, then -chardev (objects and chardevs exist before devices, as in QEMU).
    for (const OptionArg& o : cfg.objects) {
        if (auto st = vm.add_object(o.opts); !st) {
            report(o.location(), st.error());
            return 1;
        }
    }
    for (const OptionArg& c : cfg.chardevs) {
        if (auto r = vm.add_chardev(c.opts); !r) {
            report(c.location(), r.error());
            return 1;
        }
    }
    if (!cfg.watchdog_action.empty()) {
        auto action = parse_watchdog_action(cfg.watchdog_action);
        if (!action) {
            report("-watchdog-action " + cfg.watchdog_action, action.error());
            return 1;
        }
        set_watchdog_action(*action);
    }
    // -netdev (and the backend half of -nic) before -device: NICs name their netdev. The
    // device half of -nic joins the -device list.
    for (const OptionArg& n : cfg.nics) {
        auto split = net_split_nic(n.opts, arch == Arch::kX86_64 ? "e1000" : "virtio-net-device");
        if (!split) {
            report(n.location(), split.error());
            return 1;
        }
        cfg.netdevs.push_back(OptionArg{n.option, n.text, split->netdev});
        cfg.devices.push_back(OptionArg{n.option, n.text, split->device});
    }
    if (!dry) {
        for (const OptionArg& n : cfg.netdevs) {
            if (auto st = net_add_netdev(n.opts, registry, policy, NetRegistry::global()); !st) {
                report(n.location(), st.error());
                return 1;
            }
        }
    }
    // -device: resolve and check every one before anything is built.
    for (const OptionArg& d : cfg.devices) {
        if (auto t = vm.check_device(d.opts); !t) {
            report(d.location(), t.error());
            return 1;
        }
    }

    // Serial: -serial wins, else -nographic gives stdio, else null (QEMU's vc without a display).
    // -nographic without any monitor option shares stdio between the console and the
    // monitor (mon:stdio, Ctrl-A c switches), as QEMU does.
    const bool default_monitor = cfg.monitors.empty() && cfg.qmps.empty() && cfg.mons.empty();
    std::string serial_spec = "null";
    if (!cfg.serial.empty()) {
        serial_spec = cfg.serial[0];
    } else if (cfg.nographic) {
        serial_spec = default_monitor ? "mon:stdio" : "stdio";
    }
    auto serial = vm.chardev_from_spec(serial_spec, "serial0");
    if (!serial) {
        report("-serial " + serial_spec, serial.error());
        return 1;
    }
    DiscardBackend discard;
    mopts.serial0 = *serial ? static_cast<CharBackend*>(*serial) : &discard;
    if (*serial && (*serial)->type().name == "chardev-stdio") stdio_set_raw(true);

    Frontends fe;
    for (Chardev* m : vm.take_mux_monitors()) fe.pending.emplace_back(m, Monitor::Mode::kReadline);
    // -nographic with a -serial of its own: the monitor alone gets stdio (if still free).
    if (cfg.nographic && !cfg.serial.empty() && default_monitor && !vm.stdio_in_use()) {
        auto m = vm.chardev_from_spec("stdio", "compat_monitor0");
        if (!m) {
            report("-monitor stdio", m.error());
            return 1;
        }
        if (*m) fe.pending.emplace_back(*m, Monitor::Mode::kReadline);
    }
    if (!create_monitor_chardevs(cfg, vm, &fe)) return 1;

    MemoryBackendRam* ram_backend = nullptr;
    if (!vl::resolve_memory_backend(vm, mc, &mopts, &ram_backend)) return 1;

    if (dry) {
        // Build the board (without the kernel) only to learn its onboard devices.
        MachineOptions probe = mopts;
        probe.kernel.clear();
        probe.initrd.clear();
        if (auto st = machine->init(probe); !st) {
            report("", st.error());
            return 1;
        }
        for (const OptionArg& d : cfg.devices) (void)vm.add_device(d.opts, false);
        policy.set_level(mc.level);
        SecurityReport r = make_security_report(vm);
        fmt::print("{}", security_report_text(r));
        return r.accepted ? 0 : 1;
    }

    rc.install_signal_handlers();
    rc.set_no_reboot(cfg.no_reboot);  // a guest reset then ends the run (SHUTDOWN "guest-reset")
    if (auto st = machine->init(mopts); !st) {
        report("", st.error());
        return 1;
    }
    if (ram_backend) ram_backend->set_mapped(true);
    if (auto st = accel->init(*machine); !st) {
        report(accel_loc, st.error());
        return 1;
    }
    vm.plug_device = [&machine](const TypeInfo& type, const OptionList& opts, bool hotplug) -> Status {
        if (hotplug) {
            if (auto st = machine->check_hotplug(type); !st) return st;
        }
        return machine->add_device(type, opts);
    };
    vm.unplug_device = [&machine](const std::string& id) { return machine->del_device(id); };
    for (const OptionArg& d : cfg.devices) {
        if (auto st = vm.add_device(d.opts, false); !st) {
            report(d.location(), st.error());
            return 1;
        }
    }
    // qtest owns time: the board's clock moves only through clock_step / clock_set.
    if (fe.qtest_chr && machine->virtual_clock()) machine->virtual_clock()->set_manual(true);
    if (cfg.start_stopped) {
        vm.set_prelaunch(true);
        rc.pause();
    }
    if (!start_frontends(vm, &fe)) return 1;

    int status = accel->run(*machine, rc, cfg.start_stopped);
    rc.set_vcpu_service(false);
    int sig = rc.terminate_signal();
    std::string reason = sig != 0 ? "host-signal" : vm.shutdown_reason();
    vm.emit_event("SHUTDOWN", Vm::shutdown_event_data(reason));
    for (auto& m : fe.monitors) m->stop();
    fe.qtest.reset();
    vm.close_chardevs();
    if (sig != 0) {
        fmt::print(stderr, "{}: terminating on signal {}\n", vl::prog(), sig);
        return 0;
    }
    return status;
}

}  // namespace corvid
