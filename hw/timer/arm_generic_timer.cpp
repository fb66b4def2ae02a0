// Generic timer conditions (Arm ARM D11.2.4): ISTATUS = ENABLE && CVAL <= count; the interrupt
// is asserted while ISTATUS is set and IMASK is clear.
#include "hw/timer/arm_generic_timer.h"

namespace corvid {

namespace {

bool evaluate_one(uint64_t& ctl, uint64_t cval, uint64_t now, int64_t* next) {
    const bool enabled = (ctl & kTimerCtlEnable) != 0;
    const bool met = enabled && now >= cval;
    ctl = met ? (ctl | kTimerCtlIstatus) : (ctl & ~kTimerCtlIstatus);
    if (enabled && !met && !(ctl & kTimerCtlImask)) {
        const uint64_t wait = cval - now;
        // A deadline hours away is no deadline to sleep for (and would overflow in ns).
        const int64_t ticks = wait > (1ull << 40) ? -1 : int64_t(wait);
        if (ticks >= 0 && (*next < 0 || ticks < *next)) *next = ticks;
    }
    return met && !(ctl & kTimerCtlImask);
}

}  // namespace

GenericTimerLevels evaluate_generic_timer(A64State& cpu, uint64_t now) {
    GenericTimerLevels out;
    out.phys = evaluate_one(cpu.cntp_ctl_el0, cpu.cntp_cval_el0, now, &out.next_ticks);
    out.virt = evaluate_one(cpu.cntv_ctl_el0, cpu.cntv_cval_el0, now, &out.next_ticks);
    return out;
}

}  // namespace corvid
