// Unicorn side: one engine for the whole run, memory mapped onto host buffers so that the
// data window can be compared and re-synchronised without copies through the API.
#include "tests/a64_diff/unicorn_runner.h"

#include <array>
#include <cstring>
#include <string>

namespace corvid::a64diff {
namespace {

// Register ids in ArchState::x order (X29/X30 are not contiguous with X0..X28 in Unicorn).
std::array<int, 31> x_register_ids() {
    std::array<int, 31> ids{};
    for (int i = 0; i < 29; ++i) ids[size_t(i)] = UC_ARM64_REG_X0 + i;
    ids[29] = UC_ARM64_REG_X29;
    ids[30] = UC_ARM64_REG_X30;
    return ids;
}

}  // namespace

UnicornRunner::UnicornRunner(uint8_t* code) : data_(kDataSize, 0), vectors_(kVectorSize) {
    // Corvid's vector page is part of the memory map (loads may hit it): map the same bytes.
    for (size_t off = 0; off < kVectorSize; off += 4) std::memcpy(vectors_.data() + off, &kWfiWord, 4);
    uc_engine* uc = nullptr;
    if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK) {
        error_ = "uc_open(UC_ARCH_ARM64) failed";
        return;
    }
    if (uc_mem_map_ptr(uc, kCodeBase, kCodeSize, UC_PROT_READ | UC_PROT_EXEC, code) != UC_ERR_OK ||
        uc_mem_map_ptr(uc, kDataBase, kDataSize, UC_PROT_READ | UC_PROT_WRITE, data_.data()) != UC_ERR_OK ||
        uc_mem_map_ptr(uc, kVectorBase, kVectorSize, UC_PROT_READ | UC_PROT_EXEC, vectors_.data()) != UC_ERR_OK) {
        error_ = "uc_mem_map_ptr failed";
        uc_close(uc);
        return;
    }
    uc_ = uc;
}

UnicornRunner::~UnicornRunner() {
    if (uc_) uc_close(uc_);
}

void UnicornRunner::code_changed(uint64_t addr, uint64_t size) { uc_ctl_remove_cache(uc_, addr, addr + size); }

Outcome UnicornRunner::run(const ArchState& init, unsigned count) {
    static const std::array<int, 31> kIds = x_register_ids();
    Outcome out;
    for (size_t i = 0; i < 31; ++i) uc_reg_write(uc_, kIds[i], &init.x[i]);
    uc_reg_write(uc_, UC_ARM64_REG_SP, &init.sp);
    const uint64_t nzcv = uint64_t(init.nzcv) << 28;
    uc_reg_write(uc_, UC_ARM64_REG_NZCV, &nzcv);
    const uc_err err = uc_emu_start(uc_, init.pc - 4, 0, 0, count + 1);
    for (size_t i = 0; i < 31; ++i) uc_reg_read(uc_, kIds[i], &out.state.x[i]);
    uc_reg_read(uc_, UC_ARM64_REG_SP, &out.state.sp);
    uc_reg_read(uc_, UC_ARM64_REG_PC, &out.state.pc);
    uint64_t flags = 0;
    uc_reg_read(uc_, UC_ARM64_REG_NZCV, &flags);
    out.state.nzcv = uint32_t(flags >> 28) & 0xf;
    if (err != UC_ERR_OK && err != UC_ERR_FETCH_UNMAPPED && err != UC_ERR_FETCH_PROT &&
        err != UC_ERR_FETCH_UNALIGNED) {
        out.kind = Outcome::Kind::kFault;
        out.fault = std::string("unicorn: ") + uc_strerror(err);
    }
    return out;
}

}  // namespace corvid::a64diff
