// The interrupt side of the AArch64 generic timer (EL1 physical and virtual timers): compares
// CNTx_CVAL_EL0 with the counter, keeps CNTx_CTL_EL0.ISTATUS current and reports the PPI levels.
#pragma once

#include <cstdint>

#include "frontends/a64/a64_cpu.h"

namespace corvid {

struct GenericTimerLevels {
    bool phys = false;  // CNTP: the PPI at INTID 30 (QEMU virt: ARCH_TIMER_NS_EL1_IRQ)
    bool virt = false;  // CNTV: the PPI at INTID 27 (ARCH_TIMER_VIRT_IRQ)
    // Counter ticks until the earliest deadline of an enabled, unmasked timer whose condition
    // is not met yet; -1 if there is none (nothing will change by itself).
    int64_t next_ticks = -1;
};

constexpr unsigned kTimerPhysIntid = 30;
constexpr unsigned kTimerVirtIntid = 27;

// CNTx_CTL_EL0 bits.
constexpr uint64_t kTimerCtlEnable = 1u << 0;
constexpr uint64_t kTimerCtlImask = 1u << 1;
constexpr uint64_t kTimerCtlIstatus = 1u << 2;

// Evaluates both timers at counter value `now` (CNTVOFF is 0, so both compare with the same
// count). Updates ISTATUS in the CPU state: the guest's CTL writes are plain stores.
GenericTimerLevels evaluate_generic_timer(A64State& cpu, uint64_t now);

}  // namespace corvid
