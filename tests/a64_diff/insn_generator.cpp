// The decode-table driven instruction generator and the do-not-test list.
#include "tests/a64_diff/insn_generator.h"

#include <array>
#include <cstring>
#include <string_view>

namespace corvid::a64diff {
namespace {

constexpr RowPolicy kPolicies[] = {
    // Exception generation: Unicorn stops with UC_ERR_EXCEPTION instead of entering the
    // vectors, and Corvid's HVC/HLT depend on the board (PSCI, semihosting). Both must fault.
    {"SVC", Treatment::kFaultOnly, "exception generating: Unicorn stops (UC_ERR_EXCEPTION) instead of taking it"},
    {"HVC", Treatment::kFaultOnly, "exception generating (UNDEFINED without a board's PSCI handler)"},
    {"SMC", Treatment::kFaultOnly, "exception generating (UNDEFINED: no EL3)"},
    {"BRK", Treatment::kFaultOnly, "exception generating: Unicorn stops (UC_ERR_EXCEPTION) instead of taking it"},
    {"HLT", Treatment::kFaultOnly, "exception generating (semihosting trap when the board enables it)"},
    // Instructions whose effect is outside the compared state or that stop Corvid's run loop.
    {"WFI", Treatment::kSkip, "halts Corvid's run loop (the harness uses it as its stop marker); a NOP in Unicorn"},
    {"WFE", Treatment::kSkip, "leaves Corvid's run loop like WFI; a NOP in Unicorn"},
    {"MSR_imm", Treatment::kSkip,
     "writes PSTATE fields (DAIF, SPSel, PAN, ...) that are not compared; SPSel changes which SP is 'sp'"},
    {"SYS", Treatment::kSkip, "cache/TLB/AT maintenance: effects on state not compared, AT writes PAR_EL1"},
    {"MSR_reg", Treatment::kSkip,
     "system registers differ between the CPU models (Unicorn's cortex-a72 vs Corvid's cortex-a57) and are not compared"},
    {"MRS", Treatment::kSkip, "reads ID/timer/model registers that legitimately differ between the two CPU models"},
    {"ERET", Treatment::kSkip, "exception return: depends on SPSR/ELR and the EL2/EL3 configuration, which differ"},
};

bool handler_is(const A64Encoding& e, std::string_view h) { return h == e.handler; }

bool is_branch(const A64Encoding& e) {
    return handler_is(e, "branch_imm") || handler_is(e, "compare_branch") || handler_is(e, "test_branch") ||
           handler_is(e, "branch_cond") || handler_is(e, "branch_reg") || handler_is(e, "eret");
}

// Rows whose bits 9:5 are a base register (Rn / SP) of a data access.
bool has_base_register(const A64Encoding& e) {
    return handler_is(e, "load_store_pair") || handler_is(e, "load_store_imm9") || handler_is(e, "load_store_uimm") ||
           handler_is(e, "load_store_reg") || handler_is(e, "load_exclusive") || handler_is(e, "store_exclusive") ||
           handler_is(e, "load_store_ordered");
}

constexpr uint32_t field(uint32_t w, unsigned lo, unsigned bits) { return (w >> lo) & ((1u << bits) - 1); }

// Register numbers that an encoding must not share, per the Arm ARM's CONSTRAINED
// UNPREDICTABLE rules (writeback onto a transfer register, pair loads into one register,
// store-exclusive status aliasing); both emulators may legitimately differ there.
bool constrained_unpredictable(const A64Encoding& e, uint32_t w) {
    const unsigned t = field(w, 0, 5), n = field(w, 5, 5), t2 = field(w, 10, 5), s = field(w, 16, 5);
    const std::string_view name = e.name;
    const bool pair = handler_is(e, "load_store_pair") || name == "LDXP" || name == "LDAXP" || name == "STXP" ||
                      name == "STLXP";
    const bool load = (w >> 22) & 1;
    if (pair && load && t == t2) return true;
    bool writeback = false;
    if (handler_is(e, "load_store_imm9")) writeback = (field(w, 10, 2) & 1) != 0;  // post (01) / pre (11)
    if (handler_is(e, "load_store_pair")) writeback = field(w, 23, 2) == 1 || field(w, 23, 2) == 3;
    if (writeback && n != 31 && (n == t || (pair && n == t2))) return true;
    if (handler_is(e, "store_exclusive") && (s == t || (s == n && n != 31) || (pair && s == t2))) return true;
    return false;
}

// Fields the architecture marks "should be one" ((1)): Corvid and QEMU both ignore them, but
// other values are CONSTRAINED UNPREDICTABLE, so they are kept at their architectural value.
uint32_t force_should_be_one(const A64Encoding& e, uint32_t w) {
    const std::string_view name = e.name;
    if (name == "LDXR" || name == "LDAXR" || name == "LDXP" || name == "LDAXP" || name == "STLR" || name == "LDAR") {
        w |= 0x1fu << 16;  // Rs
    }
    if (name == "STXR" || name == "STLXR" || name == "LDXR" || name == "LDAXR" || name == "STLR" || name == "LDAR") {
        w |= 0x1fu << 10;  // Rt2
    }
    return w;
}

uint64_t random_value(std::mt19937_64& rng) {
    static constexpr uint64_t kSpecial[] = {0,           1,          2,          ~0ull,      0x7fffffffffffffffull,
                                            0x8000000000000000ull, 0x7fffffffull, 0x80000000ull, 0xffffffffull,
                                            0x100000000ull, 0xffffffff80000000ull, 63, 64, 31, 32};
    switch (rng() % 4) {
        case 0: return kSpecial[rng() % std::size(kSpecial)];
        case 1: return rng() & 0xff;
        default: return rng();
    }
}

// A base address inside the data window that leaves room for the largest scaled offsets
// (LDR x, [xn, #32760]) above and the negative unscaled/pair offsets below.
// `aligned`: 16-byte aligned, except one time in eight only 8-byte aligned (the largest
// element size), which checks that a 128-bit exclusive pair still faults there.
uint64_t window_address(std::mt19937_64& rng, bool aligned) {
    uint64_t a = kDataBase + 0x400 + rng() % 0x7b00;
    if (aligned) {
        a &= ~uint64_t(15);
        if (rng() % 8 == 0) a += 8;
    } else if (rng() % 2) {
        a &= ~uint64_t(15);
    }
    return a;
}

// Steers the registers that an instruction uses as addresses. `aligned` (bit per register,
// bit 31 = SP) remembers bases that an earlier ordered/exclusive access of the same case uses:
// a later plain access through the same register must not make them unaligned.
void constrain_registers(const A64Encoding& e, uint32_t w, ArchState& st, std::mt19937_64& rng, uint32_t& aligned) {
    const unsigned n = field(w, 5, 5);
    if (has_base_register(e)) {
        if (handler_is(e, "load_store_reg")) {
            const unsigned m = field(w, 16, 5);
            if (m != 31) {
                // Small index, sometimes negative (sign-extending options keep it in the window).
                const int64_t idx = int64_t(rng() % 512) - (rng() % 4 == 0 ? 256 : 0);
                st.x[m] = uint64_t(idx);
            }
        }
        // Acquire/release and exclusive accesses must be naturally aligned (Alignment fault
        // otherwise, which Corvid raises); Unicorn 2 (QEMU 5) does not check that for
        // LDAR/STLR, so these bases are kept 16-byte aligned.
        const bool ordered = handler_is(e, "load_store_ordered") || handler_is(e, "load_exclusive") ||
                             handler_is(e, "store_exclusive");
        if (ordered) aligned |= 1u << n;
        if (n == 31) {
            st.sp = window_address(rng, true) & ~uint64_t(15);  // SP stays 16-byte aligned
        } else {
            st.x[n] = window_address(rng, (aligned >> n) & 1);
        }
    } else if (handler_is(e, "branch_reg") && rng() % 4 != 0) {
        // Mostly a target inside the WFI-filled code area (sometimes misaligned).
        uint64_t target = kCodeBase + (rng() % kCodeSize);
        if (rng() % 8 != 0) target &= ~uint64_t(3);
        if (n != 31) st.x[n] = target;
    }
}

// A store-exclusive whose size differs from the preceding load-exclusive is CONSTRAINED
// UNPREDICTABLE (may pass or fail): give it the load's size and pair bits (same layout in
// both encodings), re-drawing its registers until the result is predictable.
void match_exclusive_pairs(TestCase& tc, std::mt19937_64& rng) {
    constexpr uint32_t kSizePairBits = (3u << 30) | (1u << 21);
    int load = -1;
    for (size_t i = 0; i < tc.words.size(); ++i) {
        const A64Encoding& e = a64_encodings()[size_t(tc.ops[i])];
        if (handler_is(e, "load_exclusive")) load = int(i);
        if (!handler_is(e, "store_exclusive") || load < 0) continue;
        const uint32_t want = tc.words[size_t(load)] & kSizePairBits;
        for (int attempt = 0; attempt < 64; ++attempt) {
            uint32_t w = (tc.words[i] & ~kSizePairBits) | want;
            if (attempt > 0) w = (w & ~((0x1fu << 16) | 0x1fu)) | ((uint32_t(rng()) & 0x1f) << 16) | (uint32_t(rng()) & 0x1f);
            const A64Op op = a64_decode(w);
            if (op != A64Op::kCount && !constrained_unpredictable(a64_encodings()[size_t(op)], force_should_be_one(a64_encodings()[size_t(op)], w))) {
                tc.words[i] = force_should_be_one(a64_encodings()[size_t(op)], w);
                tc.ops[i] = op;
                break;
            }
        }
    }
}

// Random words of the integer instruction groups (op0 = bits 28:25: 100x data processing
// immediate, 101x branches/system, x1x0 with V = 0 loads/stores, x101 data processing
// register) that match no decode row.
uint32_t unallocated_word(std::mt19937_64& rng) {
    for (;;) {
        uint32_t w = uint32_t(rng());
        switch (rng() % 4) {
            case 0: w = (w & ~(7u << 26)) | (4u << 26); break;
            case 1: w = (w & ~(7u << 26)) | (5u << 26); break;
            case 2: w = (w & ~(7u << 25)) | (4u << 25); break;  // bits 27:25 = 100 (V = 0, x1x0)
            default: w = (w & ~(7u << 25)) | (5u << 25); break;
        }
        if (a64_decode(w) == A64Op::kCount) return w;
    }
}

}  // namespace

std::span<const RowPolicy> row_policies() { return {kPolicies, std::size(kPolicies)}; }

Treatment row_treatment(A64Op op) {
    const std::string_view name = a64_encodings()[size_t(op)].name;
    for (const RowPolicy& p : kPolicies) {
        if (name == p.row) return p.treatment;
    }
    return Treatment::kCompare;
}

InsnGenerator::InsnGenerator() {
    for (size_t i = 0; i < size_t(A64Op::kCount); ++i) {
        const A64Op op = A64Op(i);
        if (row_treatment(op) == Treatment::kSkip) continue;
        rows_.push_back(op);
        if (!is_branch(a64_encodings()[i])) straight_rows_.push_back(op);
    }
}

uint32_t InsnGenerator::random_word(A64Op op, std::mt19937_64& rng) const {
    const A64Encoding& e = a64_encodings()[size_t(op)];
    for (int attempt = 0;; ++attempt) {
        uint32_t w = (uint32_t(rng()) & ~e.mask) | e.value;
        w = force_should_be_one(e, w);
        // A more specific row owns this word (e.g. NOP inside HINT): keep it only if that row
        // is itself testable, so skipped rows are never reached through a general pattern.
        const A64Op actual = a64_decode(w);
        const bool ok = actual != A64Op::kCount && row_treatment(actual) != Treatment::kSkip &&
                        !constrained_unpredictable(a64_encodings()[size_t(actual)], w);
        if (ok || attempt > 64) {
            if (!ok) return a64_encodings()[size_t(A64Op::NOP)].value;
            return w;
        }
    }
}

TestCase InsnGenerator::make_case(uint64_t seed) const {
    std::mt19937_64 rng(seed);
    TestCase tc;
    tc.seed = seed;
    for (auto& r : tc.init.x) r = random_value(rng);
    tc.init.sp = random_value(rng);
    tc.init.nzcv = uint32_t(rng() & 0xf);
    tc.init.pc = kSlot;

    if (rng() % 16 == 0) {
        // A word of the integer encoding groups that no row decodes: UNDEFINED for Corvid, so
        // Unicorn must fault too (a difference shows an instruction Corvid lacks).
        tc.words.push_back(unallocated_word(rng));
        tc.ops.push_back(A64Op::kCount);
        tc.unallocated = true;
        return tc;
    }
    size_t length = 1;
    if (rng() % 4 == 0) length = 2 + rng() % 3;
    for (size_t i = 0; i < length; ++i) {
        const bool last = i + 1 == length;
        const std::vector<A64Op>& pool = last ? rows_ : straight_rows_;
        const A64Op op = pool[rng() % pool.size()];
        const uint32_t w = random_word(op, rng);
        const A64Op actual = a64_decode(w);
        tc.words.push_back(w);
        tc.ops.push_back(actual);
        if (row_treatment(actual) == Treatment::kFaultOnly) tc.fault_only = true;
    }
    match_exclusive_pairs(tc, rng);
    // Later instructions' addresses win when registers are shared, as they are used last.
    uint32_t aligned = 0;
    for (size_t i = 0; i < tc.words.size(); ++i) {
        constrain_registers(a64_encodings()[size_t(tc.ops[i])], tc.words[i], tc.init, rng, aligned);
    }
    return tc;
}

std::string row_name(uint32_t word) {
    const A64Op op = a64_decode(word);
    return op == A64Op::kCount ? "undecoded" : a64_encodings()[size_t(op)].name;
}

}  // namespace corvid::a64diff
