// Unicorn side: one engine for the whole run, memory mapped onto host buffers so that the data
// window can be compared and re-synchronised without copies through the API.
#include "tests/x86_diff/unicorn_runner.h"

#include <string>

namespace corvid::x86diff {
namespace {

constexpr int kRegIds[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                             UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                             UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                             UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};

}  // namespace

UnicornRunner::UnicornRunner(uint8_t* code) : data_(kDataSize, 0) {
    uc_engine* uc = nullptr;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) {
        error_ = "uc_open(UC_ARCH_X86, UC_MODE_64) failed";
        return;
    }
    // Haswell: LZCNT/TZCNT (ABM, BMI1) and POPCNT exist, as Corvid implements them; with the
    // default qemu64 model Unicorn would decode F3 0F BC/BD as BSF/BSR.
    if (uc_ctl_set_cpu_model(uc, UC_CPU_X86_HASWELL) != UC_ERR_OK) {
        error_ = "uc_ctl_set_cpu_model(HASWELL) failed";
        uc_close(uc);
        return;
    }
    if (uc_mem_map_ptr(uc, kCodeBase, kCodeSize, UC_PROT_READ | UC_PROT_EXEC, code) != UC_ERR_OK ||
        uc_mem_map_ptr(uc, kDataBase, kDataSize, UC_PROT_READ | UC_PROT_WRITE, data_.data()) != UC_ERR_OK) {
        error_ = "uc_mem_map_ptr failed";
        uc_close(uc);
        return;
    }
    uc_ = uc;
}

UnicornRunner::~UnicornRunner() {
    if (uc_) uc_close(uc_);
}

void UnicornRunner::code_changed(uint64_t addr, uint64_t size) {
    uc_ctl_remove_cache(uc_, addr, addr + size);
}

Outcome UnicornRunner::run(const ArchState& init, unsigned max_insns) {
    Outcome out;
    for (size_t i = 0; i < 16; ++i) uc_reg_write(uc_, kRegIds[i], &init.regs[i]);
    uc_reg_write(uc_, UC_X86_REG_RFLAGS, &init.rflags);
    const uint64_t zero = 0;
    uc_reg_write(uc_, UC_X86_REG_FS_BASE, &zero);
    uc_reg_write(uc_, UC_X86_REG_GS_BASE, &zero);
    const uc_err err = uc_emu_start(uc_, init.rip, 0, 0, max_insns);
    for (size_t i = 0; i < 16; ++i) uc_reg_read(uc_, kRegIds[i], &out.state.regs[i]);
    uc_reg_read(uc_, UC_X86_REG_RIP, &out.state.rip);
    uc_reg_read(uc_, UC_X86_REG_RFLAGS, &out.state.rflags);
    if (err != UC_ERR_OK) {
        out.kind = Outcome::Kind::kFault;
        out.undefined_opcode = err == UC_ERR_INSN_INVALID;
        out.fault = std::string("unicorn: ") + uc_strerror(err);
    }
    return out;
}

}  // namespace corvid::x86diff
