// The 82540EM's serial EEPROM as software sees it through EECD: a 93C46-style Microwire part
// (64 words) driven by bit-banging SK/CS/DI and sampling DO, behind the EE_REQ/EE_GNT handshake.
#pragma once

#include <array>
#include <cstdint>

namespace corvid {

class MicrowireEeprom {
public:
    static constexpr unsigned kWords = 64;
    enum : uint32_t {
        kSk = 1u << 0, kCs = 1u << 1, kDi = 1u << 2, kDo = 1u << 3, kFwe = 3u << 4,
        kReq = 1u << 6, kGnt = 1u << 7, kPres = 1u << 8,
    };

    explicit MicrowireEeprom(const std::array<uint16_t, kWords>& words) : words_(words) {}

    // Power-on: deselected, no request pending.
    void reset();
    // A guest write of EECD. The pins reach the part only while access is granted
    // (EE_REQ set): the hardware's own EEPROM reads own the pins otherwise.
    void write(uint32_t eecd);
    // EECD as the guest reads it: the bits it drives, EE_GNT, EE_PRES and DO.
    uint32_t read() const;

private:
    bool data_out() const;

    std::array<uint16_t, kWords> words_;
    uint32_t latched_ = 0;   // SK, CS, DI, FWE, REQ as last written
    uint32_t shift_in_ = 0;  // start bit, opcode and address, MSB first
    unsigned bits_in_ = 0;   // bits shifted in since the start bit
    bool reading_ = false;
    int out_pos_ = 0;  // bit being presented on DO: word * 16 + (15 - bit); -1 = the dummy zero
};

}  // namespace corvid
