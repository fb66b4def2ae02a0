// The x86 decoder (see x86_decoder.h): prefixes, REX, opcode map escapes, ModRM/SIB (16-,
// 32- and 64-bit addressing, RIP-relative), displacement and immediates.
#include "frontends/x86/x86_decoder.h"

namespace corvid::x86 {

namespace {

constexpr unsigned kMaxInsnLen = 15;

class Reader {
public:
    Reader(const ByteSource& next) : next_(next) {}
    bool byte(uint8_t* b) {
        if (count_ >= kMaxInsnLen) {
            too_long_ = true;
            return false;
        }
        if (!next_(b)) {
            fault_ = true;
            return false;
        }
        ++count_;
        return true;
    }
    bool le(unsigned bytes, uint64_t* v) {
        uint64_t r = 0;
        for (unsigned i = 0; i < bytes; ++i) {
            uint8_t b;
            if (!byte(&b)) return false;
            r |= uint64_t(b) << (8 * i);
        }
        *v = r;
        return true;
    }
    // Signed little-endian value sign-extended to 64 bits.
    bool sle(unsigned bytes, int64_t* v) {
        uint64_t u;
        if (!le(bytes, &u)) return false;
        const unsigned s = 64 - 8 * bytes;
        *v = int64_t(u << s) >> s;
        return true;
    }
    unsigned count() const { return count_; }
    DecodeStatus failure() const { return too_long_ ? DecodeStatus::kTooLong : DecodeStatus::kFetchFault; }

private:
    const ByteSource& next_;
    unsigned count_ = 0;
    bool fault_ = false, too_long_ = false;
};

bool decode_modrm(X86Insn& in, Reader& r) {
    uint8_t m;
    if (!r.byte(&m)) return false;
    in.has_modrm = true;
    in.modrm = m;
    in.mod = m >> 6;
    in.reg = uint8_t(((m >> 3) & 7) | (in.rex_r << 3));
    const unsigned rm = m & 7;
    if (in.mod == 3 || (in.entry->flags & kModrmReg)) {
        in.rm = uint8_t(rm | (in.rex_b << 3));
        return true;
    }
    in.is_mem = true;
    if (in.addrsize == 2) {
        static constexpr int kBase[8] = {3, 3, 5, 5, 6, 7, 5, 3};  // bx bx bp bp si di bp bx
        static constexpr int kIndex[8] = {6, 7, 6, 7, -1, -1, -1, -1};
        in.base = kBase[rm];
        in.index = kIndex[rm];
        in.bp_base = rm == 2 || rm == 3 || rm == 6;
        int64_t d = 0;
        if (in.mod == 0 && rm == 6) {
            in.base = -1;
            in.bp_base = false;
            if (!r.sle(2, &d)) return false;
        } else if (in.mod == 1) {
            if (!r.sle(1, &d)) return false;
        } else if (in.mod == 2) {
            if (!r.sle(2, &d)) return false;
        }
        in.disp = d;
        return true;
    }
    int64_t d = 0;
    if (rm == 4) {
        uint8_t sib;
        if (!r.byte(&sib)) return false;
        in.scale = sib >> 6;
        const unsigned idx = ((sib >> 3) & 7) | (in.rex_x << 3);
        in.index = idx == 4 ? -1 : int(idx);
        const unsigned base = sib & 7;
        if (base == 5 && in.mod == 0) {
            in.base = -1;
            if (!r.sle(4, &d)) return false;
        } else {
            in.base = int(base | (in.rex_b << 3));
        }
    } else if (rm == 5 && in.mod == 0) {
        if (!r.sle(4, &d)) return false;
        if (in.mode64) {
            in.rip_rel = true;
        }
        in.base = -1;
    } else {
        in.base = int(rm | (in.rex_b << 3));
    }
    if (in.mod == 1) {
        if (!r.sle(1, &d)) return false;
    } else if (in.mod == 2) {
        if (!r.sle(4, &d)) return false;
    }
    in.disp = d;
    in.bp_base = in.base == 4 || in.base == 5;
    return true;
}

}  // namespace

DecodeStatus decode(X86Insn& in, uint64_t pc, unsigned code_size, const ByteSource& next, unsigned* fault_offset) {
    in = X86Insn{};
    in.pc = pc;
    in.mode64 = code_size == 8;
    Reader r(next);
    auto fail = [&]() {
        *fault_offset = r.count();
        return r.failure();
    };

    uint8_t b;
    auto clear_rex = [&]() {
        in.rex = in.rex_w = false;
        in.rex_r = in.rex_x = in.rex_b = 0;
    };
    for (;;) {
        if (!r.byte(&b)) return fail();
        bool legacy = true;
        switch (b) {
            case 0xf0: in.lock = true; break;
            case 0xf2: in.repne = true, in.rep = false; break;
            case 0xf3: in.rep = true, in.repne = false; break;
            case 0x66: in.opsize_prefix = true; break;
            case 0x67: in.addrsize_prefix = true; break;
            case 0x26: in.seg = 0; break;
            case 0x2e: in.seg = 1; break;
            case 0x36: in.seg = 2; break;
            case 0x3e: in.seg = 3; break;
            case 0x64: in.seg = 4; break;
            case 0x65: in.seg = 5; break;
            default: legacy = false; break;
        }
        if (legacy) {
            clear_rex();  // REX only counts immediately before the opcode
            continue;
        }
        if (in.mode64 && (b & 0xf0) == 0x40) {
            in.rex = true;
            in.rex_w = (b >> 3) & 1;
            in.rex_r = (b >> 2) & 1;
            in.rex_x = (b >> 1) & 1;
            in.rex_b = b & 1;
            continue;
        }
        break;
    }

    in.map = kMapPrimary;
    if (b == 0x0f) {
        if (!r.byte(&b)) return fail();
        in.map = kMap0F;
        if (b == 0x38 || b == 0x3a) {
            in.map = b == 0x38 ? kMap0F38 : kMap0F3A;
            if (!r.byte(&b)) return fail();
        }
    }
    in.op = b;
    const OpEntry& e = op_entry(in.map, b);
    in.entry = &e;
    if (!e.name) {
        in.len = uint8_t(r.count());
        return DecodeStatus::kInvalid;
    }
    if (in.mode64 && (e.flags & kInv64)) {
        in.len = uint8_t(r.count());
        return DecodeStatus::kInvalid;
    }

    // Sizes.
    if (in.mode64) {
        in.addrsize = in.addrsize_prefix ? 4 : 8;
        if (e.flags & kForce64) {
            in.opsize = 8;
        } else if (in.rex_w) {
            in.opsize = 8;
        } else if (in.opsize_prefix) {
            in.opsize = 2;
        } else {
            in.opsize = (e.flags & kDef64) ? 8 : 4;
        }
    } else {
        const bool def32 = code_size == 4;
        in.addrsize = (def32 != in.addrsize_prefix) ? 4 : 2;
        in.opsize = (def32 != in.opsize_prefix) ? 4 : 2;
    }
    if (e.flags & kByteOp) in.opsize = 1;

    if (e.flags & kModrm) {
        if (!decode_modrm(in, r)) return fail();
    }

    const unsigned zsize = in.opsize == 2 ? 2 : 4;
    int64_t s = 0;
    uint64_t u = 0;
    switch (e.imm) {
        case Imm::kNone: break;
        case Imm::kB:
            if (!r.sle(1, &s)) return fail();
            in.imm = uint64_t(s);
            break;
        case Imm::kW:
            if (!r.le(2, &u)) return fail();
            in.imm = u;
            break;
        case Imm::kZ:
            if (!r.sle(zsize, &s)) return fail();
            in.imm = uint64_t(s);
            break;
        case Imm::kV:
            if (!r.le(in.opsize, &u)) return fail();
            in.imm = u;
            break;
        case Imm::kWB:
            if (!r.le(2, &u)) return fail();
            in.imm = u;
            if (!r.le(1, &u)) return fail();
            in.imm2 = u;
            break;
        case Imm::kFar:
            if (!r.le(zsize, &u)) return fail();
            in.imm = u;
            if (!r.le(2, &u)) return fail();
            in.imm2 = u;
            break;
        case Imm::kMoffs:
            if (!r.le(in.addrsize, &u)) return fail();
            in.imm = u;
            break;
        case Imm::kGrp3:
            if ((in.reg & 7) < 2) {
                if (!r.sle(in.opsize == 1 ? 1 : zsize, &s)) return fail();
                in.imm = uint64_t(s);
            }
            break;
    }
    in.len = uint8_t(r.count());
    return DecodeStatus::kOk;
}

}  // namespace corvid::x86
