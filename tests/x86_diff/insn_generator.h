// Random x86-64 test cases drawn from Corvid's opcode tables (frontends/x86/x86_decode_tables):
// an opcode-map row is picked (and a ModRM.reg for groups), then random prefixes (66, REX.WRXB,
// 67, LOCK, segment, F2/F3 where they select an instruction), ModRM/SIB/displacement and
// immediates; registers and memory are steered so that memory operands, the stack, string
// pointers and branch targets land in the windows both sides map. Everything is a pure function
// of a 64-bit case seed, so any case can be replayed.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "frontends/x86/x86_decoder.h"
#include "tests/x86_diff/diff_types.h"

namespace corvid::x86diff {

enum class Treatment {
    kCompare,    // full state comparison
    kFaultOnly,  // both sides must fault; state is not compared
    kSkip,       // never generated (see the reason)
};

// The named do-not-test list: one row (and ModRM.reg for groups, -1 for all) with the reason.
struct RowPolicy {
    x86::OpMap map;
    uint8_t op;
    int reg;  // ModRM.reg, or -1
    Treatment treatment;
    const char* reason;
};
std::span<const RowPolicy> row_policies();
Treatment row_treatment(x86::OpMap map, uint8_t op, int reg);
// Rows of the required integer ISA (mov*, lea, add..cmp, inc/dec/neg, logic, shifts and
// rotates, mul/div, bt*, bit scans and counts, bswap, setcc/cmovcc, xchg/cmpxchg/xadd): a #UD
// from Corvid where Unicorn executes one of these is a failure, not "unimplemented".
bool row_required(x86::OpMap map, uint8_t op, int reg);
// Instructions the SDM allows a LOCK prefix on (with a memory destination); LOCK on anything
// else must raise #UD.
bool row_lockable(x86::OpMap map, uint8_t op, int reg);

// An 8-byte value stored into the data window (all three machines) before the case runs:
// return addresses, indirect branch targets, divisors, non-zero bit-scan sources.
struct Poke {
    uint64_t addr;
    uint64_t value;
};

struct TestCase {
    uint64_t seed = 0;
    std::vector<uint8_t> bytes;     // all instructions, run from kSlot
    std::vector<uint8_t> lengths;   // length of each instruction
    std::vector<std::string> rows;  // row name of each ("add 01", "grp3/6 f7", "0f bc bsf", ...)
    std::vector<Poke> pokes;
    ArchState init;               // rip = kSlot
    uint64_t flag_mask = 0;       // EFLAGS bits defined after the sequence
    uint16_t undefined_regs = 0;  // registers whose end value is architecturally undefined
    uint16_t low32_regs = 0;      // registers compared in their low 32 bits only (vendor dependent)
    bool fault_only = false;      // both sides must fault
    bool probe = false;           // an opcode Corvid's tables leave empty (unimplemented probe)
    bool required = false;        // the (first) instruction is of the required integer ISA
    bool lock_invalid = false;    // LOCK on an instruction that does not allow it: #UD
    // POPCNT (Unicorn 2.0.1 raises #UD for it under every CPU model): the generator's own
    // reference result. Source is the register popcnt_src, or memory at popcnt_addr if < 0.
    bool popcnt = false;
    unsigned popcnt_dst = 0, popcnt_size = 0;
    int popcnt_src = -1;
    uint64_t popcnt_addr = 0;
};

class InsnGenerator {
public:
    InsnGenerator();
    // The case for `seed`: one instruction (~75%), a flag producer followed by a flag consumer
    // (~20%; in 40% of those with a partial flag writer such as inc or rol in between), or an
    // opcode whose table row is empty (~5%: both must fault, or Unicorn runs it and Corvid
    // lacks it).
    TestCase make_case(uint64_t seed) const;
    struct Row {
        x86::OpMap map;
        uint8_t op;
    };
    // Every generated table row (some ModRM.reg of it is compared or fault-only).
    const std::vector<Row>& rows() const { return rows_; }

private:
    std::vector<Row> rows_;     // every non-empty table row that is not skipped as a whole
    std::vector<Row> empties_;  // empty rows of the primary and 0F maps
};

// EFLAGS bits the fuzzer compares at all (arithmetic flags and DF).
constexpr uint64_t kComparedFlags = 0x8d5 | 0x400;

}  // namespace corvid::x86diff
