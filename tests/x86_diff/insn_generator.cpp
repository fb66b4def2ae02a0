// The decode-table driven x86-64 instruction generator (see insn_generator.h).
#include "tests/x86_diff/insn_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "tests/x86_diff/flag_rules.h"

namespace corvid::x86diff {
namespace {

using x86::kMap0F;
using x86::kMap0F38;
using x86::kMap0F3A;
using x86::kMapPrimary;
using x86::OpEntry;
using x86::OpMap;

constexpr unsigned kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7, kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3;

uint64_t random_value(std::mt19937_64& rng) {
    static constexpr uint64_t kSpecial[] = {0,
                                            1,
                                            2,
                                            ~0ull,
                                            0x7fffffffffffffffull,
                                            0x8000000000000000ull,
                                            0x7fffffffull,
                                            0x80000000ull,
                                            0xffffffffull,
                                            0x7f,
                                            0x80,
                                            0xff,
                                            0x7fff,
                                            0x8000,
                                            0xffff,
                                            0x100000000ull};
    switch (rng() % 8) {
        case 0: return kSpecial[rng() % std::size(kSpecial)];
        case 1: return rng() & 0xff;
        case 2: return rng() & 0xffff;
        case 3: return uint64_t(-int64_t(rng() & 0xff));
        default: return rng();
    }
}

bool is_prefix_or_escape(uint8_t b) {
    switch (b) {
        case 0x26:
        case 0x2e:
        case 0x36:
        case 0x3e:
        case 0x64:
        case 0x65:
        case 0x66:
        case 0x67:
        case 0xf0:
        case 0xf2:
        case 0xf3:
        case 0x0f: return true;
        default: return b >= 0x40 && b <= 0x4f;  // REX
    }
}

bool is_group(const OpEntry& e) {
    return e.name && std::string_view(e.name).substr(0, 3) == "grp";
}

// Rows whose ModRM.reg selects the operation (so the policy and the flag rules need it).
bool reg_selects(OpMap map, uint8_t op, const OpEntry& e) {
    return is_group(e) || (map == kMapPrimary && (op == 0xc6 || op == 0xc7 || op == 0x8f));
}

bool is_string_op(OpMap map, uint8_t op) {
    return map == kMapPrimary && op >= 0xa4 && op <= 0xaf && op != 0xa8 && op != 0xa9;
}

bool is_rel_branch(OpMap map, uint8_t op) {
    if (map == kMap0F) return op >= 0x80 && op <= 0x8f;
    return (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op == 0xe8 || op == 0xe9 || op == 0xeb;
}

// Instructions that change RIP other than by falling through (not flag producers in pairs).
bool changes_control(OpMap map, uint8_t op, int reg) {
    if (is_rel_branch(map, op)) return true;
    if (map == kMapPrimary && (op == 0xc2 || op == 0xc3)) return true;
    return map == kMapPrimary && op == 0xff && reg >= 2 && reg <= 5;
}

// One instruction being built.
struct Insn {
    OpMap map = kMapPrimary;
    uint8_t op = 0;
    const OpEntry* e = nullptr;
    int reg = -1;  // ModRM.reg (0-7) where it selects the operation
    bool p66 = false, p67 = false, f2 = false, f3 = false, lock = false;
    int seg = -1;  // segment prefix byte or -1
    uint8_t rex = 0;
    bool has_modrm = false, has_sib = false, mem = false, riprel = false;
    uint8_t modrm = 0, sib = 0;
    int base = -1, index = -1;
    unsigned scale = 0, disp_size = 0, imm_size = 0;
    int64_t disp = 0;
    uint64_t imm = 0;
    unsigned opsize = 4;
    size_t disp_off = 0, imm_off = 0;  // byte offsets within the encoding

    bool rex_w() const { return rex & 8; }
    unsigned reg_field() const { return ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0); }
    unsigned rm_reg() const { return (modrm & 7) | ((rex & 1) ? 8 : 0); }

    std::vector<uint8_t> encode() {
        std::vector<uint8_t> b;
        std::vector<uint8_t> pre;
        if (p66) pre.push_back(0x66);
        if (p67) pre.push_back(0x67);
        if (f2) pre.push_back(0xf2);
        if (f3) pre.push_back(0xf3);
        if (lock) pre.push_back(0xf0);
        if (seg >= 0) pre.push_back(uint8_t(seg));
        b = pre;
        if (rex) b.push_back(rex);
        if (map != kMapPrimary) b.push_back(0x0f);
        if (map == kMap0F38) b.push_back(0x38);
        if (map == kMap0F3A) b.push_back(0x3a);
        b.push_back(op);
        if (has_modrm) b.push_back(modrm);
        if (has_sib) b.push_back(sib);
        disp_off = b.size();
        for (unsigned i = 0; i < disp_size; ++i) b.push_back(uint8_t(uint64_t(disp) >> (8 * i)));
        imm_off = b.size();
        for (unsigned i = 0; i < imm_size; ++i) b.push_back(uint8_t(imm >> (8 * i)));
        return b;
    }
};

// The generation context of one case: the rng, the initial state being steered, and pokes.
struct Ctx {
    std::mt19937_64& rng;
    TestCase& tc;
    bool chance(unsigned percent) { return rng() % 100 < percent; }
    // A data window address with room around it for the widest access and bit offsets.
    uint64_t data_target(unsigned align) {
        uint64_t a = kDataBase + 0x200 + rng() % (kDataSize - 0x400);
        if (align > 1 && chance(60)) a &= ~uint64_t(align - 1);
        return a;
    }
    // A HLT in the code area away from the test code, for computed branch targets.
    uint64_t code_target() {
        for (;;) {
            const uint64_t t = kCodeBase + 16 + rng() % (kCodeSize - 32);
            if (t + 64 < kSlot || t > kSlot + 64) return t;
        }
    }
    void poke(uint64_t addr, uint64_t value) { tc.pokes.push_back({addr, value}); }
};

uint64_t size_mask(unsigned opsize) {
    return opsize == 8 ? ~0ull : (1ull << (8 * opsize)) - 1;
}

// Prefixes and operand size for `in` (row and reg already chosen).
void choose_prefixes(Insn& in, Ctx& c) {
    const uint8_t f = in.e ? in.e->flags : 0;
    const bool no66 = (f & x86::kForce64) || (in.map == kMapPrimary && in.op == 0xff && (in.reg == 2 || in.reg == 4));
    in.p66 = !no66 && c.chance(20);
    if (c.chance(60)) {
        in.rex = uint8_t(0x40 | (c.rng() & 7) | (c.chance(50) ? 8 : 0));
    }
    // LAHF/SAHF: Unicorn 2.0.1 (QEMU 5) moves to/from SPL instead of AH when a REX prefix is
    // present; the SDM (and Corvid) always use AH. Not generated with REX.
    if (in.map == kMapPrimary && (in.op == 0x9e || in.op == 0x9f)) in.rex = 0;
    // MOV r/m, imm (C6/C7 /0): Unicorn 2.0.1 raises #UD when REX.R is set (it folds REX.R into
    // the opcode extension); the SDM ignores REX.R there, as Corvid and the host CPU do.
    if (in.map == kMapPrimary && (in.op == 0xc6 || in.op == 0xc7)) in.rex &= uint8_t(~4);
    in.p67 = c.chance(5);
    in.lock = c.chance(3);
    if (c.chance(4)) {
        static constexpr uint8_t kSegs[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
        in.seg = kSegs[c.rng() % std::size(kSegs)];
    }
    if (in.map == kMap0F && in.op == 0xb8) in.f3 = true;  // popcnt needs F3
    if (in.map == kMap0F && (in.op == 0xbc || in.op == 0xbd)) in.f3 = c.chance(50);
    if (is_string_op(in.map, in.op) && c.chance(50)) {
        const bool cmp_like = in.op == 0xa6 || in.op == 0xa7 || in.op == 0xae || in.op == 0xaf;
        (cmp_like && c.chance(50) ? in.f2 : in.f3) = true;
    }
    if (f & x86::kByteOp) {
        in.opsize = 1;
    } else if (f & x86::kForce64) {
        in.opsize = 8;
    } else if (in.rex_w()) {
        in.opsize = 8;
    } else if (in.p66) {
        in.opsize = 2;
    } else {
        in.opsize = (f & x86::kDef64) ? 8 : 4;
    }
}

// A random ModRM (with SIB and displacement) with ModRM.reg = `reg` when given.
void choose_modrm(Insn& in, Ctx& c, bool prefer_mem) {
    in.has_modrm = true;
    in.mem = in.has_sib = in.riprel = false;
    in.base = in.index = -1;
    in.scale = in.disp_size = 0;
    in.disp = 0;
    unsigned mod = c.chance(prefer_mem ? 10 : 50) ? 3 : unsigned(c.rng() % 3);
    unsigned reg = in.reg >= 0 ? unsigned(in.reg) : unsigned(c.rng() % 8);
    unsigned rm = unsigned(c.rng() % 8);
    in.modrm = uint8_t(mod << 6 | reg << 3 | rm);
    if (mod == 3) return;
    in.mem = true;
    const unsigned rex_b = (in.rex & 1) ? 8 : 0, rex_x = (in.rex & 2) ? 8 : 0;
    if (rm == 4) {
        in.has_sib = true;
        in.sib = uint8_t(c.rng());
        const unsigned sbase = in.sib & 7, sindex = (in.sib >> 3) & 7;
        in.scale = in.sib >> 6;
        in.index = (sindex | rex_x) == 4 ? -1 : int(sindex | rex_x);
        if (sbase == 5 && mod == 0) {
            in.base = -1;
            in.disp_size = 4;
        } else {
            in.base = int(sbase | rex_b);
        }
    } else if (rm == 5 && mod == 0) {
        in.riprel = true;
        in.disp_size = 4;
    } else {
        in.base = int(rm | rex_b);
    }
    if (mod == 1) in.disp_size = 1;
    if (mod == 2) in.disp_size = 4;
    in.disp = in.disp_size == 0 ? 0 : in.disp_size == 1 ? int64_t(int8_t(c.rng())) : int64_t(int32_t(c.rng()));
    if (in.disp_size == 4 && c.chance(70)) in.disp = int64_t(int32_t(c.rng() % 0x2000)) - 0x1000;
}

unsigned imm_size_for(const Insn& in) {
    const unsigned z = in.opsize == 2 ? 2 : 4;
    switch (in.e ? in.e->imm : x86::Imm::kNone) {
        case x86::Imm::kNone: return 0;
        case x86::Imm::kB: return 1;
        case x86::Imm::kW: return 2;
        case x86::Imm::kZ: return (in.e->flags & x86::kForce64) ? 4 : z;
        case x86::Imm::kV: return in.opsize == 8 ? 8 : z;
        case x86::Imm::kWB: return 3;
        case x86::Imm::kFar: return 6;
        case x86::Imm::kMoffs: return in.p67 ? 4 : 8;
        case x86::Imm::kGrp3: return ((in.modrm >> 3) & 7) < 2 ? (in.opsize == 1 ? 1 : z) : 0;
    }
    return 0;
}

uint64_t trunc_addr(const Insn& in, uint64_t a) {
    return in.p67 ? (a & 0xffffffffull) : a;
}

// Points the memory operand at `target` by choosing base/index register values (or the
// displacement where there is no base). RIP-relative operands are fixed up after encoding.
void steer_memory(Insn& in, Ctx& c, uint64_t target) {
    uint64_t* r = c.tc.init.regs;
    const uint64_t hi = in.p67 ? (c.rng() << 32) : 0;
    if (in.riprel) return;
    if (in.base < 0) {
        if (in.index >= 0) {
            const uint64_t v = c.rng() % 0x1000;
            r[in.index] = v | hi;
            in.disp = int64_t(target) - int64_t(v << in.scale);
        } else {
            in.disp = int64_t(target);
        }
        return;
    }
    if (in.index == in.base) {
        const int64_t k = 1 + (int64_t(1) << in.scale);
        r[in.base] = (uint64_t((int64_t(target) - in.disp) / k) & 0xffffffffull) | hi;
        if (!in.p67) r[in.base] = uint64_t((int64_t(target) - in.disp) / k);
        return;
    }
    const uint64_t idx = in.index >= 0 ? r[in.index] : 0;
    r[in.base] = target - uint64_t(in.disp) - (idx << in.scale);
    if (in.p67) r[in.base] = (r[in.base] & 0xffffffffull) | hi;
}

// The effective address of the memory operand from the (steered) initial registers.
uint64_t effective_address(const Insn& in, const uint64_t* regs, uint64_t next_rip) {
    uint64_t a = uint64_t(in.disp);
    if (in.riprel) a += next_rip;
    if (in.base >= 0) a += regs[in.base];
    if (in.index >= 0) a += regs[in.index] << in.scale;
    return trunc_addr(in, a);
}

// What an empty row is, for the "unimplemented" report.
std::string probe_category(OpMap map, uint8_t op) {
    if (map == kMap0F38 || map == kMap0F3A) return op >= 0xf0 ? "movbe/crc32/adx/bmi" : "SSSE3/SSE4/AES";
    if (map == kMapPrimary) {
        if (op >= 0xd8 && op <= 0xdf) return "x87";
        if (op == 0xc4 || op == 0xc5) return "VEX";
        if (op == 0x62) return "EVEX";
        return "removed in 64-bit";
    }
    if ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f) || op == 0xc2 ||
        (op >= 0xc3 && op <= 0xc6) || op >= 0xd0) {
        return "SSE/MMX";
    }
    return "integer/system";
}

struct Emitted {
    std::string name;
    uint64_t count = 0;  // shift count before masking, for the flag rules
};

// Builds, steers and appends one instruction at `at` (absolute address).
Emitted emit(Insn& in, Ctx& c, uint64_t at, bool register_only) {
    TestCase& tc = c.tc;
    uint64_t* r = tc.init.regs;
    const OpMap map = in.map;
    const uint8_t op = in.op;
    choose_prefixes(in, c);
    const bool modrm = in.e ? (in.e->flags & x86::kModrm) != 0 : (map != kMapPrimary || (op >= 0xd8 && op <= 0xdf));
    const bool want_mem = map == kMapPrimary ? op == 0x8d : (map == kMap0F && op == 0xc7);
    // Shifts by CL: a memory operand based on RCX would change the count when steered.
    const bool cl_count =
        (map == kMapPrimary && (op == 0xd2 || op == 0xd3)) || (map == kMap0F && (op == 0xa5 || op == 0xad));
    if (modrm) {
        choose_modrm(in, c, want_mem);
        for (int tries = 0; cl_count && in.mem && (in.base == 1 || in.index == 1) && tries < 16; ++tries) {
            choose_modrm(in, c, want_mem);
        }
        if (cl_count && in.mem && (in.base == 1 || in.index == 1)) {
            in.mem = in.has_sib = in.riprel = false;
            in.base = in.index = -1;
            in.disp_size = 0;
            in.modrm |= 0xc0;
        }
        if (in.riprel && map == kMap0F && (op == 0xa4 || op == 0xac)) {
            // SHLD/SHRD imm8: Unicorn 2.0.1 (QEMU 5) forgets the imm8 in the RIP-relative
            // base (address off by one; the host CPU and Corvid agree with the SDM): [rsi].
            in.riprel = false;
            in.base = 6 | ((in.rex & 1) ? 8 : 0);
            in.disp_size = 0;
            in.disp = 0;
            in.modrm = uint8_t((in.modrm & ~7) | 6);
        }
        if (register_only && in.mem) {
            in.mem = in.has_sib = in.riprel = false;
            in.base = in.index = -1;
            in.disp_size = 0;
            in.modrm |= 0xc0;
        }
    }
    // LOCK only with a memory operand: Unicorn 2.0.1 aborts the process ("tcg fatal error")
    // on e.g. lock btc ebx, ebx instead of raising #UD.
    if (!in.mem || !in.e) in.lock = false;
    in.imm_size = imm_size_for(in);
    in.imm = c.rng();
    // ret imm16: Unicorn 2.0.1 sign-extends imm16 (RSP 0x202b68 + 0x8c05 gives 0x1fb76d;
    // the SDM, the host CPU and Corvid give 0x20b76d): only imm16 < 0x8000.
    if (map == kMapPrimary && op == 0xc2) in.imm &= 0x7fff;
    if (!in.e) in.imm_size = map == kMap0F3A ? 1 : 0;  // probes: 0F3A rows take an imm8
    const unsigned opreg = (op & 7) | ((in.rex & 1) ? 8 : 0);
    const unsigned rg = in.reg_field(), rm = in.rm_reg();
    const int g = in.reg >= 0 ? in.reg : -1;
    uint64_t count = 0;  // shift count (before masking) for the flag rules

    // Row-specific register steering (before the memory operand, which has the last word).
    if (map == kMapPrimary && (op == 0xc0 || op == 0xc1)) {
        if (c.chance(70)) in.imm = c.rng() % (in.opsize * 8 + 3);
        count = in.imm & 0xff;
    } else if (map == kMapPrimary && (op == 0xd0 || op == 0xd1)) {
        count = 1;
    } else if ((map == kMapPrimary && (op == 0xd2 || op == 0xd3)) || (map == kMap0F && (op == 0xa5 || op == 0xad))) {
        if (c.chance(60)) r[kRcx] = (r[kRcx] & ~0xffull) | (c.rng() % (in.opsize * 8 + 3));
        count = r[kRcx] & 0xff;
    } else if (map == kMap0F && (op == 0xa4 || op == 0xac)) {
        if (c.chance(70)) in.imm = c.rng() % (in.opsize * 8 + 1);
        count = in.imm & 0xff;
    }
    if (map == kMap0F && (op == 0xa4 || op == 0xa5 || op == 0xac || op == 0xad) && in.opsize == 2 &&
        (count & 31) > 16) {
        // SHLD/SHRD: a count above the operand size leaves result and flags undefined.
        count &= 15;
        if (op == 0xa4 || op == 0xac) {
            in.imm = count;
        } else {
            r[kRcx] = (r[kRcx] & ~0xffull) | count;
        }
    }
    if (in.mem && map == kMap0F && (op == 0xa3 || op == 0xab || op == 0xb3 || op == 0xbb) && c.chance(90)) {
        r[rg] = uint64_t(int64_t(c.rng() % 768) - 256);  // bit offset reaching a few bytes either side
    }
    if (is_string_op(map, op)) {
        const uint64_t hi = in.p67 ? (c.rng() << 32) : 0;
        r[kRsi] = (kDataBase + 0x2000 + c.rng() % 0xb000) | hi;
        r[kRdi] = (kDataBase + 0x2000 + c.rng() % 0xb000) | hi;
        if (in.f2 || in.f3) r[kRcx] = (c.rng() % 9) | (in.p67 ? (c.rng() << 32) : 0);
    }
    if (map == kMapPrimary && op == 0xd7) r[kRbx] = c.data_target(1) - (r[kRax] & 0xff);  // xlat
    if (map == kMapPrimary && (op == 0xc8 || op == 0xc9)) r[kRbp] = c.data_target(8) + 0x100;
    if (map == kMapPrimary && (op >= 0xa0 && op <= 0xa3)) in.imm = c.data_target(in.opsize);  // moffs

    uint64_t target = 0;
    if (in.mem) {
        const unsigned align = (map == kMap0F && op == 0xc7) ? 16 : std::min(in.opsize, 8u);
        target = c.data_target(align);
        if (c.chance(97)) steer_memory(in, c, target);
    }

    // Encode, then fix up what depends on the final length: RIP-relative displacements and
    // relative branch targets.
    std::vector<uint8_t> bytes = in.encode();
    uint64_t next = at + bytes.size();
    if (in.riprel) {
        in.disp = int64_t(target) - int64_t(next);
        bytes = in.encode();
    }
    if (is_rel_branch(map, op)) {
        int64_t rel = in.imm_size == 1 ? int64_t(int8_t(in.imm)) : int64_t(c.code_target()) - int64_t(next);
        const uint64_t t = next + uint64_t(rel);
        // Never back into the test code or onto the HLT just before it.
        if (t >= kSlot - 1 && t < next + 16) rel = int64_t(16 + c.rng() % 64);
        in.imm = uint64_t(rel);
        bytes = in.encode();
    }
    const uint64_t ea = in.mem ? effective_address(in, r, next) : 0;

    // Memory- and operand-dependent steering through pokes.
    if (map == kMapPrimary && (op == 0xc2 || op == 0xc3)) c.poke(r[kRsp], c.code_target());

    if (map == kMapPrimary && op == 0xff && (g == 2 || g == 4)) {
        if (in.mem) {
            c.poke(ea, c.code_target());
        } else {
            r[rm] = c.code_target();
        }
    }
    if (map == kMapPrimary && (op == 0xf6 || op == 0xf7) && g >= 6) {
        const uint64_t m = size_mask(in.opsize);
        uint64_t d = c.chance(92) ? (random_value(c.rng) & m) : 0;
        if (d == 0 && c.chance(50)) d = 1;
        const bool sign = g == 7;
        // Dividend high part: below the divisor (div) or the sign of the low part (idiv).
        if (in.opsize == 1) {
            const uint64_t al = r[kRax] & 0xff;
            const uint64_t ah = sign ? ((al & 0x80) ? 0xff : 0) : (d ? c.rng() % d : c.rng() & 0xff);
            if (c.chance(95)) r[kRax] = (r[kRax] & ~0xffffull) | (ah << 8) | al;
        } else {
            const uint64_t lo = r[kRax] & m;
            const bool neg = (lo >> (8 * in.opsize - 1)) & 1;
            const uint64_t high = sign ? (neg ? m : 0) : (d ? c.rng() % d : c.rng() & m);
            if (c.chance(95)) r[kRdx] = (r[kRdx] & ~m) | high;
        }
        if (in.mem) {
            c.poke(ea, d | (c.rng() & ~m));
        } else {
            // Byte registers 4-7 without REX are AH CH DH BH.
            if (in.opsize == 1 && !in.rex && rm >= 4) {
                r[rm - 4] = (r[rm - 4] & ~0xff00ull) | (d << 8);
            } else {
                r[rm] = (r[rm] & ~m) | d;
            }
        }
    }
    if (map == kMap0F && (op == 0xbc || op == 0xbd) && !in.f3) {
        // BSF/BSR: the destination is undefined for a zero source.
        const uint64_t m = size_mask(in.opsize);
        const bool zero = c.chance(10);
        const uint64_t v = zero ? 0 : ((random_value(c.rng) & m) ? random_value(c.rng) & m : 1);
        if (in.mem) {
            c.poke(ea, (c.rng() & ~m) | (v == 0 && !zero ? 1 : v));
        } else {
            r[rm] = (r[rm] & ~m) | (v == 0 && !zero ? 1 : v);
        }
        if (zero) tc.undefined_regs |= uint16_t(1u << rg);
    }
    if (map == kMap0F && op == 0xb1 && in.opsize == 4) {
        // CMPXCHG with 32-bit operands: whether the upper halves of the registers that are
        // not written are cleared differs: QEMU zero-extends RAX on success and the
        // register destination on failure, AMD hardware (the host) and Corvid keep them
        // (Intel writes the destination back on failure). The low halves are compared.
        tc.low32_regs |= uint16_t(1u << kRax);
        if (!in.mem) tc.low32_regs |= uint16_t(1u << rm);
    }
    if (map == kMap0F && op == 0xb8 && in.f3) {
        tc.popcnt = true;
        tc.popcnt_dst = rg;
        tc.popcnt_size = in.opsize;
        tc.popcnt_src = in.mem ? -1 : int(rm);
        tc.popcnt_addr = ea;
    }
    if (in.lock && in.e && !row_lockable(map, op, g >= 0 ? g : int(rg & 7))) tc.lock_invalid = true;
    if (map == kMap0F && op >= 0xc8 && op <= 0xcf && in.opsize == 2) {
        tc.undefined_regs |= uint16_t(1u << opreg);  // BSWAP r16: undefined result
    }

    tc.bytes.insert(tc.bytes.end(), bytes.begin(), bytes.end());
    tc.lengths.push_back(uint8_t(bytes.size()));
    std::string name = map == kMapPrimary ? "" : map == kMap0F ? "0f " : map == kMap0F38 ? "0f38 " : "0f3a ";
    name += fmt::format("{:02x}", op);
    if (g >= 0) name += fmt::format("/{}", g);
    name += in.e && in.e->name ? std::string(" ") + in.e->name : " (empty: " + probe_category(map, op) + ")";
    return {name, count};
}

// Picks the ModRM.reg for a row where it selects the operation, avoiding skipped ones.
bool pick_reg(Insn& in, Ctx& c) {
    in.reg = -1;
    if (!in.e || !reg_selects(in.map, in.op, *in.e)) return row_treatment(in.map, in.op, -1) != Treatment::kSkip;
    for (int tries = 0; tries < 16; ++tries) {
        const int reg = int(c.rng() % 8);
        if (row_treatment(in.map, in.op, reg) != Treatment::kSkip) {
            in.reg = reg;
            return true;
        }
    }
    return false;
}

// Condition-code consumers that follow a flag producer in a pair: setcc r8, cmovcc r, r,
// jcc rel8, adc/sbb r, r (which read CF).
void emit_consumer(Ctx& c, uint64_t at, uint64_t producer_defined) {
    TestCase& tc = c.tc;
    for (int tries = 0; tries < 32; ++tries) {
        // A producer with a (partly) undefined register result only gets a jcc (reads no register).
        const unsigned kind = (tc.undefined_regs | tc.low32_regs) ? 2 : unsigned(c.rng() % 4);
        const unsigned cc = unsigned(c.rng() % 16);
        const uint64_t reads = kind == 3 ? kCf : condition_reads(cc);
        if (reads & ~producer_defined) continue;  // would read an undefined flag
        Insn in;
        switch (kind) {
            case 0: in.map = kMap0F, in.op = uint8_t(0x90 + cc); break;
            case 1: in.map = kMap0F, in.op = uint8_t(0x40 + cc); break;
            case 2: in.map = kMapPrimary, in.op = uint8_t(0x70 + cc); break;
            default: in.map = kMapPrimary, in.op = c.chance(50) ? 0x11 : 0x19; break;
        }
        in.e = &x86::op_entry(in.map, in.op);
        const Emitted em = emit(in, c, at, true);
        tc.rows.push_back(em.name);
        tc.flag_mask = kind == 3 ? kAllCompared : producer_defined;
        return;
    }
    // Nothing fits (the producer leaves CF and all conditions undefined): adc/sbb can't either,
    // so end with a flag-neutral mov.
    Insn in;
    in.map = kMapPrimary;
    in.op = 0x89;
    in.e = &x86::op_entry(in.map, in.op);
    tc.rows.push_back(emit(in, c, at, true).name);
    tc.flag_mask = producer_defined;
}

// Between a producer and its consumer: an instruction that writes only some flags and keeps
// the others (inc/dec keep CF, rotates keep SF ZF AF PF, bt keeps ZF, clc/stc/cmc touch CF
// only), which is where lazy flag evaluation has to merge old and new flags. Returns the
// defined flags after it; register forms only.
uint64_t emit_partial_writer(Ctx& c, uint64_t at, uint64_t defined) {
    TestCase& tc = c.tc;
    for (int tries = 0; tries < 32; ++tries) {
        Insn in;
        const unsigned kind = unsigned(c.rng() % 5);
        switch (kind) {
            case 0:  // inc / dec
                in.map = kMapPrimary, in.op = c.chance(50) ? 0xfe : 0xff, in.reg = int(c.rng() % 2);
                break;
            case 1:  // rol ror rcl rcr by imm8 or 1
            case 2: {
                static constexpr uint8_t kOps[] = {0xc0, 0xc1, 0xd0, 0xd1};
                in.map = kMapPrimary, in.op = kOps[c.rng() % 4], in.reg = int(c.rng() % 4);
                if (in.reg >= 2 && !(defined & kCf)) continue;  // rcl/rcr read CF
                break;
            }
            case 3: in.map = kMap0F, in.op = 0xa3; break;  // bt r, r
            default: {
                static constexpr uint8_t kOps[] = {0xf8, 0xf9, 0xf5};  // clc stc cmc
                in.map = kMapPrimary, in.op = kOps[c.rng() % 3];
                if (in.op == 0xf5 && !(defined & kCf)) continue;
                break;
            }
        }
        in.e = &x86::op_entry(in.map, in.op);
        const Emitted em = emit(in, c, at, true);
        tc.rows.push_back(em.name);
        if (kind == 0) return kAllCompared & ~(kCf & ~defined);
        if (kind == 1 || kind == 2) {
            const uint64_t count = em.count & (in.opsize == 8 ? 63 : 31);
            if (count == 0) return defined;
            return (defined & ~(kCf | kOf)) | kCf | (count == 1 ? kOf : 0);
        }
        if (kind == 3) return (defined & (kZf | kDf)) | kCf;
        return defined | kCf;
    }
    return defined;
}

}  // namespace

InsnGenerator::InsnGenerator() {
    for (OpMap map : {kMapPrimary, kMap0F}) {
        for (unsigned op = 0; op < 256; ++op) {
            const OpEntry& e = x86::op_entry(map, uint8_t(op));
            if (map == kMapPrimary && is_prefix_or_escape(uint8_t(op))) continue;
            if (!e.name) {
                empties_.push_back({map, uint8_t(op)});
                continue;
            }
            // Rows skipped as a whole (every ModRM.reg) are never generated.
            bool any = false;
            for (int reg = -1; reg < 8; ++reg) any = any || row_treatment(map, uint8_t(op), reg) != Treatment::kSkip;
            if (row_treatment(map, uint8_t(op), -1) == Treatment::kSkip && !reg_selects(map, uint8_t(op), e))
                any = false;
            if (any) rows_.push_back({map, uint8_t(op)});
        }
    }
}

TestCase InsnGenerator::make_case(uint64_t seed) const {
    std::mt19937_64 rng(seed);
    TestCase tc;
    tc.seed = seed;
    Ctx c{rng, tc};
    for (auto& v : tc.init.regs) v = random_value(rng);
    tc.init.regs[kRsp] = kDataBase + 0x1000 + rng() % 0xe000;
    if (!c.chance(12)) tc.init.regs[kRsp] &= ~7ull;
    tc.init.rflags = 0x2 | (rng() & (kCf | kPf | kAf | kZf | kSf | kOf)) | (c.chance(12) ? kDf : 0);
    tc.init.rip = kSlot;
    tc.flag_mask = kAllCompared;

    const unsigned kind = unsigned(rng() % 100);
    if (kind < 5) {
        // Probe: an opcode no row implements (x87, SSE, VEX, 0F38/0F3A, removed 32-bit ones).
        Insn in;
        if (c.chance(25)) {
            in.map = c.chance(60) ? kMap0F38 : kMap0F3A;
            in.op = uint8_t(rng());
        } else {
            const Row row = empties_[rng() % empties_.size()];
            in.map = row.map;
            in.op = row.op;
        }
        in.e = nullptr;
        tc.rows.push_back(emit(in, c, kSlot, false).name);
        tc.probe = true;
        tc.fault_only = true;
        return tc;
    }
    const bool pair = kind < 25;
    for (;;) {
        const Row row = rows_[rng() % rows_.size()];
        Insn in;
        in.map = row.map;
        in.op = row.op;
        in.e = &x86::op_entry(row.map, row.op);
        if (!pick_reg(in, c)) continue;
        const Treatment t = row_treatment(in.map, in.op, in.reg);
        // POPCNT is checked against the generator's own model, one instruction at a time.
        const bool is_popcnt = in.map == kMap0F && in.op == 0xb8;
        if (pair && (t != Treatment::kCompare || changes_control(in.map, in.op, in.reg) || is_popcnt)) continue;
        const Emitted em = emit(in, c, kSlot, false);
        tc.rows.push_back(em.name);
        tc.required = row_required(in.map, in.op, in.reg);
        tc.fault_only = t == Treatment::kFaultOnly;
        // Flag rules use the operand size the prefixes selected.
        const uint64_t defined = defined_flags(in.map, in.op, unsigned(in.reg >= 0 ? in.reg : (in.modrm >> 3) & 7),
                                               in.opsize, in.f3, em.count);
        tc.flag_mask = defined;
        if (in.lock && in.map == kMapPrimary && (in.op == 0xf6 || in.op == 0xf7) && in.reg == 3) {
            // LOCK NEG: Unicorn 2.0.1 leaves EFLAGS unchanged (neg byte [m] of 0xbc: the SDM,
            // the host CPU and Corvid give CF PF AF, Unicorn keeps the old flags). Only the
            // result is compared.
            tc.flag_mask = kDf;
        }
        if (pair) {
            // Partial writers read registers: not after a producer with (partly) undefined results.
            if (c.chance(40) && !(tc.undefined_regs | tc.low32_regs))
                tc.flag_mask = emit_partial_writer(c, kSlot + tc.bytes.size(), tc.flag_mask);
            emit_consumer(c, kSlot + tc.bytes.size(), tc.flag_mask);
        }
        break;
    }
    return tc;
}

}  // namespace corvid::x86diff
