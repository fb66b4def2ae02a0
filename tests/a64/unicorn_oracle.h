// Unicorn (QEMU's TCG as a library) as an oracle for A64 tests, loaded with dlopen so the
// test binary needs no link-time dependency; callers skip loudly when it is missing.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <unicorn/unicorn.h>

namespace corvid::a64test {

struct OracleState {
    uint64_t x[31] = {};
    uint64_t sp = 0;
    uint32_t nzcv = 0;  // N Z C V in bits 3..0
    uint64_t pc = 0;
    std::vector<uint8_t> data;  // the data window after the run
};

class UnicornOracle {
public:
    static UnicornOracle* get() {
        static UnicornOracle o;
        return o.ok_ ? &o : nullptr;
    }

    // Runs `code` at `base` (RAM of `ram_size` bytes mapped at `ram_base`) from `base` until
    // the pc reaches `until`. `data` is copied to `data_addr` first and read back after.
    std::optional<OracleState> run(uint64_t ram_base, uint64_t ram_size, uint64_t base, const std::vector<uint32_t>& code,
                                   uint64_t until, const OracleState& init, uint64_t data_addr) {
        uc_engine* uc = nullptr;
        if (open_(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK) return std::nullopt;
        map_(uc, ram_base, ram_size, UC_PROT_ALL);
        write_mem_(uc, base, code.data(), code.size() * 4);
        if (!init.data.empty()) write_mem_(uc, data_addr, init.data.data(), init.data.size());
        for (int i = 0; i < 29; ++i) reg_write_(uc, UC_ARM64_REG_X0 + i, &init.x[i]);
        reg_write_(uc, UC_ARM64_REG_X29, &init.x[29]);
        reg_write_(uc, UC_ARM64_REG_X30, &init.x[30]);
        reg_write_(uc, UC_ARM64_REG_SP, &init.sp);
        uint64_t nzcv = uint64_t(init.nzcv) << 28;
        reg_write_(uc, UC_ARM64_REG_NZCV, &nzcv);
        uc_err err = start_(uc, base, until, 0, 100000);
        OracleState out;
        if (err == UC_ERR_OK) {
            for (int i = 0; i < 29; ++i) reg_read_(uc, UC_ARM64_REG_X0 + i, &out.x[i]);
            reg_read_(uc, UC_ARM64_REG_X29, &out.x[29]);
            reg_read_(uc, UC_ARM64_REG_X30, &out.x[30]);
            reg_read_(uc, UC_ARM64_REG_SP, &out.sp);
            reg_read_(uc, UC_ARM64_REG_NZCV, &nzcv);
            reg_read_(uc, UC_ARM64_REG_PC, &out.pc);
            out.nzcv = uint32_t(nzcv >> 28) & 0xf;
            out.data.resize(init.data.size());
            if (!out.data.empty()) read_mem_(uc, data_addr, out.data.data(), out.data.size());
        }
        close_(uc);
        if (err != UC_ERR_OK) return std::nullopt;
        return out;
    }

private:
    UnicornOracle() {
        handle_ = dlopen("libunicorn.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!handle_) return;
        ok_ = load(open_, "uc_open") && load(close_, "uc_close") && load(map_, "uc_mem_map") &&
              load(write_mem_, "uc_mem_write") && load(read_mem_, "uc_mem_read") && load(reg_write_, "uc_reg_write") &&
              load(reg_read_, "uc_reg_read") && load(start_, "uc_emu_start");
    }
    template <typename F>
    bool load(F& f, const char* name) {
        f = reinterpret_cast<F>(dlsym(handle_, name));
        return f != nullptr;
    }

    void* handle_ = nullptr;
    bool ok_ = false;
    uc_err (*open_)(uc_arch, uc_mode, uc_engine**) = nullptr;
    uc_err (*close_)(uc_engine*) = nullptr;
    uc_err (*map_)(uc_engine*, uint64_t, size_t, uint32_t) = nullptr;
    uc_err (*write_mem_)(uc_engine*, uint64_t, const void*, size_t) = nullptr;
    uc_err (*read_mem_)(uc_engine*, uint64_t, void*, size_t) = nullptr;
    uc_err (*reg_write_)(uc_engine*, int, const void*) = nullptr;
    uc_err (*reg_read_)(uc_engine*, int, void*) = nullptr;
    uc_err (*start_)(uc_engine*, uint64_t, uint64_t, uint64_t, size_t) = nullptr;
};

}  // namespace corvid::a64test
