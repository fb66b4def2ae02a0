// Small PC ports.
#include "hw/misc/pc_misc.h"

#include "base/log.h"
#include "base/run_control.h"

namespace corvid {

uint64_t Port92::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset != 0) {
        log::logf(log::kGuestErrors, "port 0x92: bad read of size {}", size);
        return 0xff;
    }
    return value_;
}

void Port92::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset != 0) {
        log::logf(log::kGuestErrors, "port 0x92: bad write of size {}", size);
        return;
    }
    const uint8_t v = static_cast<uint8_t>(value);
    if (!(v & 0x02)) log::logf(log::kUnimp, "port 0x92: disabling A20 is not supported (A20 stays enabled)");
    // Bit 0 is a pulse: a 0 -> 1 transition resets, the bit itself does not stick.
    const bool pulse = (v & 1) && !(value_ & 1);
    value_ = v & ~1u;
    if (pulse) rc_.request_reset();
}

uint64_t KbdController::read(uint64_t offset, unsigned size) {
    if (size != 1 || (offset != 0 && offset != 4)) {
        log::logf(log::kGuestErrors, "i8042: bad read of size {} at port 0x{:x}", size, 0x60 + offset);
        return 0xff;
    }
    if (offset == 0) return 0;  // no keyboard data
    return 0x1c;  // status: keyboard unlocked, last write was a command, system flag set
}

void KbdController::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || (offset != 0 && offset != 4)) {
        log::logf(log::kGuestErrors, "i8042: bad write of size {} at port 0x{:x}", size, 0x60 + offset);
        return;
    }
    const uint8_t v = static_cast<uint8_t>(value);
    if (offset == 4 && v == 0xfe) {
        rc_.request_reset();
        return;
    }
    log::logf(log::kUnimp, "i8042: {} 0x{:x} ignored (only the reset pulse 0xfe is modelled)",
              offset == 4 ? "command" : "data", v);
}

uint64_t IsaDebugExit::read(uint64_t, unsigned) { return 0; }

void IsaDebugExit::write(uint64_t offset, uint64_t value, unsigned size) {
    log::logf(log::kInt, "isa-debug-exit: write 0x{:x} (size {}, offset {}) -> exit status {}", value, size, offset,
              exit_status(value));
    rc_.request_shutdown(exit_status(value));
}

}  // namespace corvid
