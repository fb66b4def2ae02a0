// Hooks through which the board handles what leaves the x86 CPU: port I/O and triple faults.
#pragma once

#include <cstdint>

namespace corvid {

class X86Platform {
public:
    virtual ~X86Platform() = default;

    // in/out of 1, 2 or 4 bytes. A write may set the CPU's exit_request (e.g. isa-debug-exit,
    // reset): the frontend ends the block after every `out`, so the run loop sees it at once.
    virtual uint64_t io_read(uint16_t port, unsigned size) = 0;
    virtual void io_write(uint16_t port, uint64_t value, unsigned size) = 0;

    // A fault while delivering a double fault (shutdown). The frontend then sets the CPU's
    // exit_request and leaves its state at the faulting instruction: the board resets it (as
    // QEMU's pc machines do) or stops the machine.
    virtual void triple_fault() = 0;

    // Optional: whether the interrupt controller asserts INTR. The frontend ORs it with the
    // level given to X86Frontend::set_irq_line, so that sti/popf/iret that unmask a pending
    // interrupt make the run loop return at once even if the board never calls set_irq_line.
    virtual bool intr_pending() const { return false; }
};

}  // namespace corvid
