// HMP commands. Output follows QEMU's wording where tools parse it (x/xp dumps, info status).
#include "system/monitor/hmp.h"

#include <fmt/format.h>

#include "system/security_report.h"
#include "system/version.h"

namespace corvid {
namespace {

constexpr const char* kHelp =
    "cont|c  -- resume emulation\n"
    "device_add driver[,prop=value][,...] -- add device, like -device on the command line\n"
    "device_del device -- remove device\n"
    "help|? [cmd] -- show the help\n"
    "info [subcommand] -- show various information about the system state\n"
    "object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object\n"
    "object_del id -- destroy QOM object\n"
    "quit|q  -- quit the emulator\n"
    "stop|s  -- stop emulation\n"
    "system_reset  -- reset the system\n"
    "x /fmt addr -- memory dump starting at 'addr' (no MMU: the address is physical)\n"
    "xp /fmt addr -- physical memory dump starting at 'addr'\n";

constexpr const char* kInfoHelp =
    "info chardev  -- show the character devices\n"
    "info mtree  -- show memory tree\n"
    "info qom-tree [path] -- show QOM composition tree\n"
    "info qtree  -- show device tree\n"
    "info registers  -- show the cpu registers\n"
    "info security  -- show the security level, every object's statement and the verdict\n"
    "info status  -- show the current VM status (running|paused)\n"
    "info version  -- show the version of QEMU\n";

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string err(const std::string& msg) {
    return fmt::format("Error: {}\n", msg);
}

Result<uint64_t> parse_u64(const std::string& s) {
    if (s.empty()) return make_error("missing address");
    try {
        size_t pos = 0;
        uint64_t v = std::stoull(s, &pos, 0);
        if (pos != s.size()) return make_error(fmt::format("invalid char '{}' in expression", s[pos]));
        return v;
    } catch (const std::exception&) {
        return make_error(fmt::format("invalid number '{}'", s));
    }
}

}  // namespace

std::string Hmp::banner() {
    return fmt::format("Corvid {} monitor - type 'help' for more information\n", kCorvidVersion);
}

std::string Hmp::execute(const std::string& raw_line) {
    std::string line = trim(raw_line);
    if (line.empty()) return {};
    size_t sp = line.find_first_of(" \t");
    std::string cmd = line.substr(0, sp);
    std::string args = sp == std::string::npos ? std::string() : trim(line.substr(sp));
    RunControl& rc = vm_.run_control();

    if (cmd == "help" || cmd == "?" || cmd == "h") return args == "info" ? kInfoHelp : kHelp;
    if (cmd == "info" || cmd == "i") return info(args);
    if (cmd == "device_add") {
        if (args.empty()) return err("Parameter 'driver' is missing");
        auto opts = OptionList::parse(args, "driver");
        if (!opts) return err(opts.error());
        if (auto st = vm_.add_device(*opts, true); !st) return err(st.error());
        return {};
    }
    if (cmd == "device_del") {
        if (args.empty()) return err("Parameter 'id' is missing");
        if (auto st = vm_.del_device(args); !st) return err(st.error());
        return {};
    }
    if (cmd == "object_add") {
        if (args.empty()) return err("Parameter 'qom-type' is missing");
        auto opts = OptionList::parse(args, "qom-type");
        if (!opts) return err(opts.error());
        if (auto st = vm_.add_object(*opts); !st) return err(st.error());
        return {};
    }
    if (cmd == "object_del") {
        if (args.empty()) return err("Parameter 'id' is missing");
        if (auto st = vm_.del_object(args); !st) return err(st.error());
        return {};
    }
    if (cmd == "stop" || cmd == "s") {
        vm_.stop();
        return {};
    }
    if (cmd == "cont" || cmd == "c") {
        vm_.cont();
        return {};
    }
    if (cmd == "system_reset") {
        rc.request_reset(ShutdownCause::kHostQmpSystemReset);  // RESET comes when it happens
        return {};
    }
    if (cmd == "quit" || cmd == "q") {
        vm_.set_shutdown_reason("host-qmp-quit");
        vm_.request_quit();
        return {};
    }
    if (cmd == "x" || cmd == "xp") return memory_dump(cmd, args);
    return fmt::format("unknown command: '{}'\n", cmd);
}

std::string Hmp::info(const std::string& what) {
    if (what.empty()) return kInfoHelp;
    std::string sub = what.substr(0, what.find(' '));
    if (sub == "version") return fmt::format("{}\n", kCorvidVersion);
    if (sub == "status") {
        std::string st = vm_.run_state();
        if (st == "prelaunch") return "VM status: paused (prelaunch)\n";
        if (st == "shutdown") return "VM status: paused (shutdown)\n";
        return fmt::format("VM status: {}\n", st);
    }
    if (sub == "security") return security_report_text(make_security_report(vm_));
    if (sub == "qom-tree") return vm_.qom_tree_text();
    if (sub == "qtree") {
        std::string out = "bus: main-system-bus\n  type System\n";
        if (Machine* m = vm_.machine()) {
            for (const auto& t : m->onboard_types()) out += fmt::format("  dev: {}, id \"\"\n", t);
        }
        for (const auto& d : vm_.devices()) out += fmt::format("  dev: {}, id \"{}\"\n", d.type->name, d.id);
        return out;
    }
    if (sub == "registers") {
        std::string dump = vm_.accel() ? vm_.accel()->dump_cpu() : std::string();
        if (dump.empty()) return "No CPU available\n";
        if (dump.back() != '\n') dump += '\n';
        return dump;
    }
    if (sub == "mtree") {
        Machine* m = vm_.machine();
        std::string tree = m ? m->memory_tree() : std::string();
        if (tree.empty()) return "No memory map available\n";
        if (tree.back() != '\n') tree += '\n';
        return tree;
    }
    if (sub == "chardev") {
        std::string out;
        for (const auto& c : vm_.chardevs()) {
            out += fmt::format("{}: filename={}\n", c.id, c.chardev ? c.chardev->filename() : c.type->name);
        }
        return out;
    }
    return err(fmt::format("unknown info subcommand '{}'", sub));
}

// QEMU's memory_dump: "/[count][format][size]", 16 bytes per line, address prefix, values
// printed per format with QEMU's widths.
std::string Hmp::memory_dump(const std::string& cmd, const std::string& args) {
    std::string rest = args;
    unsigned count = 1;
    char format = last_format_;
    unsigned size = last_size_;
    if (!rest.empty() && rest[0] == '/') {
        size_t end = rest.find_first_of(" \t");
        std::string fmt_spec = rest.substr(1, end == std::string::npos ? std::string::npos : end - 1);
        rest = end == std::string::npos ? std::string() : trim(rest.substr(end));
        size_t i = 0;
        unsigned n = 0;
        bool have_n = false;
        while (i < fmt_spec.size() && std::isdigit(static_cast<unsigned char>(fmt_spec[i]))) {
            n = n * 10 + unsigned(fmt_spec[i++] - '0');
            if (n > 1u << 20) return err("count too large");
            have_n = true;
        }
        if (have_n) count = n;
        bool size_set = false;
        for (; i < fmt_spec.size(); ++i) {
            char c = fmt_spec[i];
            switch (c) {
                case 'x':
                case 'd':
                case 'u':
                case 'o':
                case 'c': format = c; break;
                case 'b':
                    size = 1;
                    size_set = true;
                    break;
                case 'h':
                    size = 2;
                    size_set = true;
                    break;
                case 'w':
                    size = 4;
                    size_set = true;
                    break;
                case 'g':
                    size = 8;
                    size_set = true;
                    break;
                default: return err(fmt::format("invalid char in format: '{}'", c));
            }
        }
        if (format == 'c' && !size_set) size = 1;
    }
    last_format_ = format;
    last_size_ = size;
    auto addr = parse_u64(rest);
    if (!addr) return err(addr.error());
    Machine* m = vm_.machine();
    if (!m) return err("no machine");
    MemoryBus& mem = m->memory();
    unsigned digits = format == 'x' ? size * 2 : format == 'o' ? (size * 8 + 2) / 3 : (size * 8 * 10 + 32) / 33;
    unsigned per_line = format == 'c' ? 8 : 16 / size;
    std::string out;
    uint64_t a = *addr;
    for (unsigned done = 0; done < count;) {
        out += cmd == "xp" ? fmt::format("{:016x}:", a) : fmt::format("{:016x}:", a);
        for (unsigned k = 0; k < per_line && done < count; ++k, ++done, a += size) {
            uint64_t v = 0;
            if (mem.read(a, size, &v) != MemResult::kOk) {
                out += "\n";
                return out + err(fmt::format("Cannot access memory at address 0x{:x}", a));
            }
            switch (format) {
                case 'x': out += fmt::format(" 0x{:0{}x}", v, digits); break;
                case 'o': out += fmt::format(" {:#0{}o}", v, digits + 1); break;
                case 'u': out += fmt::format(" {:{}}", v, digits); break;
                case 'd': {
                    int64_t sv = size == 1 ? int8_t(v) : size == 2 ? int16_t(v) : size == 4 ? int32_t(v) : int64_t(v);
                    out += fmt::format(" {:{}}", sv, digits);
                    break;
                }
                case 'c': {
                    char ch = char(v & 0xff);
                    out += (ch >= 32 && ch < 127) ? fmt::format(" '{}'", ch) : fmt::format(" '\\x{:02x}'", uint8_t(ch));
                    break;
                }
            }
        }
        out += "\n";
    }
    return out;
}

}  // namespace corvid
