/* Switch dispatch: a bytecode interpreter for a small register machine (8 registers, 3-operand
 * instructions), running a program that computes a checksum over a nested loop. The switch
 * compiles to an indirect jump through a table. */
#include "bench.h"

enum { OP_LI, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHR, OP_SHL, OP_AND, OP_ADDI, OP_BNZ, OP_BLT, OP_MOV, OP_HALT };

struct Insn {
    uint8_t op, d, a, b; /* registers */
    int32_t imm;
};

/* r0 = outer count, r1 = inner count (set by the caller); r2 accumulator. */
static const struct Insn program[] = {
    /* 0 */ {OP_LI, 2, 0, 0, 12345},
    /* 1 */ {OP_LI, 3, 0, 0, 0},          /* j = 0 */
    /* 2 */ {OP_MUL, 4, 2, 2, 0},         /* t = acc * acc */
    /* 3 */ {OP_SHR, 5, 4, 0, 17},        /* u = t >> 17 */
    /* 4 */ {OP_XOR, 2, 2, 5, 0},
    /* 5 */ {OP_ADD, 2, 2, 3, 0},
    /* 6 */ {OP_SHL, 6, 2, 0, 3},
    /* 7 */ {OP_SUB, 2, 6, 2, 0},         /* acc = acc * 7 */
    /* 8 */ {OP_AND, 7, 2, 0, 0xff},
    /* 9 */ {OP_ADD, 2, 2, 7, 0},
    /* 10 */ {OP_ADDI, 3, 3, 0, 1},
    /* 11 */ {OP_BLT, 0, 3, 1, 2},        /* if j < inner goto 2 */
    /* 12 */ {OP_ADDI, 0, 0, 0, -1},
    /* 13 */ {OP_BNZ, 0, 0, 0, 1},        /* if --outer goto 1 */
    /* 14 */ {OP_HALT, 0, 0, 0, 0},
};

__attribute__((noinline)) static uint64_t interpret(const struct Insn* code, uint64_t outer, uint64_t inner) {
    uint64_t r[8] = {outer, inner, 0, 0, 0, 0, 0, 0};
    unsigned pc = 0;
    for (;;) {
        const struct Insn* in = &code[pc++];
        switch (in->op) {
            case OP_LI: r[in->d] = (uint64_t)(int64_t)in->imm; break;
            case OP_ADD: r[in->d] = r[in->a] + r[in->b]; break;
            case OP_SUB: r[in->d] = r[in->a] - r[in->b]; break;
            case OP_MUL: r[in->d] = r[in->a] * r[in->b]; break;
            case OP_XOR: r[in->d] = r[in->a] ^ r[in->b]; break;
            case OP_SHR: r[in->d] = r[in->a] >> (in->imm & 63); break;
            case OP_SHL: r[in->d] = r[in->a] << (in->imm & 63); break;
            case OP_AND: r[in->d] = r[in->a] & (uint64_t)(int64_t)in->imm; break;
            case OP_ADDI: r[in->d] = r[in->a] + (uint64_t)(int64_t)in->imm; break;
            case OP_BNZ:
                if (r[in->a] != 0) pc = (unsigned)in->imm;
                break;
            case OP_BLT:
                if (r[in->a] < r[in->b]) pc = (unsigned)in->imm;
                break;
            case OP_MOV: r[in->d] = r[in->a]; break;
            case OP_HALT: return r[2];
            default: return ~0ull;
        }
    }
}

int main(void) {
    bench_result("dispatch", interpret(program, SCALE(600, 12), 5000));
    return 0;
}
