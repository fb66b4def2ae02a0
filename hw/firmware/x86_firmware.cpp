// Built-in x86 firmware. The machine code is written out by hand (no assembler at build
// time); offsets in the comments are relative to the load address.
#include "hw/firmware/x86_firmware.h"

#include <cstring>

namespace corvid {

namespace {

// Entry state (PVH-like): 32-bit protected mode, flat segments, paging off.
constexpr uint8_t kCode[] = {
    0xfa,                          // 00: cli
    0xfc,                          // 01: cld
    0xbe, 0x00, 0x00, 0x00, 0x00,  // 02: mov esi, banner        (imm32 patched at 03)
    0x66, 0xba, 0xfd, 0x03,        // 07: mov dx, 0x3fd          (COM1 LSR)
    // next:
    0xac,                          // 0b: lodsb
    0x84, 0xc0,                    // 0c: test al, al
    0x74, 0x10,                    // 0e: jz halt (0x20)
    0x88, 0xc4,                    // 10: mov ah, al
    // wait: spin until the transmit holding register is empty
    0xec,                          // 12: in al, dx
    0xa8, 0x20,                    // 13: test al, 0x20          (LSR.THRE)
    0x74, 0xfb,                    // 15: jz wait (0x12)
    0x88, 0xe0,                    // 17: mov al, ah
    0xb2, 0xf8,                    // 19: mov dl, 0xf8           (COM1 THR)
    0xee,                          // 1b: out dx, al
    0xb2, 0xfd,                    // 1c: mov dl, 0xfd
    0xeb, 0xeb,                    // 1e: jmp next (0x0b)
    // halt: an NMI or SMI could wake hlt; go straight back to sleep
    0xfa,                          // 20: cli
    0xf4,                          // 21: hlt
    0xeb, 0xfc,                    // 22: jmp halt (0x20)
};
constexpr unsigned kBannerImmOffset = 3;

}  // namespace

std::vector<uint8_t> x86_firmware_image(uint32_t base) {
    // Code, then the NUL-terminated banner right after it.
    std::vector<uint8_t> img(sizeof kCode + kX86FirmwareBanner.size() + 1, 0);
    std::memcpy(img.data(), kCode, sizeof kCode);
    std::memcpy(img.data() + sizeof kCode, kX86FirmwareBanner.data(), kX86FirmwareBanner.size());
    const uint32_t banner = base + static_cast<uint32_t>(sizeof kCode);
    for (unsigned i = 0; i < 4; i++) img[kBannerImmOffset + i] = static_cast<uint8_t>(banner >> (8 * i));
    return img;
}

Result<uint32_t> install_x86_firmware(AddressSpace& as, uint32_t base) {
    const std::vector<uint8_t> img = x86_firmware_image(base);
    if (auto st = as.write_bytes(base, img.data(), img.size()); !st) return make_error(st.error());
    return base;
}

}  // namespace corvid
