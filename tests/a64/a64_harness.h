// Test machine for the A64 frontend: RAM at 0x4000_0000 behind an Engine (interpreter or
// JIT), a platform stub, and an assembler shim around aarch64-linux-gnu-as.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "backend/x64/x64_backend.h"
#include "base/memory_bus.h"
#include "frontends/a64/a64_frontend.h"
#include "translator/engine.h"

namespace corvid::a64test {

constexpr uint64_t kRamBase = 0x4000'0000;
constexpr uint64_t kRamSize = 2u << 20;
constexpr uint64_t kCode = kRamBase;
constexpr uint64_t kVectors = kRamBase + 0x10000;  // VBAR_EL1 used by the tests
constexpr uint64_t kData = kRamBase + 0x20000;     // scratch data area
constexpr uint32_t kWfi = 0xd503207f;

class RamBus final : public MemoryBus {
public:
    RamBus() : ram(kRamSize, 0) {}
    uint8_t* ram_page(uint64_t paddr, bool* writable) override {
        if (paddr < kRamBase || paddr >= kRamBase + kRamSize) return nullptr;
        *writable = true;
        return ram.data() + ((paddr - kRamBase) & ~uint64_t(kPageSize - 1));
    }
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override {
        if (paddr < kRamBase || paddr + size > kRamBase + kRamSize) return MemResult::kUnmapped;
        *value = 0;
        std::memcpy(value, ram.data() + (paddr - kRamBase), size);
        return MemResult::kOk;
    }
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override {
        if (paddr < kRamBase || paddr + size > kRamBase + kRamSize) return MemResult::kUnmapped;
        std::memcpy(ram.data() + (paddr - kRamBase), &value, size);
        return MemResult::kOk;
    }
    uint64_t read64(uint64_t a) const {
        uint64_t v;
        std::memcpy(&v, ram.data() + (a - kRamBase), 8);
        return v;
    }
    void write64(uint64_t a, uint64_t v) { std::memcpy(ram.data() + (a - kRamBase), &v, 8); }
    std::vector<uint8_t> ram;
};

// Records platform calls; PSCI SYSTEM_OFF-like behaviour for hvc #0 with x0 == 0x84000008.
class StubPlatform final : public A64Platform {
public:
    HvcResult hvc(A64State& cpu, uint16_t imm) override {
        ++hvc_calls;
        last_hvc_imm = imm;
        if (!handle_hvc) return HvcResult::kNotHandled;
        if (cpu.x[0] == 0x84000008) {
            shutdown = true;
            cpu.common.exit_request.store(1);
        }
        cpu.x[0] = 0;
        return HvcResult::kHandled;
    }
    bool semihosting(A64State& cpu) override {
        ++semihosting_calls;
        if (!semihosting_enabled) return false;
        cpu.x[0] = 0x5e;
        return true;
    }
    bool handle_hvc = true;
    bool semihosting_enabled = false;
    bool shutdown = false;
    int hvc_calls = 0;
    int semihosting_calls = 0;
    uint16_t last_hvc_imm = 0;
};

enum class Backend { kInterp, kJit };
inline const char* backend_name(Backend b) { return b == Backend::kInterp ? "interp" : "jit"; }

struct Machine {
    explicit Machine(Backend kind, A64Platform* platform = nullptr)
        : frontend(platform), cpu(std::make_unique<A64State>()) {
        EngineOptions opts;
        opts.backend = kind == Backend::kJit ? EngineOptions::BackendKind::kJit : EngineOptions::BackendKind::kInterp;
        std::unique_ptr<ExecBackend> be = kind == Backend::kJit ? make_x64_backend(4u << 20) : make_interp_backend();
        engine = std::make_unique<Engine>(frontend, bus, opts, std::move(be));
        frontend.reset(*cpu, kCode);
        for (auto& e : cpu->common.tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
        // Every vector holds a WFI so a taken exception stops the run at vector + 4.
        for (uint64_t off = 0; off < 0x800; off += 0x80) load(kVectors + off, {kWfi});
    }

    void load(uint64_t addr, const std::vector<uint32_t>& words) {
        std::memcpy(bus.ram.data() + (addr - kRamBase), words.data(), words.size() * 4);
        engine->invalidate_phys(addr, words.size() * 4);
    }

    // Resets to EL1h at `entry` with VBAR_EL1 = kVectors and runs until a halt.
    RunExit run(uint64_t entry = kCode) {
        frontend.reset(*cpu, entry);
        cpu->vbar_el1 = kVectors;
        return resume();
    }
    RunExit resume() {
        RunExit e;
        for (int i = 0; i < 1000; ++i) {
            e = engine->run(&cpu->common);
            if (e.kind != RunExit::Kind::kExitRequest) break;
            if (platform_stops) break;
        }
        return e;
    }

    A64State& s() { return *cpu; }
    uint32_t nzcv() const { return (cpu->n << 3) | (cpu->z << 2) | (cpu->c << 1) | cpu->v; }

    RamBus bus;
    A64Frontend frontend;
    std::unique_ptr<A64State> cpu;
    std::unique_ptr<Engine> engine;
    bool platform_stops = true;
};

// Assembles A64 source with the cross assembler (at test run time). Returns nullopt (and the
// caller skips loudly) when the tool is not installed.
inline std::optional<std::vector<uint32_t>> assemble(const std::string& source, std::string* error = nullptr) {
    static const bool have_as = std::system("aarch64-linux-gnu-as --version > /dev/null 2>&1") == 0 &&
                                std::system("aarch64-linux-gnu-objcopy --version > /dev/null 2>&1") == 0;
    if (!have_as) return std::nullopt;
    char dir[] = "/tmp/corvid-a64-asm-XXXXXX";
    if (!mkdtemp(dir)) return std::nullopt;
    const std::string d = dir, s = d + "/t.s", o = d + "/t.o", bin = d + "/t.bin", log = d + "/log";
    {
        std::ofstream f(s);
        f << ".arch armv8-a+crc\n.text\n" << source << "\n";
    }
    std::string cmd = "aarch64-linux-gnu-as -o " + o + " " + s + " > " + log + " 2>&1 && aarch64-linux-gnu-objcopy -O binary -j .text " +
                      o + " " + bin + " >> " + log + " 2>&1";
    std::vector<uint32_t> words;
    if (std::system(cmd.c_str()) == 0) {
        std::ifstream f(bin, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        words.resize(bytes.size() / 4);
        std::memcpy(words.data(), bytes.data(), words.size() * 4);
    } else if (error) {
        std::ifstream f(log);
        *error = std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    }
    std::system(("rm -rf " + d).c_str());
    if (words.empty()) return std::vector<uint32_t>{};
    return words;
}

#define A64_ASSEMBLE(var, src)                                                                        \
    std::string var##_err;                                                                            \
    auto var##_opt = ::corvid::a64test::assemble(src, &var##_err);                                   \
    if (!var##_opt) GTEST_SKIP() << "aarch64-linux-gnu-as not installed: SKIPPING assembled A64 test"; \
    ASSERT_FALSE(var##_opt->empty()) << "assembly failed:\n" << var##_err;                           \
    const std::vector<uint32_t>& var = *var##_opt

// Test fixture parameterised by backend.
class A64Test : public ::testing::TestWithParam<Backend> {
protected:
    // Assembles `src` (which should end in wfi), runs it from kCode and expects a WFI halt.
    Machine& run_program(const std::string& src) {
        std::string err;
        auto words = assemble(src, &err);
        if (!words) {
            skipped_ = true;
            return *m_;
        }
        EXPECT_FALSE(words->empty()) << "assembly failed:\n" << err;
        m_->load(kCode, *words);
        last_exit_ = m_->run();
        return *m_;
    }
    void SetUp() override { m_ = std::make_unique<Machine>(GetParam(), &platform_); }
    StubPlatform platform_;
    std::unique_ptr<Machine> m_;
    RunExit last_exit_;
    bool skipped_ = false;
};

#define RUN_A64(src)                                                                                \
    Machine& m = run_program(src);                                                                  \
    if (skipped_) GTEST_SKIP() << "aarch64-linux-gnu-as not installed: SKIPPING assembled A64 test"; \
    (void)m

inline std::string param_name(const ::testing::TestParamInfo<Backend>& info) { return backend_name(info.param); }

#define A64_INSTANTIATE(suite) \
    INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values(Backend::kInterp, Backend::kJit), param_name)

}  // namespace corvid::a64test
