// Whole-block translation as the engine does it: frontend decode to IR, verifier, optimiser
// passes, x86-64 backend. One typical block each for AArch64 and x86 (five guest instructions:
// add, load, store, compare, conditional branch), timed from the guest bytes (decode:1) and
// from the frontend's IR (decode:0, the translator core: target < 2 us per block).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "backend/x64/x64_backend.h"
#include "frontends/a64/a64_frontend.h"
#include "frontends/x86/x86_cpu.h"
#include "frontends/x86/x86_frontend.h"
#include "translator/bytes_context.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid {
namespace {

// add x1, x2, #16; ldr x4, [x3, #8]; str w6, [x5, #24]; cmp x7, x8; b.ne .+0x40
const std::vector<uint32_t> kA64Words = {0x91004041, 0xf9400464, 0xb90018a6, 0xeb0800ff, 0x54000201};
// add rbx, 16; mov rax, [rsi+8]; mov [rdi+24], ecx; cmp r8, r9; jne .+0x40
const std::vector<uint8_t> kX86Bytes = {0x48, 0x83, 0xc3, 0x10, 0x48, 0x8b, 0x46, 0x08, 0x89, 0x4f,
                                        0x18, 0x4d, 0x39, 0xc8, 0x75, 0x3e};

constexpr uint64_t kPc = 0x40000000;

void decode(ir::Block& blk, Frontend& fe, uint32_t mode, const std::vector<uint8_t>& code) {
    blk.insts.clear();
    blk.guest_pc = kPc;
    blk.mode = mode;
    blk.guest_insns = 0;
    blk.guest_size = 0;
    blk.num_labels = 0;
    blk.state_forwarded = false;
    ir::Builder b(blk);
    b.set_pc(kPc);
    BytesContext ctx(b, kPc, code);
    fe.translate(ctx);
}

// Translates the block at kPc from scratch every iteration, reusing the IR storage as the
// engine does (Block::insts keeps its capacity). With `decode_each_time` false the frontend
// runs once and each iteration starts from a copy of its IR: verifier, passes and backend
// only, the translator core's share (the figure the < 2 us target is about).
void translate_loop(benchmark::State& state, Frontend& fe, uint32_t mode, const std::vector<uint8_t>& code,
                    bool decode_each_time) {
    x64::X64Backend be(32u << 20, false);
    std::vector<TranslatedBlock> tbs(4096);
    ir::Block proto, blk;
    decode(proto, fe, mode, code);
    size_t k = 0, ir_ops = 0, guest = 0;
    for (auto _ : state) {
        if (decode_each_time) {
            decode(blk, fe, mode, code);
        } else {
            blk.insts.assign(proto.insts.begin(), proto.insts.end());
            blk.guest_pc = proto.guest_pc;
            blk.mode = proto.mode;
            blk.guest_insns = proto.guest_insns;
            blk.guest_size = proto.guest_size;
            blk.num_labels = proto.num_labels;
            blk.state_forwarded = false;
        }
        if (!ir::verify(blk)) {
            state.SkipWithError("verifier rejected the block");
            break;
        }
        ir::optimize(blk);
        TranslatedBlock& tb = tbs[k++ & 4095];
        if (!be.compile(blk, tb)) {
            be.flush();
            if (!be.compile(blk, tb)) {
                state.SkipWithError("compile failed");
                break;
            }
        }
        ir_ops = blk.insts.size();
        guest = blk.guest_insns;
    }
    state.counters["guest_insns"] = double(guest);
    state.counters["ir_ops_opt"] = double(ir_ops);
    // Throughput in IR instructions entering the passes (the frontend's output) per second.
    state.SetItemsProcessed(int64_t(state.iterations() * proto.insts.size()));
}

// Arg 1: from guest bytes (frontend included); arg 0: from the frontend's IR.
void BM_TranslateA64Block(benchmark::State& state) {
    std::vector<uint8_t> code(kA64Words.size() * 4);
    std::memcpy(code.data(), kA64Words.data(), code.size());
    A64Frontend fe;
    translate_loop(state, fe, a64_mode(1, true), code, state.range(0) != 0);
}
BENCHMARK(BM_TranslateA64Block)->ArgName("decode")->Arg(0)->Arg(1);

void BM_TranslateX86Block(benchmark::State& state) {
    X86Frontend fe;
    translate_loop(state, fe, kX86ModeCode64 | kX86ModePe, kX86Bytes, state.range(0) != 0);
}
BENCHMARK(BM_TranslateX86Block)->ArgName("decode")->Arg(0)->Arg(1);

}  // namespace
}  // namespace corvid
