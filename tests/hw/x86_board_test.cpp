// Tests for the x86 boards as a whole: the I/O map and PCI config (0xcf8/0xcfc, ECAM), PVH
// start info, firmware entry, isa-debug-exit, reset ports, interrupts from COM1 and the PIT
// through the PIC, CMOS memory sizes, and the device types in the registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>

#include <unistd.h>

#include "base/run_control.h"
#include "hw/boards/boards.h"
#include "hw/boards/x86_devices.h"
#include "hw/clock.h"
#include "hw/firmware/x86_firmware.h"
#include "hw/loader/elf_loader.h"
#include "hw/loader/pvh.h"
#include "hw/machine.h"
#include "hw/misc/pc_misc.h"
#include "hw/pci/pci_devices.h"
#include "elf_builder.h"
#include "log_capture.h"
#include "tests/hw/pic_init.h"
#include "tests/support/subprocess.h"

namespace corvid {
namespace {

using testing::ProcessResult;
using testing::run_process;

class FakeChar : public CharBackend {
public:
    void write(const uint8_t* data, size_t size) override { out.append(reinterpret_cast<const char*>(data), size); }
    void set_receiver(Receiver r) override { receiver = std::move(r); }
    std::string out;
    Receiver receiver;
};

struct Board {
    TypeRegistry reg;
    RunControl rc;
    FakeChar chr;
    std::unique_ptr<Machine> m;

    explicit Board(const char* name, MachineOptions o = {}) {
        register_root_types(reg);
        register_machine_types(reg, Arch::kX86_64);
        const TypeInfo* t = reg.find(name);
        EXPECT_NE(t, nullptr);
        auto obj = reg.create(*t, {});
        EXPECT_TRUE(obj.ok());
        m.reset(static_cast<Machine*>(obj->release()));
        o.serial0 = &chr;
        o.run_control = &rc;
        status = m->init(o);
    }
    Status status;

    uint64_t in(uint16_t port, unsigned size = 1) {
        uint64_t v = 0;
        last = m->io()->read(port, size, &v);
        return v;
    }
    void out(uint16_t port, uint64_t v, unsigned size = 1) { last = m->io()->write(port, size, v); }
    uint32_t pci_read(unsigned devfn, unsigned reg, unsigned size = 4) {
        out(0xcf8, 0x8000'0000u | (devfn << 8) | (reg & 0xfc), 4);
        return static_cast<uint32_t>(in(static_cast<uint16_t>(0xcfc + (reg & 3)), size));
    }
    void pci_write(unsigned devfn, unsigned reg, uint32_t v, unsigned size = 4) {
        out(0xcf8, 0x8000'0000u | (devfn << 8) | (reg & 0xfc), 4);
        out(static_cast<uint16_t>(0xcfc + (reg & 3)), v, size);
    }
    uint64_t mem32(uint64_t addr) {
        uint64_t v = 0;
        EXPECT_EQ(m->memory().read(addr, 4, &v), MemResult::kOk);
        return v;
    }
    MemResult last = MemResult::kOk;
};

// A minimal PVH kernel: `code` at 1 MiB, the note's entry at its start.
std::string write_pvh_elf(const std::string& name, const std::vector<uint8_t>& code, bool with_note, bool is64 = true) {
    std::vector<uint8_t> img;
    auto fill = [&](auto& b) {
        b.machine = is64 ? EM_X86_64 : EM_386;
        b.entry = 0xffffffff80100000ull & (is64 ? ~0ull : 0xffffffffull);
        testing::SegSpec s;
        s.paddr = 0x100000;
        s.vaddr = is64 ? 0xffffffff80100000ull : 0x100000;
        s.data = code;
        b.segs.push_back(s);
        if (with_note) {
            testing::SegSpec n;
            n.type = PT_NOTE;
            n.data = testing::make_note("Xen", kXenElfNotePhys32Entry, testing::le_bytes(0x100000, 4));
            n.flags = PF_R;
            b.segs.push_back(n);
        }
        img = b.build();
    };
    if (is64) {
        testing::ElfBuilder<true> b;
        fill(b);
    } else {
        testing::ElfBuilder<false> b;
        fill(b);
    }
    std::string path = ::testing::TempDir() + name + std::to_string(::getpid()) + ".elf";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    return path;
}

TEST(X86Board, PcPciConfigSpace) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    EXPECT_TRUE(b.m->has_pci());
    EXPECT_EQ(b.pci_read(0x00, 0x00), 0x12378086u);
    EXPECT_EQ(b.pci_read(0x00, 0x08), 0x06000002u);
    EXPECT_EQ(b.pci_read(0x00, 0x2c), 0x11001af4u);
    EXPECT_EQ(b.pci_read(0x08, 0x00), 0x70008086u);
    EXPECT_EQ(b.pci_read(0x08, 0x08), 0x06010000u);
    EXPECT_EQ(b.pci_read(0x08, 0x0e, 1), 0x80u);   // multi-function header
    EXPECT_EQ(b.pci_read(0x08, 0x60), 0x80808080u);  // PIRQ routing disabled
    EXPECT_EQ(b.pci_read(0x09, 0x00), 0xffffffffu);  // 00:01.1 absent
    EXPECT_EQ(b.pci_read(0x10, 0x00), 0xffffffffu);  // 00:02.0 absent
    EXPECT_EQ(b.pci_read(0x10, 0x00, 2), 0xffffu);
    EXPECT_EQ(b.pci_read(0x00, 0x02, 2), 0x1237u);   // word read at 0xcfe
    // Address register reads back; the enable bit gates data accesses.
    b.out(0xcf8, 0x8000'0010u, 4);
    EXPECT_EQ(b.in(0xcf8, 4), 0x8000'0010u);
    b.out(0xcf8, 0x0000'0000u, 4);
    EXPECT_EQ(b.in(0xcfc, 4), 0xffffffffu);
}

TEST(X86Board, PciWriteSemantics) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    b.pci_write(0x00, 0x00, 0xdeadbeef);  // IDs are read-only
    EXPECT_EQ(b.pci_read(0x00, 0x00), 0x12378086u);
    b.pci_write(0x00, 0x04, 0xffff, 2);  // only the implemented command bits stick
    EXPECT_EQ(b.pci_read(0x00, 0x04, 2), 0x0547u);
    b.pci_write(0x00, 0x10, 0xffffffff);  // BAR-less host bridge: BAR0 stays 0
    EXPECT_EQ(b.pci_read(0x00, 0x10), 0u);
    b.pci_write(0x00, 0x3c, 0x0b, 1);
    EXPECT_EQ(b.pci_read(0x00, 0x3c, 1), 0x0bu);
    b.pci_write(0x08, 0x60, 0x0a, 1);  // PIRQA -> IRQ10
    EXPECT_EQ(b.pci_read(0x08, 0x60), 0x8080800au);
    b.pci_write(0x08, 0x06, 0xffff, 2);  // status: the error bits are RW1C, DEVSEL read-only
    EXPECT_EQ(b.pci_read(0x08, 0x06, 2), 0x0200u);
    b.m->reset();
    EXPECT_EQ(b.pci_read(0x00, 0x04, 2), 0u);
    EXPECT_EQ(b.pci_read(0x08, 0x60), 0x80808080u);
}

TEST(X86Board, Q35PciAndEcam) {
    Board b("q35");
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    EXPECT_EQ(b.pci_read(0x00, 0x00), 0x29c08086u);
    EXPECT_EQ(b.pci_read(0x00, 0x60), 0xb0000001u);  // PCIEXBAR enabled at 0xb0000000
    EXPECT_EQ(b.pci_read(0xf8, 0x00), 0x29188086u);
    EXPECT_EQ(b.pci_read(0xf8, 0x08), 0x06010002u);
    EXPECT_EQ(b.pci_read(0xf8, 0x40), 0x00000001u);
    // ECAM: bus << 20 | devfn << 12 | register.
    EXPECT_EQ(b.mem32(0xb000'0000), 0x29c08086u);
    EXPECT_EQ(b.mem32(0xb00f'8000), 0x29188086u);
    EXPECT_EQ(b.mem32(0xb000'8000), 0xffffffffu);  // 00:01.0 absent
    EXPECT_EQ(b.mem32(0xb010'0000), 0xffffffffu);  // bus 1 empty
    EXPECT_EQ(b.mem32(0xb000'0100), 0xffffffffu);  // no extended space on this function
    EXPECT_EQ(b.m->memory().write(0xb00f'803c, 1, 0x05), MemResult::kOk);
    EXPECT_EQ(b.pci_read(0xf8, 0x3c, 1), 0x05u);
    // Q35 keeps RAM below the ECAM window.
    MachineOptions big_opts;
    big_opts.ram_size = 0xc000'0000;
    Board big("q35", big_opts);
    ASSERT_TRUE(big.status.ok()) << big.status.error();
    bool writable = false;
    EXPECT_NE(big.m->memory().ram_page(0x7fff'f000, &writable), nullptr);
    EXPECT_EQ(big.m->memory().ram_page(0x8000'0000, &writable), nullptr);
    EXPECT_NE(big.m->memory().ram_page(0x1'0000'0000, &writable), nullptr);
}

TEST(X86Board, IsapcAndMicrovmHaveNoPci) {
    Board b("isapc");
    ASSERT_TRUE(b.status.ok());
    EXPECT_FALSE(b.m->has_pci());
    b.in(0xcfc, 4);
    EXPECT_EQ(b.last, MemResult::kUnmapped);
    // A PCI device two levels down the hierarchy, as virtio devices will be.
    TypeInfo mid;
    mid.name = "corvid-test-pci-base";
    mid.parent = kTypePciDevice;
    mid.abstract = true;
    Status added = b.reg.add(mid);
    ASSERT_TRUE(added.ok()) << added.error();
    TypeInfo fake_pci;
    fake_pci.name = "corvid-test-pci";
    fake_pci.parent = "corvid-test-pci-base";
    fake_pci.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return make_error("not buildable");
    };
    ASSERT_TRUE(b.reg.add(fake_pci).ok());
    Status st = b.m->add_device(*b.reg.find("corvid-test-pci"), {});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "No 'PCI' bus found for device 'corvid-test-pci'");
    // On a PCI board the same device is not refused for lack of a bus (just not built yet).
    Board pc("pc");
    ASSERT_TRUE(pc.status.ok());
    Status st2 = pc.m->add_device(fake_pci, {});
    ASSERT_FALSE(st2.ok());
    EXPECT_EQ(st2.error(), "'corvid-test-pci' is not supported on this machine");

    Board mv("microvm");
    ASSERT_TRUE(mv.status.ok());
    EXPECT_FALSE(mv.m->has_pci());
    mv.out(0x3f8, 'm');
    EXPECT_EQ(mv.chr.out, "m");
    mv.in(0x40);
    EXPECT_EQ(mv.last, MemResult::kUnmapped);  // no PIT on microvm
    EXPECT_NE(mv.m->x86_interrupts(), nullptr);
}

TEST(X86Board, PciDevicesPlugIntoBusZero) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    register_pci_device_types(b.reg);
    const TypeInfo* t = b.reg.find("i6300esb");
    ASSERT_NE(t, nullptr);
    // First free slot: 00:02.0 (00:00.0 host bridge, 00:01.0 PIIX3).
    ASSERT_TRUE(b.m->add_device(*t, *OptionList::parse("i6300esb", "driver")).ok());
    EXPECT_EQ(b.pci_read(0x10, 0x00), 0x25ab8086u);
    // addr= picks the slot; a taken slot is an error.
    ASSERT_TRUE(b.m->add_device(*t, *OptionList::parse("i6300esb,addr=0x05", "driver")).ok());
    EXPECT_EQ(b.pci_read(0x28, 0x00), 0x25ab8086u);
    Status taken = b.m->add_device(*t, *OptionList::parse("i6300esb,addr=1", "driver"));
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error(), "PCI: slot 1 function 0 not available for i6300esb, in use by PIIX3");

    Board isa("isapc");
    ASSERT_TRUE(isa.status.ok());
    register_pci_device_types(isa.reg);
    Status st = isa.m->add_device(*isa.reg.find("i6300esb"), {});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "No 'PCI' bus found for device 'i6300esb'");
}

TEST(X86Board, NoneBoardHasNoDevices) {
    Board b("none");
    ASSERT_TRUE(b.status.ok());
    EXPECT_TRUE(b.m->onboard_types().empty());
    EXPECT_EQ(b.m->x86_interrupts(), nullptr);
    b.out(0x3f8, 'x');
    EXPECT_EQ(b.last, MemResult::kUnmapped);
    EXPECT_TRUE(b.chr.out.empty());
}

TEST(X86Board, FirmwareEntryWithoutKernel) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    const X86BootState bs = b.m->x86_boot_state();
    EXPECT_EQ(bs.entry, kX86BiosRomBase);
    EXPECT_EQ(b.m->entry_point(), kX86BiosRomBase);
    EXPECT_EQ(bs.ebx, kPvhStartInfoAddr);
    const std::vector<uint8_t> img = x86_firmware_image(static_cast<uint32_t>(kX86BiosRomBase));
    for (size_t i = 0; i < img.size(); i++) {
        uint64_t v = 0;
        ASSERT_EQ(b.m->memory().read(kX86BiosRomBase + i, 1, &v), MemResult::kOk);
        ASSERT_EQ(v, img[i]) << "byte " << i;
    }
    // The blob begins with cli and its string pointer points at the banner it carries.
    EXPECT_EQ(img[0], 0xfa);
    uint32_t msg = 0;
    std::memcpy(&msg, &img[3], 4);
    ASSERT_GT(msg, kX86BiosRomBase);
    const size_t off = msg - kX86BiosRomBase;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&img[off])), std::string(kX86FirmwareBanner));
    // The guest cannot overwrite its firmware (ROM).
    bool writable = true;
    EXPECT_NE(b.m->memory().ram_page(kX86BiosRomBase, &writable), nullptr);
    EXPECT_FALSE(writable);
}

// The hand-assembled firmware, wrapped in a PVH ELF, runs on QEMU: it prints the banner and
// then idles (QEMU keeps running, so the run ends by timeout).
TEST(X86Board, FirmwareBlobRunsOnQemu) {
    std::string qemu;
    for (const char* dir : {"/usr/bin/", "/usr/local/bin/"}) {
        if (::access((std::string(dir) + "qemu-system-x86_64").c_str(), X_OK) == 0) qemu = std::string(dir) + "qemu-system-x86_64";
    }
    if (qemu.empty()) GTEST_SKIP() << "qemu-system-x86_64 not installed";
    // QEMU looks for the note inside a loaded segment (as linkers lay it out): the segment
    // holds the note, then the firmware at 0x100020, and PT_NOTE points into it.
    const std::vector<uint8_t> note = testing::make_note("Xen", kXenElfNotePhys32Entry, testing::le_bytes(0x100020, 4));
    ASSERT_LE(note.size(), 0x20u);
    testing::Elf64Builder eb;
    eb.machine = EM_X86_64;
    eb.entry = 0x100020;
    testing::SegSpec load;
    load.paddr = 0x100000;
    load.data = note;
    load.data.resize(0x20, 0);
    const std::vector<uint8_t> fw = x86_firmware_image(0x100020);
    load.data.insert(load.data.end(), fw.begin(), fw.end());
    eb.segs.push_back(load);
    testing::SegSpec ns;
    ns.type = PT_NOTE;
    ns.data = note;
    eb.segs.push_back(ns);
    std::vector<uint8_t> img = eb.build();
    uint64_t load_off = 0;
    testing::Elf64Builder::edit_phdr(img, 0, [&](Elf64_Phdr& p) { load_off = p.p_offset; });
    testing::Elf64Builder::edit_phdr(img, 1, [&](Elf64_Phdr& p) {
        p.p_offset = load_off;
        p.p_paddr = p.p_vaddr = 0x100000;
        p.p_align = 4;  // QEMU steps through notes by the segment alignment
    });
    const std::string elf = ::testing::TempDir() + "fw" + std::to_string(::getpid()) + ".elf";
    std::ofstream(elf, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    ProcessResult r = run_process({qemu, "-M", "pc", "-display", "none", "-serial", "stdio", "-kernel", elf},
                                  {}, std::chrono::seconds(4));
    std::remove(elf.c_str());
    EXPECT_TRUE(r.timed_out) << "the firmware should halt, not exit; stderr: " << r.err;
    EXPECT_EQ(r.out, std::string(kX86FirmwareBanner));
}

TEST(X86Board, PvhKernelAndStartInfo) {
    const std::vector<uint8_t> code = {0xf4, 0xeb, 0xfd};  // hlt; jmp $-1
    const std::string elf = write_pvh_elf("pvh", code, true);
    MachineOptions o;
    o.kernel = elf;
    o.append = "console=ttyS0 quiet";
    o.ram_size = 0xe000'0000ull + (64ull << 20);  // 64 MiB above 4 GiB
    Board b("pc", o);
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    const X86BootState bs = b.m->x86_boot_state();
    EXPECT_EQ(bs.entry, 0x100000u);
    EXPECT_EQ(bs.ebx, kPvhStartInfoAddr);
    HvmStartInfo si{};
    auto* as = dynamic_cast<AddressSpace*>(&b.m->memory());
    ASSERT_NE(as, nullptr);
    ASSERT_TRUE(as->read_bytes(bs.ebx, &si, sizeof si).ok());
    EXPECT_EQ(si.magic, kHvmStartMagic);
    EXPECT_EQ(si.version, 1u);
    EXPECT_EQ(si.nr_modules, 0u);
    EXPECT_EQ(si.rsdp_paddr, 0u);
    ASSERT_NE(si.cmdline_paddr, 0u);
    char cmdline[32] = {};
    ASSERT_TRUE(as->read_bytes(si.cmdline_paddr, cmdline, sizeof cmdline - 1).ok());
    EXPECT_STREQ(cmdline, "console=ttyS0 quiet");
    std::vector<HvmMemmapEntry> map(si.memmap_entries);
    ASSERT_GT(map.size(), 0u);
    ASSERT_TRUE(as->read_bytes(si.memmap_paddr, map.data(), map.size() * sizeof(HvmMemmapEntry)).ok());
    uint64_t ram = 0;
    uint64_t prev_end = 0;
    for (const auto& e : map) {
        EXPECT_GE(e.addr, prev_end) << "entries sorted and disjoint";
        prev_end = e.addr + e.size;
        if (e.type == 1) ram += e.size;
    }
    EXPECT_EQ(map.front().addr, 0u);
    EXPECT_EQ(map.front().size, 0x9fc00u);
    EXPECT_EQ(map.back().addr, 1ull << 32);
    EXPECT_EQ(map.back().size, 64ull << 20);
    EXPECT_EQ(map.back().type, 1u);
    // Everything but the EBDA and BIOS area (0x9fc00-0x100000) is reported as RAM.
    EXPECT_EQ(ram, o.ram_size - (0x100000 - 0x9fc00));
    // The kernel is in memory, and a reset reloads it.
    EXPECT_EQ(b.mem32(0x100000) & 0xffffff, 0xfdebf4u);
    ASSERT_EQ(b.m->memory().write(0x100000, 4, 0), MemResult::kOk);
    b.m->reset();
    EXPECT_EQ(b.mem32(0x100000) & 0xffffff, 0xfdebf4u);
    std::remove(elf.c_str());
}

TEST(X86Board, InitrdIsAPvhModule) {
    const std::string elf = write_pvh_elf("pvhmod", {0xf4}, true);
    const std::string initrd = ::testing::TempDir() + "initrd" + std::to_string(::getpid());
    std::string payload(5000, 'r');
    payload[0] = 'I';
    std::ofstream(initrd, std::ios::binary) << payload;
    MachineOptions o;
    o.kernel = elf;
    o.initrd = initrd;
    Board b("pc", o);
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    auto* as = dynamic_cast<AddressSpace*>(&b.m->memory());
    HvmStartInfo si{};
    ASSERT_TRUE(as->read_bytes(kPvhStartInfoAddr, &si, sizeof si).ok());
    ASSERT_EQ(si.nr_modules, 1u);
    HvmModlistEntry mod{};
    ASSERT_TRUE(as->read_bytes(si.modlist_paddr, &mod, sizeof mod).ok());
    EXPECT_EQ(mod.size, payload.size());
    EXPECT_EQ(mod.paddr % 4096, 0u);
    EXPECT_EQ(mod.paddr + 8192, 128ull << 20);  // top of the default 128 MiB
    EXPECT_EQ(b.mem32(mod.paddr) & 0xff, static_cast<uint64_t>('I'));
    std::remove(initrd.c_str());

    MachineOptions no_kernel;
    no_kernel.initrd = "/nonexistent";
    Board bad("pc", no_kernel);
    ASSERT_FALSE(bad.status.ok());
    EXPECT_EQ(bad.status.error(), "-initrd cannot be used without -kernel");
    std::remove(elf.c_str());
}

TEST(X86Board, KernelWithoutPvhNoteIsAClearError) {
    const std::string elf = write_pvh_elf("nonote", {0xf4}, false);
    MachineOptions o;
    o.kernel = elf;
    Board b("q35", o);
    ASSERT_FALSE(b.status.ok());
    EXPECT_EQ(b.status.error(),
              "could not load kernel '" + elf + "': the ELF image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    std::remove(elf.c_str());
}

TEST(X86Board, E820MapForQ35) {
    auto map = x86_e820_map(0x8000'0000, 0x4000'0000, {{0xb000'0000, 0x1000'0000, E820Type::kReserved}});
    ASSERT_EQ(map.size(), 6u);
    EXPECT_EQ(map[3].addr, 0x100000u);
    EXPECT_EQ(map[3].size, 0x8000'0000u - 0x100000u);
    EXPECT_EQ(map[4].addr, 0xb000'0000u);
    EXPECT_EQ(map[4].type, E820Type::kReserved);
    EXPECT_EQ(map[5].addr, 1ull << 32);
}

TEST(X86Board, IsaDebugExit) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    const TypeInfo* t = b.reg.find("isa-debug-exit");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->security, Security::kInsecure);
    EXPECT_TRUE(t->user_creatable);
    auto props = OptionList::parse("isa-debug-exit,iobase=0xf4,iosize=0x04", "driver");
    ASSERT_TRUE(props.ok());
    ASSERT_TRUE(b.m->add_device(*t, *props).ok());
    EXPECT_FALSE(b.rc.shutdown_requested());
    b.out(0xf6, 0x10);
    EXPECT_TRUE(b.rc.shutdown_requested());
    EXPECT_EQ(b.rc.exit_status(), (0x10 << 1) | 1);
    EXPECT_EQ(IsaDebugExit::exit_status(0), 1);
    EXPECT_EQ(IsaDebugExit::exit_status(0x7f), 0xff);
}

TEST(X86Board, IsaDebugExitPropertyErrors) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    const TypeInfo* t = b.reg.find("isa-debug-exit");
    ASSERT_NE(t, nullptr);
    auto add = [&](const char* text) {
        auto props = OptionList::parse(text, "driver");
        EXPECT_TRUE(props.ok());
        return b.m->add_device(*t, *props);
    };
    EXPECT_EQ(add("isa-debug-exit,iobase=zz").error(), "Parameter 'iobase' expects uint32_t");
    EXPECT_EQ(add("isa-debug-exit,iosize=0").error(), "isa-debug-exit: iosize must be between 1 and 0x10000, not 0x0");
    EXPECT_EQ(add("isa-debug-exit,iobase=0xfffe,iosize=4").error(),
              "isa-debug-exit: I/O range 0xfffe-0x10001 is outside the 64 KiB port space");
    EXPECT_EQ(add("isa-debug-exit,colour=red").error(), "Property 'isa-debug-exit.colour' not found");
    Status overlap = add("isa-debug-exit,iobase=0x3f8,iosize=1");  // COM1 lives there
    ASSERT_FALSE(overlap.ok());
    EXPECT_NE(overlap.error().find("isa-debug-exit: "), std::string::npos);
    // The type's factory validates the same way (the -device path before the board exists).
    auto bad = OptionList::parse("isa-debug-exit,iobase=-1", "driver");
    EXPECT_FALSE(b.reg.create(*t, *bad).ok());
    auto good = OptionList::parse("isa-debug-exit", "driver");
    EXPECT_TRUE(b.reg.create(*t, *good).ok());
    // Default iobase 0x501, iosize 2 (QEMU's).
    ASSERT_TRUE(add("isa-debug-exit").ok());
    b.out(0x502, 3);
    EXPECT_EQ(b.rc.exit_status(), 7);

    Board none("none");
    ASSERT_TRUE(none.status.ok());
    EXPECT_FALSE(none.m->add_device(*t, {}).ok());
}

TEST(X86Board, ResetPorts) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    EXPECT_EQ(b.in(0x92), 0x02u);
    b.out(0x92, 0x03);  // fast reset pulse
    EXPECT_TRUE(b.rc.reset_requested());
    b.rc.clear_reset();
    b.out(0x64, 0xfe);  // keyboard controller reset
    EXPECT_TRUE(b.rc.reset_requested());
    b.rc.clear_reset();
    b.out(0xcf9, 0x02);
    EXPECT_FALSE(b.rc.reset_requested());
    b.out(0xcf9, 0x06);  // PIIX reset control: SRST + RST_CPU
    EXPECT_TRUE(b.rc.reset_requested());
    // Port 0x80: POST codes are swallowed.
    b.out(0x80, 0x42);
    EXPECT_EQ(b.last, MemResult::kOk);
    EXPECT_EQ(b.in(0x80), 0xffu);
}

TEST(X86Board, SerialInterruptReachesThePic) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    testing::init_pics([&](uint16_t port, uint8_t v) { b.out(port, v); });
    b.out(0x21, static_cast<uint8_t>(~(1u << 4)));
    b.out(0xa1, 0xff);
    X86InterruptSource* pic = b.m->x86_interrupts();
    ASSERT_NE(pic, nullptr);
    EXPECT_FALSE(pic->intr_pending());
    int kicks = 0;
    b.m->set_cpu_kick([&] { kicks++; });
    b.out(0x3f9, 0x02);  // IER: THRE
    EXPECT_TRUE(pic->intr_pending());
    EXPECT_GE(kicks, 1);
    EXPECT_EQ(pic->acknowledge(), 0x24);
    b.out(0x3f8, 'A');
    EXPECT_EQ(b.chr.out, "A");
}

TEST(X86Board, PitInterruptWithTheManualClock) {
    Board b("pc");
    ASSERT_TRUE(b.status.ok());
    VirtualClock* clock = b.m->virtual_clock();
    ASSERT_NE(clock, nullptr);
    clock->set_manual(true);
    const uint8_t init[] = {0x11, 0x20, 0x04, 0x01};
    for (int i = 0; i < 4; i++) b.out(i ? 0x21 : 0x20, init[i]);
    b.out(0x21, 0xfe);
    EXPECT_LT(b.m->next_deadline_ns(), 0);
    b.out(0x43, 0x34);  // counter 0, mode 2, 1000 ticks
    b.out(0x40, 1000 & 0xff);
    b.out(0x40, 1000 >> 8);
    const int64_t d = b.m->next_deadline_ns();
    EXPECT_GT(d, 0);
    EXPECT_LE(d, 1'000'000'000ll * 1000 / 1193182 + 1);
    X86InterruptSource* pic = b.m->x86_interrupts();
    b.m->poll_devices();
    EXPECT_FALSE(pic->intr_pending());
    clock->advance(1'000'000);  // > 1000 ticks
    b.m->poll_devices();
    EXPECT_TRUE(pic->intr_pending());
    EXPECT_EQ(pic->acknowledge(), 0x20);
}

TEST(X86Board, CmosMemorySizes) {
    MachineOptions o;
    o.ram_size = 0xe000'0000ull + (32ull << 20);
    Board b("pc", o);
    ASSERT_TRUE(b.status.ok());
    auto cmos = [&](uint8_t i) {
        b.out(0x70, i);
        return static_cast<unsigned>(b.in(0x71));
    };
    EXPECT_EQ(cmos(0x15) | (cmos(0x16) << 8), 640u);
    EXPECT_EQ(cmos(0x17) | (cmos(0x18) << 8), 65535u);
    EXPECT_EQ(cmos(0x30) | (cmos(0x31) << 8), 65535u);
    EXPECT_EQ(cmos(0x34) | (cmos(0x35) << 8), (0xe000'0000u - (16u << 20)) / 65536);
    EXPECT_EQ(cmos(0x5b) | (cmos(0x5c) << 8) | (cmos(0x5d) << 16), (32u << 20) / 65536);
    Board small("isapc");
    ASSERT_TRUE(small.status.ok());
    small.out(0x70, 0x34);
    EXPECT_EQ(small.in(0x71), ((128u - 16u) << 20) / 65536 & 0xff);
}

TEST(X86Board, OnboardTypesAreRegisteredAndSecure) {
    for (const char* name : {"pc", "q35", "microvm", "isapc"}) {
        SCOPED_TRACE(name);
        Board b(name);
        ASSERT_TRUE(b.status.ok());
        ASSERT_FALSE(b.m->onboard_types().empty());
        for (const std::string& dev : b.m->onboard_types()) {
            const TypeInfo* t = b.reg.find(dev);
            ASSERT_NE(t, nullptr) << dev;
            EXPECT_EQ(t->security, Security::kSecure) << dev;
            EXPECT_FALSE(t->user_creatable) << dev;
        }
    }
    Board pc("pc");
    const auto& types = pc.m->onboard_types();
    for (const char* want : {"isa-serial", "isa-i8259", "isa-pit", "mc146818rtc", "i440FX", "PIIX3"}) {
        EXPECT_NE(std::find(types.begin(), types.end(), want), types.end()) << want;
    }
}

}  // namespace
}  // namespace corvid
