/* Switch dispatch: a small bytecode interpreter (stack machine with a register file) running
 * a loop program; the switch compiles to an indirect jump through a table. */
#include "bench.h"

enum Op { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, DUP, JNZ, DEC, POP, HALT };

struct Insn {
    uint8_t op;
    int32_t arg;
};

/* r0 = iterations; r1 = accumulator; each round mixes r1 with the counter. */
static const struct Insn program[] = {
    {LOAD, 1},  {LOAD, 0},  {ADD, 0},   {PUSH, 31}, {MUL, 0},  {LOAD, 0}, {PUSH, 3}, {SHR, 0},
    {XOR, 0},   {STORE, 1}, {LOAD, 1},  {PUSH, 5},  {SHR, 0},  {LOAD, 1}, {XOR, 0},  {STORE, 1},
    {LOAD, 0},  {DEC, 0},   {DUP, 0},   {STORE, 0}, {JNZ, 0},  {HALT, 0},
};

__attribute__((noinline)) static uint64_t run(const struct Insn* code, uint64_t iterations) {
    uint64_t stack[16];
    uint64_t regs[4] = {iterations, 1, 0, 0};
    unsigned sp = 0;
    unsigned pc = 0;
    for (;;) {
        const struct Insn in = code[pc++];
        switch (in.op) {
            case PUSH: stack[sp++] = (uint64_t)(int64_t)in.arg; break;
            case LOAD: stack[sp++] = regs[in.arg]; break;
            case STORE: regs[in.arg] = stack[--sp]; break;
            case ADD: sp--; stack[sp - 1] += stack[sp]; break;
            case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
            case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
            case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
            case SHR: sp--; stack[sp - 1] >>= stack[sp] & 63; break;
            case DUP: stack[sp] = stack[sp - 1]; sp++; break;
            case JNZ:
                if (stack[--sp] != 0) pc = (unsigned)in.arg;
                break;
            case DEC: stack[sp - 1]--; break;
            case POP: sp--; break;
            case HALT: return regs[1];
            default: return ~0ull;
        }
    }
}

int main(void) {
    bench_result("dispatch", run(program, SCALE(3500000, 70000)));
    return 0;
}
