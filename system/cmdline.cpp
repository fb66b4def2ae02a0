// QEMU-compatible command-line parser.
#include "system/cmdline.h"

#include <fmt/format.h>

namespace corvid {
namespace {

enum class Opt {
    kMachine, kAccel, kCpu, kMem, kSmp, kDevice, kKernel, kAppend, kInitrd, kNographic, kDisplay, kSerial, kDebug,
    kLogFile, kCompat, kStopped, kNoReboot, kNoShutdown, kVersion, kHelp, kEnableKvm, kSemihosting,
    kSemihostingConfig, kMonitor, kQmp, kChardev, kObject, kNetdev, kNic, kWatchdogAction, kVga, kGlobal, kQtest, kMon, kSecurityReport, kQtestLog,
};

struct OptDef {
    const char* name;
    Opt opt;
    bool has_arg;
    const char* help;
};

constexpr OptDef kOpts[] = {
    {"machine", Opt::kMachine, true, "-machine [type=]name[,prop[=value][,...]]\n                selects emulated machine ('-machine help' for list)\n                require-secure=on|off rejects every type not declared secure\n                prohibit-insecure=on|off rejects types declared insecure"},
    {"M", Opt::kMachine, true, nullptr},
    {"accel", Opt::kAccel, true, "-accel [accel=]accelerator[,prop[=value][,...]]\n                select accelerator (kvm, tcg, qtest; '-accel help' for list)\n                tcg: tb-size=MiB, backend=jit|interp, count-insns=on|off,\n                stats=on|off, return-hints=on|off"},
    {"cpu", Opt::kCpu, true, "-cpu cpu        select CPU ('-cpu help' for list)"},
    {"m", Opt::kMem, true, "-m [size=]megs  configure guest RAM size (suffixes K, M, G)"},
    {"smp", Opt::kSmp, true, "-smp [cpus=]n   number of CPUs (only 1 is supported)"},
    {"device", Opt::kDevice, true, "-device driver[,prop[=value][,...]]\n                add device driver ('-device help' for list)"},
    {"kernel", Opt::kKernel, true, "-kernel file    use 'file' as the guest ELF image"},
    {"append", Opt::kAppend, true, "-append cmdline use 'cmdline' as kernel command line"},
    {"initrd", Opt::kInitrd, true, "-initrd file    use 'file' as initial ram disk"},
    {"nographic", Opt::kNographic, false, "-nographic      no graphical output; serial port on stdio"},
    {"display", Opt::kDisplay, true, "-display none   no display"},
    {"serial", Opt::kSerial, true, "-serial dev     redirect the serial port to dev (stdio, null, none, file:PATH,\n                unix:PATH[,server][,nowait], tcp:HOST:PORT[,server][,nowait], chardev:ID)"},
    {"d", Opt::kDebug, true, "-d item1,...    enable logging of specified items (use '-d help' for a list)"},
    {"D", Opt::kLogFile, true, "-D logfile      output log to logfile (default stderr)"},
    {"compat", Opt::kCompat, true, "-compat insecure-types=accept|warn|reject\n                policy for types not declared secure (reject == require-secure)"},
    {"S", Opt::kStopped, false, "-S              freeze CPU at startup"},
    {"no-reboot", Opt::kNoReboot, false, "-no-reboot      exit instead of rebooting"},
    {"no-shutdown", Opt::kNoShutdown, false, "-no-shutdown    stop before shutdown"},
    {"version", Opt::kVersion, false, "-version        display version information and exit"},
    {"h", Opt::kHelp, false, "-h or -help     display this help and exit"},
    {"help", Opt::kHelp, false, nullptr},
    {"enable-kvm", Opt::kEnableKvm, false, "-enable-kvm     enable KVM full virtualization support"},
    {"semihosting", Opt::kSemihosting, false, "-semihosting    semihosting mode"},
    {"semihosting-config", Opt::kSemihostingConfig, true, "-semihosting-config enable=on|off"},
    {"monitor", Opt::kMonitor, true, "-monitor dev    redirect the HMP monitor to dev (stdio, none, unix:PATH,server,nowait, chardev:ID)"},
    {"qmp", Opt::kQmp, true, "-qmp dev        a QMP monitor on dev (unix:PATH,server=on,wait=off, tcp:127.0.0.1:PORT,server,wait=off, stdio)"},
    {"mon", Opt::kMon, true, "-mon [chardev=]name[,mode=readline|control]\n                a monitor on a -chardev"},
    {"chardev", Opt::kChardev, true, "-chardev backend,id=id[,...]\n                stdio, null, file,path=P, socket,path=P|host=H,port=N[,server=on|off][,wait=on|off], pipe,path=P"},
    {"object", Opt::kObject, true, "-object type,id=id[,prop=value][,...]\n                memory-backend-ram,size=S; rng-random,filename=/dev/urandom"},
    {"netdev", Opt::kNetdev, true, "-netdev socket,id=str[,listen=|connect=host:port|udp=host:port,localaddr=host:port]\n-netdev hubport,id=str,hubid=n\n                configure a network backend (loopback only)"},
    {"nic", Opt::kNic, true, "-nic socket|hubport,...[,model=e1000|rtl8139|virtio-net-pci][,mac=...]\n                a network backend and its NIC in one option"},
    {"global", Opt::kGlobal, true, "-global driver.property=value\n                only virtio-mmio.force-legacy=false (Corvid's virtio-mmio is version 2 only)"},
    {"vga", Opt::kVga, true, "-vga none       no VGA card (the only choice: there is no display)"},
    {"watchdog-action", Opt::kWatchdogAction, true, "-watchdog-action reset|shutdown|poweroff|pause|debug|none|inject-nmi\n                action when the watchdog fires"},
    {"qtest", Opt::kQtest, true, "-qtest dev      the qtest protocol on dev (unix:PATH connects to PATH; chardev:ID)"},
    {"qtest-log", Opt::kQtestLog, true, nullptr},
    {"security-report", Opt::kSecurityReport, false, "-security-report\n                evaluate the whole command line without starting the guest, print the\n                security report, exit 0 if the configuration is accepted at its level"},
};

bool is_help(const std::string& s) { return s == "help" || s == "?"; }

}  // namespace

std::string usage_text(const std::string& prog) {
    std::string out = fmt::format("usage: {} [options]\n\n", prog);
    for (const auto& d : kOpts) {
        if (d.help) out += fmt::format("{}\n", d.help);
    }
    out += "\nDuring emulation, Ctrl-A x exits when the console is on stdio.\n";
    return out;
}

Result<Config> parse_command_line(const std::vector<std::string>& args) {
    Config c;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& raw = args[i];
        if (raw.size() < 2 || raw[0] != '-') {
            return make_error(fmt::format("{}: drive/disk images are not supported (use -kernel)", raw));
        }
        std::string name = raw.substr(raw[1] == '-' ? 2 : 1);
        const OptDef* def = nullptr;
        for (const auto& d : kOpts) {
            if (name == d.name) def = &d;
        }
        if (!def) return make_error(fmt::format("{}: invalid option", raw));
        std::string arg;
        if (def->has_arg) {
            if (i + 1 >= args.size()) return make_error(fmt::format("{}: requires an argument", raw));
            arg = args[++i];
        }
        auto make_arg = [&](std::string_view implied) -> Result<OptionArg> {
            auto opts = OptionList::parse(arg, implied);
            if (!opts) return make_error(fmt::format("{} {}: {}", raw, arg, opts.error()));
            return OptionArg{raw, arg, std::move(*opts)};
        };
        switch (def->opt) {
            case Opt::kMachine: {
                if (is_help(arg)) { c.help_machine = true; break; }
                auto a = make_arg("type");
                if (!a) return a.error().empty() ? make_error("bad -machine") : make_error(a.error());
                if (a->opts.get("type") && is_help(*a->opts.get("type"))) { c.help_machine = true; break; }
                c.machine.push_back(std::move(*a));
                break;
            }
            case Opt::kAccel: {
                if (is_help(arg)) { c.help_accel = true; break; }
                auto a = make_arg("accel");
                if (!a) return make_error(a.error());
                if (a->opts.get("accel") && is_help(*a->opts.get("accel"))) { c.help_accel = true; break; }
                c.accel.push_back(std::move(*a));
                break;
            }
            case Opt::kEnableKvm: {
                OptionArg a{"-enable-kvm", "kvm", {}};
                a.opts.items.emplace_back("accel", "kvm");
                c.accel.push_back(std::move(a));
                break;
            }
            case Opt::kCpu:
                if (is_help(arg)) { c.help_cpu = true; break; }
                c.cpu = arg;
                break;
            case Opt::kMem: {
                auto a = make_arg("size");
                if (!a) return make_error(a.error());
                c.memory = std::move(*a);
                break;
            }
            case Opt::kSmp: {
                auto a = make_arg("cpus");
                if (!a) return make_error(a.error());
                c.smp = std::move(*a);
                break;
            }
            case Opt::kDevice: {
                if (is_help(arg)) { c.help_device = true; break; }
                auto a = make_arg("driver");
                if (!a) return make_error(a.error());
                if (a->opts.get("driver") && is_help(*a->opts.get("driver"))) { c.help_device = true; break; }
                c.devices.push_back(std::move(*a));
                break;
            }
            case Opt::kKernel: c.kernel = arg; break;
            case Opt::kAppend: c.append = arg; break;
            case Opt::kInitrd: c.initrd = arg; break;
            case Opt::kNographic: c.nographic = true; break;
            case Opt::kDisplay:
                if (arg != "none" && arg.rfind("none,", 0) != 0) {
                    return make_error(fmt::format("{} {}: only '-display none' is supported", raw, arg));
                }
                c.display = arg;
                break;
            case Opt::kSerial: c.serial.push_back(arg); break;
            case Opt::kDebug:
                if (is_help(arg)) { c.help_log = true; break; }
                c.log_items = c.log_items.empty() ? arg : c.log_items + "," + arg;
                break;
            case Opt::kLogFile: c.log_file = arg; break;
            case Opt::kCompat: {
                auto a = make_arg("");
                if (!a) return make_error(a.error());
                c.compat.push_back(std::move(*a));
                break;
            }
            case Opt::kStopped: c.start_stopped = true; break;
            case Opt::kNoReboot: c.no_reboot = true; break;
            case Opt::kNoShutdown: c.no_shutdown = true; break;
            case Opt::kVersion: c.show_version = true; break;
            case Opt::kHelp: c.show_help = true; break;
            case Opt::kSemihosting: c.semihosting = true; break;
            case Opt::kSemihostingConfig: {
                auto a = make_arg("enable");
                if (!a) return make_error(a.error());
                if (auto en = a->opts.get("enable")) {
                    auto b = parse_bool_property("enable", *en);
                    if (!b) return make_error(fmt::format("{} {}: {}", raw, arg, b.error()));
                    c.semihosting = *b;
                }
                break;
            }
            case Opt::kMonitor: c.monitors.push_back(arg); break;
            case Opt::kQmp: c.qmps.push_back(arg); break;
            case Opt::kQtest: c.qtest = arg; break;
            case Opt::kQtestLog: break;  // qtest logging: accepted, not implemented
            case Opt::kSecurityReport: c.security_report = true; break;
            case Opt::kMon: {
                auto a = make_arg("chardev");
                if (!a) return make_error(a.error());
                c.mons.push_back(std::move(*a));
                break;
            }
            case Opt::kChardev: {
                if (is_help(arg)) { c.help_chardev = true; break; }
                auto a = make_arg("backend");
                if (!a) return make_error(a.error());
                c.chardevs.push_back(std::move(*a));
                break;
            }
            case Opt::kObject: {
                if (is_help(arg)) { c.help_object = true; break; }
                auto a = make_arg("qom-type");
                if (!a) return make_error(a.error());
                c.objects.push_back(std::move(*a));
                break;
            }
            case Opt::kNetdev: {
                auto a = make_arg("type");
                if (!a) return make_error(a.error());
                c.netdevs.push_back(std::move(*a));
                break;
            }
            case Opt::kNic: {
                auto a = make_arg("type");
                if (!a) return make_error(a.error());
                c.nics.push_back(std::move(*a));
                break;
            }
            case Opt::kWatchdogAction: c.watchdog_action = arg; break;
            case Opt::kVga:
                if (arg != "none") return make_error(fmt::format("{} {}: only '-vga none' is supported", raw, arg));
                break;
            case Opt::kGlobal: {
                // QEMU's virt needs force-legacy=false for version 2 transports; Corvid's are
                // always version 2, so that is the one global accepted (guests pass it to both).
                const size_t dot = arg.find('.'), eq = arg.find('=');
                if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
                    return make_error(fmt::format("{} {}: expects driver.property=value", raw, arg));
                }
                const std::string prop = arg.substr(0, eq);
                if (prop != "virtio-mmio.force-legacy") {
                    return make_error(fmt::format("{} {}: global property '{}' is not supported", raw, arg, prop));
                }
                auto b = parse_bool_property("force-legacy", std::string_view(arg).substr(eq + 1));
                if (!b) return make_error(fmt::format("{} {}: {}", raw, arg, b.error()));
                if (*b) {
                    return make_error(fmt::format("{} {}: legacy virtio-mmio (version 1) is not supported", raw, arg));
                }
                break;
            }
        }
    }
    return c;
}

}  // namespace corvid
