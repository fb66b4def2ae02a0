// End to end: the PVH guest programs of guests/x86 (built into <build>/guests/x86/*.elf) run
// on the frontend alone — a minimal ELF loader, COM1 and isa-debug-exit stubs — and must print
// exactly what QEMU printed (tests/guests/x86/expected/). The board is not needed.
#include <elf.h>

#include <fstream>
#include <sstream>

#include "tests/x86/x86_harness.h"

namespace corvid::x86test {
namespace {

constexpr uint64_t kStartInfo = 0x6000;

class SerialPlatform final : public X86Platform {
public:
    uint64_t io_read(uint16_t port, unsigned) override {
        if (port == 0x3fd) return 0x60;  // LSR: transmitter empty, no received data
        return 0;
    }
    void io_write(uint16_t port, uint64_t value, unsigned) override {
        if (port == 0x3f8) console += char(value);
        if (port == 0xf4) {
            exit_code = int(value & 0xff);
            if (cpu) cpu->common.exit_request.store(1);
        }
    }
    void triple_fault() override { ++triple_faults; }
    std::string console;
    int exit_code = -1;
    int triple_faults = 0;
    X86State* cpu = nullptr;
};

std::string read_file(const std::string& path, bool* ok) {
    std::ifstream f(path, std::ios::binary);
    *ok = bool(f);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Loads the PT_LOAD segments at their physical addresses; returns the entry (0 on error).
uint64_t load_elf(const std::string& image, RamBus& bus) {
    if (image.size() < sizeof(Elf64_Ehdr)) return 0;
    Elf64_Ehdr eh;
    std::memcpy(&eh, image.data(), sizeof(eh));
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return 0;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        const size_t off = eh.e_phoff + size_t(i) * eh.e_phentsize;
        if (off + sizeof(ph) > image.size()) return 0;
        std::memcpy(&ph, image.data() + off, sizeof(ph));
        if (ph.p_type != PT_LOAD) continue;
        if (ph.p_paddr + ph.p_memsz > bus.ram.size() || ph.p_offset + ph.p_filesz > image.size()) return 0;
        std::memcpy(bus.ram.data() + ph.p_paddr, image.data() + ph.p_offset, ph.p_filesz);
        std::memset(bus.ram.data() + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    }
    return eh.e_entry;
}

struct GuestCase {
    const char* name;
    Backend backend;
};

void PrintTo(const GuestCase& c, std::ostream* os) { *os << c.name << "/" << backend_name(c.backend); }

class GuestE2eTest : public ::testing::TestWithParam<GuestCase> {};

TEST_P(GuestE2eTest, MatchesQemuOutput) {
    const GuestCase& c = GetParam();
    bool ok = false;
    const std::string elf = read_file(std::string(CORVID_BINARY_DIR) + "/guests/x86/" + c.name + ".elf", &ok);
    if (!ok) GTEST_SKIP() << "guests/x86/" << c.name << ".elf not built (target guests-x86): SKIPPING";
    const std::string dir = std::string(CORVID_SOURCE_DIR) + "/tests/guests/x86/expected/";
    const std::string expected = read_file(dir + c.name + ".txt", &ok);
    ASSERT_TRUE(ok) << "missing expected output for " << c.name;
    const std::string status_text = read_file(dir + c.name + ".status", &ok);
    ASSERT_TRUE(ok);

    enable_test_logging();
    RamBus bus;
    SerialPlatform platform;
    X86Frontend frontend(&platform);
    auto cpu = std::make_unique<X86State>();
    EngineOptions opts;
    std::unique_ptr<ExecBackend> be = c.backend == Backend::kJit ? make_x64_backend(8u << 20) : make_interp_backend();
    Engine engine(frontend, bus, opts, std::move(be));
    const uint64_t entry = load_elf(elf, bus);
    ASSERT_NE(entry, 0u) << "bad ELF";
    const uint32_t start_info[4] = {0x336ec578, 1, 0, 0};
    std::memcpy(bus.ram.data() + kStartInfo, start_info, sizeof(start_info));
    frontend.reset_pvh(*cpu, uint32_t(entry), uint32_t(kStartInfo));
    platform.cpu = cpu.get();
    for (int i = 0; i < 100000 && platform.exit_code < 0 && !platform.triple_faults; ++i) {
        RunExit e = engine.run(&cpu->common);
        ASSERT_NE(e.kind, RunExit::Kind::kError) << e.error;
        if (e.kind == RunExit::Kind::kHalt && e.halt == ir::HaltReason::kWaitForInterrupt) break;
    }
    EXPECT_EQ(platform.triple_faults, 0);
    EXPECT_EQ(platform.console, expected);
    EXPECT_EQ((platform.exit_code << 1) | 1, std::atoi(status_text.c_str())) << platform.console;
}

std::string case_name(const ::testing::TestParamInfo<GuestCase>& info) {
    return std::string(info.param.name) + "_" + backend_name(info.param.backend);
}

// pit, cmos and echo need the board's devices (PIC/PIT, RTC, UART input).
INSTANTIATE_TEST_SUITE_P(Guests, GuestE2eTest,
                         ::testing::Values(GuestCase{"hello", Backend::kInterp}, GuestCase{"hello", Backend::kJit},
                                           GuestCase{"isa", Backend::kInterp}, GuestCase{"isa", Backend::kJit},
                                           GuestCase{"exceptions", Backend::kInterp},
                                           GuestCase{"exceptions", Backend::kJit}),
                         case_name);

}  // namespace
}  // namespace corvid::x86test
