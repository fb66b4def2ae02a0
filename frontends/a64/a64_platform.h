// Hooks through which the board handles the A64 instructions that leave the CPU: HVC (PSCI)
// and semihosting HLT, and through which it drives the CPU's IRQ input.
#pragma once

#include <cstdint>

#include "frontends/a64/a64_cpu.h"

namespace corvid {

class A64Platform {
public:
    enum class HvcResult {
        kHandled,     // the board did the call (e.g. PSCI, results in x0); continue after HVC
        kNotHandled,  // nothing implements it: HVC is UNDEFINED (no EL2), as QEMU does
    };

    virtual ~A64Platform() = default;

    // `hvc #imm` at EL1. May set cpu.common.exit_request (and a board flag) to stop or reset.
    virtual HvcResult hvc(A64State& cpu, uint16_t imm) = 0;

    // `hlt #0xf000` at EL1. Returns false when semihosting is disabled: HLT is then UNDEFINED.
    // On true execution continues after the HLT (the board may set exit_request).
    virtual bool semihosting(A64State& cpu) = 0;

    // The board's interrupt controller output to this CPU's IRQ input (level); the frontend ORs
    // it with the level given to A64Frontend::set_irq_line. Called in the vCPU thread only, with
    // the CPU's state, so that the board can evaluate the generic timer's conditions first.
    virtual bool irq_asserted(A64State& cpu) {
        (void)cpu;
        return false;
    }
};

}  // namespace corvid
