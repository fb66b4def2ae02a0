// Test helper: programs both 8259s as a PC BIOS does (ICW1-4: vectors 0x20/0x28, cascade on
// IRQ 2, 8086 mode) through any `out(port, byte)`; the masks are the caller's.
#pragma once

#include <cstdint>

namespace corvid::testing {

template <typename Out>
void init_pics(Out&& out) {
    static constexpr uint8_t kMaster[] = {0x11, 0x20, 0x04, 0x01};
    static constexpr uint8_t kSlave[] = {0x11, 0x28, 0x02, 0x01};
    for (int i = 0; i < 4; i++) {
        out(uint16_t(i ? 0x21 : 0x20), kMaster[i]);
        out(uint16_t(i ? 0xa1 : 0xa0), kSlave[i]);
    }
}

}  // namespace corvid::testing
