// Microwire read protocol (82540EM manual section 5.3, 93C46 data sheet): with CS high the
// part clocks in a start bit, a 2-bit opcode and a 6-bit address on SK rising edges; for READ
// it then drives a dummy zero and the addressed word MSB first, one bit per rising edge,
// continuing into the next words until CS drops.
#include "hw/net/e1000_eeprom.h"

namespace corvid {

namespace {
constexpr unsigned kCommandBits = 9;  // start + opcode + 6 address bits
constexpr uint32_t kOpRead = 2;
constexpr uint32_t kPins = MicrowireEeprom::kSk | MicrowireEeprom::kCs | MicrowireEeprom::kDi;
}  // namespace

void MicrowireEeprom::reset() {
    latched_ = 0;
    shift_in_ = 0;
    bits_in_ = 0;
    reading_ = false;
    out_pos_ = 0;
}

void MicrowireEeprom::write(uint32_t eecd) {
    // Without the grant the part sees its pins idle (CS low), whatever software writes.
    const uint32_t old_pins = (latched_ & kReq) ? latched_ & kPins : 0;
    latched_ = eecd & (kSk | kCs | kDi | kFwe | kReq);
    const uint32_t pins = (latched_ & kReq) ? latched_ & kPins : 0;
    if (!(pins & kCs) || !(old_pins & kCs)) {
        // Deselected, or selected just now: a new command starts.
        shift_in_ = 0;
        bits_in_ = 0;
        reading_ = false;
        if (!(pins & kCs)) return;
    }
    if (!(pins & kSk) || (old_pins & kSk)) return;  // only rising edges clock the part
    if (reading_) {
        out_pos_ = (out_pos_ + 1) % static_cast<int>(kWords * 16);  // sequential read wraps
        return;
    }
    if (bits_in_ >= kCommandBits) return;  // a command other than READ: not modelled, ignored
    const uint32_t di = (pins & kDi) ? 1 : 0;
    if (bits_in_ == 0 && !di) return;  // zeros before the start bit are ignored
    shift_in_ = shift_in_ << 1 | di;
    if (++bits_in_ == kCommandBits && ((shift_in_ >> 6) & 3) == kOpRead) {
        reading_ = true;
        out_pos_ = static_cast<int>((shift_in_ & (kWords - 1)) * 16) - 1;  // the dummy zero first
    }
}

bool MicrowireEeprom::data_out() const {
    // Outside a read the part signals ready (DO high), as after a completed command.
    if (!reading_) return true;
    if (out_pos_ < 0) return false;
    const unsigned word = static_cast<unsigned>(out_pos_) / 16, bit = 15 - static_cast<unsigned>(out_pos_) % 16;
    return (words_[word % kWords] >> bit) & 1;
}

uint32_t MicrowireEeprom::read() const {
    uint32_t v = latched_ | kPres;
    if (latched_ & kReq) v |= kGnt;
    if (data_out()) v |= kDo;
    return v;
}

}  // namespace corvid
