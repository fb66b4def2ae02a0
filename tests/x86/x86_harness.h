// Test machine for the x86 frontend: RAM at 0 behind an Engine (interpreter or JIT), a test
// platform for port I/O, long-mode setup helpers, and an assembler shim around the host's GNU as.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "backend/x64/x64_backend.h"
#include "base/log.h"
#include "base/memory_bus.h"
#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_segments.h"
#include "translator/engine.h"

namespace corvid::x86test {

constexpr uint64_t kRamSize = 16u << 20;
constexpr uint64_t kCode = 0x1000;
constexpr uint64_t kData = 0x10000;
constexpr uint64_t kHandlers = 0x20000;  // exception handlers
constexpr uint64_t kStackTop = 0x80000;
constexpr uint64_t kPml4 = 0x100000;      // identity map of the first 1 GiB (2 MiB pages)
constexpr uint64_t kGdt = 0x110000;
constexpr uint64_t kIdt = 0x111000;
constexpr uint64_t kTss = 0x112000;

// GDT: 0 null, 0x08 64-bit code, 0x10 data, 0x18 32-bit code, 0x20 user data, 0x28 user 64-bit
// code, 0x30 TSS (16 bytes).
constexpr uint64_t kGdtEntries[] = {0, 0x00af9b000000ffff, 0x00cf93000000ffff, 0x00cf9b000000ffff,
                                    0x00cff3000000ffff, 0x00affb000000ffff};

class RamBus final : public MemoryBus {
public:
    RamBus() : ram(kRamSize, 0) {}
    uint8_t* ram_page(uint64_t paddr, bool* writable) override {
        if (paddr >= kRamSize) return nullptr;
        *writable = true;
        return ram.data() + (paddr & ~uint64_t(kPageSize - 1));
    }
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override {
        if (paddr + size > kRamSize) return MemResult::kUnmapped;
        *value = 0;
        std::memcpy(value, ram.data() + paddr, size);
        return MemResult::kOk;
    }
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override {
        if (paddr + size > kRamSize) return MemResult::kUnmapped;
        std::memcpy(ram.data() + paddr, &value, size);
        return MemResult::kOk;
    }
    uint64_t read64(uint64_t a) const {
        uint64_t v;
        std::memcpy(&v, ram.data() + a, 8);
        return v;
    }
    uint32_t read32(uint64_t a) const {
        uint32_t v;
        std::memcpy(&v, ram.data() + a, 4);
        return v;
    }
    void write64(uint64_t a, uint64_t v) { std::memcpy(ram.data() + a, &v, 8); }
    std::vector<uint8_t> ram;
};

// Port I/O recorder: 0xe9 collects characters, a write to 0xf4 stops the run (isa-debug-exit).
class TestPlatform final : public X86Platform {
public:
    uint64_t io_read(uint16_t port, unsigned size) override {
        reads.emplace_back(port, size);
        return in_value;
    }
    void io_write(uint16_t port, uint64_t value, unsigned size) override {
        writes.push_back({port, value, size});
        if (port == 0xe9) console += char(value);
        if (port == 0xf4 && cpu) {
            exit_code = int(value);
            cpu->common.exit_request.store(1);
        }
    }
    void triple_fault() override { ++triple_faults; }
    bool intr_pending() const override { return intr; }

    struct Write {
        uint16_t port;
        uint64_t value;
        unsigned size;
    };
    std::vector<Write> writes;
    std::vector<std::pair<uint16_t, unsigned>> reads;
    std::string console;
    uint64_t in_value = 0x12345678;
    int exit_code = -1;
    int triple_faults = 0;
    bool intr = false;  // INTR as the interrupt controller reports it (X86Platform::intr_pending)
    X86State* cpu = nullptr;
};

// CORVID_X86_TEST_LOG=in_asm,int,... turns on the -d categories for debugging a test.
inline void enable_test_logging() {
    if (const char* cats = std::getenv("CORVID_X86_TEST_LOG")) {
        if (auto m = log::parse_categories(cats)) log::set_mask(*m);
    }
}

enum class Backend { kInterp, kJit };
inline const char* backend_name(Backend b) { return b == Backend::kInterp ? "interp" : "jit"; }

struct Machine {
    explicit Machine(Backend kind) : frontend(&platform), cpu(std::make_unique<X86State>()) {
        enable_test_logging();
        EngineOptions opts;
        opts.backend = kind == Backend::kJit ? EngineOptions::BackendKind::kJit : EngineOptions::BackendKind::kInterp;
        std::unique_ptr<ExecBackend> be = kind == Backend::kJit ? make_x64_backend(4u << 20) : make_interp_backend();
        engine = std::make_unique<Engine>(frontend, bus, opts, std::move(be));
        frontend.reset_pvh(*cpu, kCode, 0);
        platform.cpu = cpu.get();
        for (auto& e : cpu->common.tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
    }

    void load(uint64_t addr, const std::vector<uint8_t>& bytes) {
        std::memcpy(bus.ram.data() + addr, bytes.data(), bytes.size());
        engine->invalidate_phys(addr, bytes.size());
    }

    // Identity-maps the first 1 GiB with 2 MiB pages (RW, user), loads the GDT/IDT/TSS images
    // and puts the CPU in 64-bit mode at `rip` with CPL 0.
    void enter_long_mode(uint64_t rip) {
        bus.write64(kPml4, (kPml4 + 0x1000) | 7);
        bus.write64(kPml4 + 0x1000, (kPml4 + 0x2000) | 7);
        for (uint64_t i = 0; i < 512; ++i) bus.write64(kPml4 + 0x2000 + i * 8, (i << 21) | 0x87);
        for (size_t i = 0; i < std::size(kGdtEntries); ++i) bus.write64(kGdt + i * 8, kGdtEntries[i]);
        // 64-bit TSS descriptor at 0x30 (base kTss, limit 0x67, type 9).
        bus.write64(kGdt + 0x30, 0x0000890000000067ull | ((kTss & 0xffffff) << 16) | ((kTss >> 24) << 56));
        bus.write64(kGdt + 0x38, kTss >> 32);
        X86State& s = *cpu;
        s.cr3 = kPml4;
        s.cr4 = kCr4Pae;
        s.efer = kEferLme | kEferLma | kEferSce | kEferNxe;
        s.cr0 = kCr0Pe | kCr0Et | kCr0Pg | kCr0Wp;
        s.gdtr_base = kGdt;
        s.gdtr_limit = 0x3f;
        s.idtr_base = kIdt;
        s.idtr_limit = 256 * 16 - 1;
        s.seg[kSegCs] = x86::flat_segment(0x08, 0x9b | kSegAttrL | kSegAttrG);
        for (unsigned i : {unsigned(kSegDs), unsigned(kSegEs), unsigned(kSegSs), unsigned(kSegFs), unsigned(kSegGs)})
            s.seg[i] = x86::flat_segment(0x10, 0x93 | kSegAttrDb | kSegAttrG);
        s.tr = X86Segment{0x30, 0x8b, 0x67, kTss};
        s.regs[4] = kStackTop;
        s.common.pc = rip;
        s.common.mode = x86_state_mode(s);
        engine->tlb_flush(&s.common);
    }

    // Installs a 64-bit interrupt gate for `vector` to `handler` (DPL 3 so int n works anywhere).
    void set_gate(unsigned vector, uint64_t handler, unsigned ist = 0) {
        const uint64_t lo = (handler & 0xffff) | (uint64_t(0x08) << 16) | (uint64_t(ist) << 32) |
                            (uint64_t(0xee) << 40) | (((handler >> 16) & 0xffff) << 48);
        bus.write64(kIdt + vector * 16, lo);
        bus.write64(kIdt + vector * 16 + 8, handler >> 32);
    }

    // Runs until a halt, the debug-exit port, a triple fault or an internal error.
    RunExit run() {
        RunExit e;
        for (int i = 0; i < 100000; ++i) {
            e = engine->run(&cpu->common);
            if (e.kind != RunExit::Kind::kExitRequest) {
                if (e.kind == RunExit::Kind::kHalt && e.halt == ir::HaltReason::kYield) continue;
                break;
            }
            if (platform.exit_code >= 0 || platform.triple_faults) break;
        }
        return e;
    }

    X86State& s() { return *cpu; }
    uint64_t reg(unsigned r) const { return cpu->regs[r]; }

    RamBus bus;
    TestPlatform platform;
    X86Frontend frontend;
    std::unique_ptr<X86State> cpu;
    std::unique_ptr<Engine> engine;
};

// Assembles x86 source (Intel syntax; `bits` 32 or 64) with the host assembler at test run time.
// Returns nullopt when the tool is missing (callers skip), an empty vector on assembly errors.
inline std::optional<std::vector<uint8_t>> assemble(const std::string& source, unsigned bits,
                                                    std::string* error = nullptr, uint64_t origin = 0) {
    static const bool have_as = std::system("as --version > /dev/null 2>&1") == 0 &&
                                std::system("ld --version > /dev/null 2>&1") == 0 &&
                                std::system("objcopy --version > /dev/null 2>&1") == 0;
    if (!have_as) return std::nullopt;
    char dir[] = "/tmp/corvid-x86-asm-XXXXXX";
    if (!mkdtemp(dir)) return std::nullopt;
    const std::string d = dir, s = d + "/t.s", o = d + "/t.o", elf = d + "/t.elf", bin = d + "/t.bin",
                      log = d + "/log";
    {
        std::ofstream f(s);
        f << ".intel_syntax noprefix\n" << (bits == 64 ? ".code64\n" : ".code32\n") << ".text\n" << source << "\n";
    }
    const std::string flag = bits == 64 ? "--64" : "--32";
    const std::string emu = bits == 64 ? "elf_x86_64" : "elf_i386";
    char org[32];
    std::snprintf(org, sizeof(org), "0x%llx", static_cast<unsigned long long>(origin));
    std::string cmd = "as " + flag + " -o " + o + " " + s + " > " + log + " 2>&1 && ld -m " + emu + " -Ttext=" + org +
                      " -e 0 -o " + elf + " " + o + " >> " + log + " 2>&1 && objcopy -O binary -j .text " + elf + " " +
                      bin + " >> " + log + " 2>&1";
    std::vector<uint8_t> bytes;
    if (std::system(cmd.c_str()) == 0) {
        std::ifstream f(bin, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    } else if (error) {
        std::ifstream f(log);
        *error = std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    }
    std::system(("rm -rf " + d).c_str());
    return bytes;
}

class X86Test : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override { m_ = std::make_unique<Machine>(GetParam()); }
    // Assembles `src` at `origin` and loads it there; false (test skipped or failed) otherwise.
    bool load_asm(const std::string& src, unsigned bits, uint64_t origin = kCode) {
        std::string err;
        auto bytes = assemble(src, bits, &err, origin);
        if (!bytes) {
            skipped_ = true;
            return false;
        }
        EXPECT_FALSE(bytes->empty()) << "assembly failed:\n" << err;
        if (bytes->empty()) return false;
        m_->load(origin, *bytes);
        return true;
    }
    std::unique_ptr<Machine> m_;
    bool skipped_ = false;
};

#define X86_LOAD(src, bits, ...)                                                       \
    do {                                                                               \
        if (!load_asm(src, bits, ##__VA_ARGS__)) {                                     \
            if (skipped_) GTEST_SKIP() << "GNU as not installed: SKIPPING x86 test";   \
            return;                                                                    \
        }                                                                              \
    } while (0)

inline std::string param_name(const ::testing::TestParamInfo<Backend>& info) { return backend_name(info.param); }

#define X86_INSTANTIATE(suite) \
    INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values(Backend::kInterp, Backend::kJit), param_name)

}  // namespace corvid::x86test
