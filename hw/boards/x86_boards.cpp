// The x86 boards: pc (i440FX + PIIX3), q35 (MCH + ICH9, ECAM), isapc, microvm and none.
// Legacy devices live in the I/O port space; -kernel boots PVH ELF kernels, otherwise the
// built-in firmware prints its banner on COM1 and halts.
//
//   pc, q35, isapc: COM1 16550A (IRQ4), i8259 pair (+ ELCR), i8254 PIT (IRQ0) + port 0x61,
//                   MC146818 RTC/CMOS (IRQ8), i8042 reset (0x64), port 0x92, port 0x80;
//                   pc: i440FX 00:00.0 + PIIX3 00:01.0 via 0xcf8/0xcfc (0xcf9 reset control);
//                   q35: MCH 00:00.0 + ICH9 LPC 00:1f.0 via 0xcf8/0xcfc and ECAM at 0xb0000000.
//   microvm:        COM1 16550A and the i8259 pair, so that the UART's IRQ4 reaches the CPU
//                   (QEMU's microvm also keeps a PIC by default); no PIT, RTC or PCI.
//   none:           RAM and the firmware ROM only.
// Memory: RAM from 0 up to 0xe0000000 (q35: 0xb0000000, or 0x80000000 once RAM would reach
// the ECAM window), the rest above 4 GiB; a 256 KiB ROM at 0xfffc0000 holds the firmware.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/run_control.h"
#include "hw/boards/boards.h"
#include "hw/boards/x86_devices.h"
#include "hw/char/serial_16550.h"
#include "hw/clock.h"
#include "hw/firmware/x86_firmware.h"
#include "hw/intc/i8259.h"
#include "hw/loader/pvh.h"
#include "hw/memory_map.h"
#include "hw/misc/pc_misc.h"
#include "hw/pci/pc_chipset.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_devices.h"
#include "hw/rtc/mc146818.h"
#include "hw/timer/i8254.h"

namespace corvid {
namespace {

constexpr uint64_t k4G = 1ull << 32;
constexpr uint64_t kMiB = 1ull << 20;

enum class Board { kPc, kQ35, kIsapc, kMicrovm, kNone };

// I/O port map of the legacy devices.
enum IoRegion { kIoPic1, kIoPit, kIoKbd, kIoPort61, kIoRtc, kIoPort80, kIoPort92, kIoPic2, kIoCom1, kIoElcr, kIoPciConf };
struct IoEntry {
    uint64_t base, size;
};
constexpr IoEntry kIoMap[] = {
    [kIoPic1] = {0x20, 2},   [kIoPit] = {0x40, 4},    [kIoKbd] = {0x60, 5},   [kIoPort61] = {0x61, 1},
    [kIoRtc] = {0x70, 2},    [kIoPort80] = {0x80, 1}, [kIoPort92] = {0x92, 1}, [kIoPic2] = {0xa0, 2},
    [kIoCom1] = {0x3f8, 8},  [kIoElcr] = {0x4d0, 2},  [kIoPciConf] = {0xcf8, 8},
};

constexpr int kCom1Irq = 4;
constexpr int kRtcIrq = 8;

class X86Machine : public Machine {
public:
    // `registry` (may be null) answers "is this a PCI device?" for add_device; it outlives
    // the machine (both belong to the process's startup state).
    X86Machine(Board board, const TypeRegistry* registry) : board_(board), registry_(registry) {}

    Arch arch() const override { return Arch::kX86_64; }
    std::string default_cpu() const override { return "qemu64"; }
    std::vector<std::string> cpu_models() const override { return {"qemu64", "max", "host"}; }
    bool has_pci() const override { return board_ == Board::kPc || board_ == Board::kQ35; }

    Status init(const MachineOptions& options) override {
        options_ = options;
        rc_ = options.run_control ? options.run_control : &RunControl::global();
        if (auto st = init_memory(); !st) return st;
        if (auto st = init_devices(); !st) return st;
        clock_.set_kick([this] { kick_cpu(); });
        if (!options_.kernel.empty()) {
            auto k = read_pvh_kernel(options_.kernel, memory_);
            if (!k) return make_error(k.error());
            kernel_ = std::move(*k);
        }
        if (!options_.initrd.empty()) {
            if (options_.kernel.empty()) return make_error("-initrd cannot be used without -kernel");
            auto d = read_initrd(options_.initrd);
            if (!d) return make_error(d.error());
            initrd_ = std::move(*d);
            // Highest page-aligned spot in RAM below 4 GiB (and 2 GiB, which old kernels
            // can address), above the kernel: where QEMU's loaders put it too.
            const uint64_t top = std::min<uint64_t>(below_4g_, 0x8000'0000);
            const uint64_t size = (initrd_.size() + 0xfff) & ~0xfffull;
            if (size > top || ((top - size) & ~0xfffull) < kernel_.high) {
                return make_error(fmt::format("could not load initrd '{}': {} bytes do not fit in RAM above the kernel",
                                              options_.initrd, initrd_.size()));
            }
            initrd_addr_ = (top - size) & ~0xfffull;
        }
        return boot();
    }

    void reset() override {
        if (serial_) serial_->reset();
        if (pic_) pic_->reset();
        if (pit_) pit_->reset();
        if (rtc_) rtc_->reset();
        if (port92_) port92_->reset();
        if (pci_io_) pci_io_->reset();
        pci_bus_.reset();
        if (intx_) intx_->reset();
        // The kernel image is reloaded and the boot information rewritten, as QEMU re-copies
        // its ROM blobs on reset.
        (void)boot();
    }

    MemoryBus& memory() override { return memory_; }
    MemoryBus* io() override { return &io_; }
    std::string memory_tree() const override { return memory_.mtree() + io_.mtree(); }

    void poll_devices() override {
        clock_.run_expired();
        // The PIRQ routing registers live in chipset config space, which does not notify.
        if (intx_) intx_->refresh();
        if (options_.serial0) options_.serial0->poll_input();
    }
    int64_t next_deadline_ns() const override { return clock_.next_deadline_ns(); }

    X86InterruptSource* x86_interrupts() override { return pic_.get(); }
    X86BootState x86_boot_state() const override { return boot_state_; }
    VirtualClock* virtual_clock() override { return &clock_; }

    IrqInterceptTarget* irq_intercept_target(std::string_view path) override {
        return names_pic(path) ? pic_.get() : nullptr;
    }
    IrqInterceptTarget* irq_intercept_out_target(std::string_view path) override {
        return names_pic(path) ? pic_->output_intercept() : nullptr;
    }

    Status add_device(const TypeInfo& type, const OptionList& props) override {
        if (type.name == kTypeIsaDebugExit) {
            if (board_ == Board::kNone) return make_error("No 'ISA' bus found for device 'isa-debug-exit'");
            auto c = parse_isa_debug_exit(props);
            if (!c) return make_error(c.error());
            auto dev = std::make_unique<IsaDebugExit>(*rc_, c->iobase, c->iosize);
            if (auto st = io_.add_mmio("isa-debug-exit", c->iobase, c->iosize, dev.get()); !st) {
                return make_error(fmt::format("isa-debug-exit: {}", st.error()));
            }
            extra_devices_.push_back(std::move(dev));
            if (auto id = props.get("id"); id && !id->empty()) isa_ids_.push_back(*id);
            return {};
        }
        const bool is_pci = registry_ ? registry_->is_a(type, kTypePciDevice) : type.parent == kTypePciDevice;
        if (is_pci && !has_pci()) {
            return make_error(fmt::format("No 'PCI' bus found for device '{}'", type.short_name.empty() ? type.name : type.short_name));
        }
        if (is_pci && has_pci_builder(type)) return add_pci_device(type, props);
        return Machine::add_device(type, props);
    }

    // Hot-plug as QEMU allows it: PCI devices on pc's root bus (ACPI PCI hotplug); not on
    // q35's root complex (no root ports here) and never on the ISA bus.
    Status check_hotplug(const TypeInfo& type) const override {
        if (type.name == kTypeIsaDebugExit) return make_error("Bus 'isa.0' does not support hotplugging");
        const bool is_pci = registry_ ? registry_->is_a(type, kTypePciDevice) : type.parent == kTypePciDevice;
        if (is_pci && board_ == Board::kQ35) return make_error("Bus 'pcie.0' does not support hotplugging");
        return {};
    }

    // pc: PCI devices leave at once (QEMU waits for the guest's ACPI handshake; Corvid has no
    // ACPI, so the unplug completes immediately). q35's root bus and the ISA bus do not
    // support hotplug, as in QEMU.
    Status del_device(const std::string& id) override {
        if (std::find(isa_ids_.begin(), isa_ids_.end(), id) != isa_ids_.end()) {
            return make_error("Bus 'isa.0' does not support hotplugging");
        }
        auto it = pci_ids_.find(id);
        if (it == pci_ids_.end()) return Machine::del_device(id);
        if (board_ != Board::kPc) return make_error("Bus 'pcie.0' does not support hotplugging");
        std::unique_ptr<PciFunction> fn = pci_bus_.remove(it->second);
        pci_ids_.erase(it);
        if (auto* dev = dynamic_cast<PciDevice*>(fn.get())) dev->unplug();
        // Destroying the device stops its timers and detaches its netdev (NicPort).
        fn.reset();
        return {};
    }

private:
    // The i8259 pair by its QOM path, or by the names QEMU's pc tests use for the interrupt
    // controller whose inputs are the ISA IRQs ("ioapic": IRQ n is reported as line n).
    bool names_pic(std::string_view path) const {
        if (!pic_) return false;
        if (path == "ioapic" || path == "/machine/ioapic" || path == "i8259" || path == "pic") return true;
        for (size_t i = 0; i < onboard_.size(); ++i) {
            if (onboard_[i] == kTypeI8259 && qom_path_is_onboard(path, i)) return true;
        }
        return false;
    }

    // Builds a PCI device (hw/pci/pci_devices.h) and plugs it into bus 0: at addr= if given,
    // else in the first free slot, as QEMU does.
    Status add_pci_device(const TypeInfo& type, const OptionList& props) {
        const std::string name = type.short_name.empty() ? type.name : type.short_name;
        auto addr = pci_device_addr(props);
        if (!addr) return make_error(addr.error());
        int devfn = *addr;
        if (devfn < 0) {
            for (unsigned slot = 1; slot < 32 && devfn < 0; slot++) {
                if (!pci_bus_.find(0, slot << 3)) devfn = static_cast<int>(slot << 3);
            }
            if (devfn < 0) return make_error(fmt::format("PCI: no slot available for {} device", name));
        } else if (pci_bus_.find(0, static_cast<unsigned>(devfn)) || (devfn & 7) != 0) {
            // Occupied, or a function other than 0 (multi-function devices are not built).
            return make_error(fmt::format("PCI: slot {} function {} not available for {}, {}", devfn >> 3, devfn & 7, name,
                                          (devfn & 7) ? "multi-function devices are not supported"
                                                      : "in use by " + pci_bus_.find(0, static_cast<unsigned>(devfn))->name()));
        }
        PciDeviceHost host{&memory_, &io_, intx_.get(), &clock_, rc_};
        auto dev = create_pci_device(type, props, host);
        if (!dev) return make_error(dev.error());
        (*dev)->set_devfn(static_cast<uint8_t>(devfn));
        if (auto st = pci_bus_.add(static_cast<uint8_t>(devfn), std::move(*dev)); !st) return st;
        if (auto id = props.get("id"); id && !id->empty()) pci_ids_[*id] = static_cast<uint8_t>(devfn);
        return {};
    }

    Status init_memory() {
        const uint64_t ram = options_.ram_size ? options_.ram_size : default_ram_size();
        // RAM below 4 GiB stops at the PCI hole; q35's starts lower because of its ECAM window
        // at 0xb0000000 (QEMU's rule: 2 GiB when the RAM would reach it).
        uint64_t low_limit = 0xe000'0000;
        if (board_ == Board::kQ35) low_limit = ram >= kQ35EcamBase ? 0x8000'0000 : kQ35EcamBase;
        below_4g_ = std::min(ram, low_limit);
        above_4g_ = ram - below_4g_;
        below_4g_ = (below_4g_ + 0xfff) & ~0xfffull;
        above_4g_ = (above_4g_ + 0xfff) & ~0xfffull;
        if (below_4g_ < kMiB) return make_error("-m: the x86 boards need at least 1 MiB of RAM");
        if (uint8_t* host = options_.ram_host) {
            // A memory backend: both halves are windows on its memory, as QEMU's
            // ram-below-4g / ram-above-4g aliases are.
            // Its size is the RAM size (the start-up sequence takes -m from it).
            if (options_.ram_size == 0) return make_error("memory backend without a RAM size");
            if (auto st = memory_.add_ram_backed("pc.ram", 0, below_4g_, host); !st) return st;
            if (above_4g_) {
                if (auto st = memory_.add_ram_backed("pc.ram-above-4g", k4G, above_4g_, host + below_4g_); !st) return st;
            }
        } else {
            if (auto st = memory_.add_ram("pc.ram", 0, below_4g_); !st) return st;
            if (above_4g_) {
                if (auto st = memory_.add_ram("pc.ram-above-4g", k4G, above_4g_); !st) return st;
            }
        }
        // The PCI hole: unclaimed addresses master-abort (all ones), e.g. an unplugged BAR.
        if (has_pci()) memory_.add_open_bus(below_4g_, k4G - below_4g_);
        return memory_.add_rom("pc.bios", kX86BiosRomBase, kX86BiosRomSize);
    }

    Status map_io(IoRegion r, const char* name, MmioOps* ops, uint8_t sizes = kAccess1) {
        return io_.add_mmio(name, kIoMap[r].base, kIoMap[r].size, ops, sizes);
    }

    Status init_devices() {
        if (board_ == Board::kNone) return {};
        const bool legacy = board_ != Board::kMicrovm;

        pic_ = std::make_unique<I8259Pair>([this] { kick_cpu(); });
        onboard_.push_back(kTypeI8259);
        if (auto st = map_io(kIoPic1, "pic-master", pic_->master_ops()); !st) return st;
        if (auto st = map_io(kIoPic2, "pic-slave", pic_->slave_ops()); !st) return st;
        if (legacy) {
            if (auto st = map_io(kIoElcr, "elcr", pic_->elcr_ops()); !st) return st;
        }

        serial_ = std::make_unique<Serial16550>(options_.serial0, [this](bool l) { pic_->set_irq(kCom1Irq, l); });
        onboard_.push_back(kTypeIsaSerial);
        if (auto st = map_io(kIoCom1, "serial", serial_.get()); !st) return st;
        if (!legacy) return {};

        pit_ = std::make_unique<I8254>(clock_, [this](bool l) { pic_->set_irq(0, l); });
        onboard_.push_back(kTypePit);
        if (auto st = map_io(kIoPit, "pit", pit_.get()); !st) return st;

        rtc_ = std::make_unique<Mc146818>(clock_, [this](bool l) { pic_->set_irq(kRtcIrq, l); });
        onboard_.push_back(kTypeRtc);
        if (auto st = map_io(kIoRtc, "rtc", rtc_.get()); !st) return st;
        init_cmos();

        // 0x60-0x64 is one window for the i8042 with port 0x61 (PIT gate / speaker) carved out:
        // map the keyboard's two ports separately around it.
        kbd_ = std::make_unique<KbdController>(*rc_);
        onboard_.push_back(kTypeI8042);
        if (auto st = io_.add_mmio("i8042-data", 0x60, 1, kbd_.get(), kAccess1); !st) return st;
        if (auto st = map_io(kIoPort61, "port61", pit_->port61_ops()); !st) return st;
        kbd_cmd_ = std::make_unique<OffsetOps>(kbd_.get(), 4);
        if (auto st = io_.add_mmio("i8042-cmd", 0x64, 1, kbd_cmd_.get(), kAccess1); !st) return st;

        port92_ = std::make_unique<Port92>(*rc_);
        onboard_.push_back(kTypePort92);
        if (auto st = map_io(kIoPort92, "port92", port92_.get()); !st) return st;
        port80_ = std::make_unique<Port80>();
        if (auto st = map_io(kIoPort80, "ioport80", port80_.get(), kAccessAny); !st) return st;

        if (board_ == Board::kPc) {
            if (auto st = pci_bus_.add(0x00, make_i440fx_host()); !st) return st;
            if (auto st = pci_bus_.add(0x08, make_piix3_isa()); !st) return st;
            onboard_.insert(onboard_.end(), {kTypeI440fxHost, kTypeI440fx, kTypePiix3});
        } else if (board_ == Board::kQ35) {
            if (auto st = pci_bus_.add(0x00, make_q35_host()); !st) return st;
            if (auto st = pci_bus_.add(0xf8, make_ich9_lpc()); !st) return st;
            onboard_.insert(onboard_.end(), {kTypeQ35Host, kTypeMch, kTypeIch9Lpc});
            ecam_ = std::make_unique<PciEcam>(pci_bus_, kQ35EcamSize);
            if (auto st = memory_.add_mmio("pcie-mmcfg", kQ35EcamBase, kQ35EcamSize, ecam_.get(),
                                           kAccess1 | kAccess2 | kAccess4);
                !st) {
                return st;
            }
        }
        if (has_pci()) {
            intx_ = std::make_unique<PciIntxRouter>(pci_bus_, board_ == Board::kQ35 ? PirqChipset::kIch9 : PirqChipset::kPiix3,
                                                    [this](int irq, bool level) { pic_->set_irq(irq, level); });
            pci_io_ = std::make_unique<PciConfigIo>(pci_bus_, rc_, board_ == Board::kQ35);
            if (auto st = map_io(kIoPciConf, "pci-conf", pci_io_.get(), kAccess1 | kAccess2 | kAccess4); !st) return st;
        }
        return {};
    }

    // The memory-size bytes and the rest of what QEMU's pc_cmos_init fills in.
    void init_cmos() {
        constexpr uint64_t kKiB = 1024;
        uint64_t v = std::min<uint64_t>(below_4g_ / kKiB, 640);
        rtc_->set_cmos(0x15, static_cast<uint8_t>(v));
        rtc_->set_cmos(0x16, static_cast<uint8_t>(v >> 8));
        v = below_4g_ > kMiB ? std::min<uint64_t>((below_4g_ - kMiB) / kKiB, 65535) : 0;
        for (uint8_t r : {0x17, 0x30}) rtc_->set_cmos(r, static_cast<uint8_t>(v));
        for (uint8_t r : {0x18, 0x31}) rtc_->set_cmos(r, static_cast<uint8_t>(v >> 8));
        v = below_4g_ > 16 * kMiB ? std::min<uint64_t>((below_4g_ - 16 * kMiB) / (64 * kKiB), 65535) : 0;
        rtc_->set_cmos(0x34, static_cast<uint8_t>(v));
        rtc_->set_cmos(0x35, static_cast<uint8_t>(v >> 8));
        v = above_4g_ / (64 * kKiB);
        rtc_->set_cmos(0x5b, static_cast<uint8_t>(v));
        rtc_->set_cmos(0x5c, static_cast<uint8_t>(v >> 8));
        rtc_->set_cmos(0x5d, static_cast<uint8_t>(v >> 16));
        rtc_->set_cmos(0x5f, 0);  // number of CPUs - 1
    }

    std::vector<E820Entry> e820() const {
        std::vector<E820Entry> reserved;
        if (board_ == Board::kQ35) reserved.push_back({kQ35EcamBase, kQ35EcamSize, E820Type::kReserved});
        reserved.push_back({kX86BiosRomBase, kX86BiosRomSize, E820Type::kReserved});
        return x86_e820_map(below_4g_, above_4g_, reserved);
    }

    // Loads the kernel (or the firmware) and writes the PVH boot information.
    Status boot() {
        std::vector<PvhModule> modules;
        if (!initrd_.empty()) {
            if (auto st = memory_.write_bytes(initrd_addr_, initrd_.data(), initrd_.size()); !st) return st;
            modules.push_back({initrd_addr_, initrd_.size()});
        }
        auto si = write_pvh_start_info(memory_, e820(), options_.append, modules);
        if (!si) return make_error(si.error());
        if (!options_.kernel.empty()) {
            if (auto st = load_pvh_kernel(memory_, kernel_, options_.kernel); !st) return st;
            boot_state_ = {kernel_.entry, *si};
        } else {
            auto entry = install_x86_firmware(memory_, static_cast<uint32_t>(kX86BiosRomBase));
            if (!entry) return make_error(entry.error());
            boot_state_ = {*entry, *si};
        }
        entry_ = boot_state_.entry;
        return {};
    }

    // Forwards to another device with its offsets shifted (the i8042 command port).
    struct OffsetOps : MmioOps {
        MmioOps* target;
        uint64_t shift;
        OffsetOps(MmioOps* t, uint64_t s) : target(t), shift(s) {}
        uint64_t read(uint64_t offset, unsigned size) override { return target->read(offset + shift, size); }
        void write(uint64_t offset, uint64_t value, unsigned size) override { target->write(offset + shift, value, size); }
    };

    Board board_;
    const TypeRegistry* registry_;
    RunControl* rc_ = nullptr;
    uint64_t below_4g_ = 0, above_4g_ = 0;
    // The clock is declared before the devices that hold timers on it and after the address
    // spaces, so it is destroyed (its kicker thread joined) after them.
    AddressSpace memory_{"memory"};
    AddressSpace io_{"io", 0x10000};
    VirtualClock clock_;
    std::unique_ptr<I8259Pair> pic_;
    std::unique_ptr<Serial16550> serial_;
    std::unique_ptr<I8254> pit_;
    std::unique_ptr<Mc146818> rtc_;
    std::unique_ptr<KbdController> kbd_;
    std::unique_ptr<OffsetOps> kbd_cmd_;
    std::unique_ptr<Port92> port92_;
    std::unique_ptr<Port80> port80_;
    std::unique_ptr<PciIntxRouter> intx_;
    std::unique_ptr<PciConfigIo> pci_io_;
    std::unique_ptr<PciEcam> ecam_;
    // After everything its devices use (PIC, INTx router, clock, address spaces), so that
    // PCI devices are destroyed first.
    PciBus pci_bus_;
    std::vector<std::unique_ptr<MmioOps>> extra_devices_;
    std::map<std::string, uint8_t> pci_ids_;  // device_del: id -> devfn
    std::vector<std::string> isa_ids_;
    PvhKernel kernel_;
    std::vector<uint8_t> initrd_;
    uint64_t initrd_addr_ = 0;
    X86BootState boot_state_;
};

void add_machine(TypeRegistry& r, const char* type, const char* name, const char* desc, Security sec,
                 bool is_default, Board board) {
    TypeInfo t;
    t.name = type;
    t.short_name = name;
    t.parent = kTypeMachine;
    t.description = desc;
    t.security = sec;
    t.is_default = is_default;
    t.factory = [board, reg = &r](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return std::unique_ptr<Object>(std::make_unique<X86Machine>(board, reg));
    };
    (void)r.add(std::move(t));
}

}  // namespace

void register_x86_machines(TypeRegistry& r) {
    add_machine(r, "pc-machine", "pc", "Standard PC (i440FX + PIIX, 1996)", Security::kSecure, true, Board::kPc);
    add_machine(r, "q35-machine", "q35", "Standard PC (Q35 + ICH9, 2009)", Security::kSecure, false, Board::kQ35);
    add_machine(r, "microvm-machine", "microvm", "microvm (i386)", Security::kSecure, false, Board::kMicrovm);
    add_machine(r, "isapc-machine", "isapc", "ISA-only PC", Security::kInsecure, false, Board::kIsapc);
    add_machine(r, "none-machine", "none", "empty machine", Security::kInsecure, false, Board::kNone);
    register_x86_device_types(r);
    register_pci_device_types(r);
}

}  // namespace corvid
