// Instruction selection for the pure IR opcodes (arithmetic, logic, shifts, conversions,
// compares, bit counting, carries). Values are kept zero-extended to 64 bits in registers.
#include "backend/x64/block_compiler.h"
#include "translator/ir/eval.h"

namespace corvid::x64 {

using namespace asmjit;
using ir::Opcode;
using ir::Type;

void BlockCompiler::normalize(const ax::Gp& d, Type t) {
    if (t == Type::I8) {
        as_.movzx(ax::gpd(d.id()), ax::gpb(d.id()));
    } else if (t == Type::I16) {
        as_.movzx(ax::gpd(d.id()), ax::gpw(d.id()));
    }
}

void BlockCompiler::emit_binop(uint32_t i, const ir::Inst& in) {
    const unsigned ob = op_bytes(in.type);
    if (in.op == Opcode::AndNot) {
        // a & ~b: complement b in a scratch; a is zero-extended so the result stays so.
        load_to(ax::rax, in.args[1]);
        ax::Gp d = def_reuse(i, in.args[0]);
        as_.not_(ax::rax);
        as_.and_(d, ax::rax);
        return;
    }
    Operand b = use_any(in.args[1], ob);
    ax::Gp d = def_reuse(i, in.args[0]);
    ax::Gp dw = gp_of(d.id(), ob);
    InstId id = ax::Inst::kIdAdd;
    bool renorm = true;
    switch (in.op) {
        case Opcode::Add: id = ax::Inst::kIdAdd; break;
        case Opcode::Sub: id = ax::Inst::kIdSub; break;
        case Opcode::Mul: id = ax::Inst::kIdImul; break;
        case Opcode::And: id = ax::Inst::kIdAnd; renorm = false; break;
        case Opcode::Or: id = ax::Inst::kIdOr; renorm = false; break;
        case Opcode::Xor: id = ax::Inst::kIdXor; renorm = false; break;
        default: fail("emit_binop: bad opcode"); return;
    }
    if (id == ax::Inst::kIdImul && b.isImm()) {
        as_.imul(dw, dw, b.as<Imm>());
    } else {
        as_.emit(id, dw, b);
    }
    if (renorm) normalize(d, in.type);
}

void BlockCompiler::emit_shift(uint32_t i, const ir::Inst& in) {
    const Type t = in.type;
    const unsigned w = ir::bit_width(t);
    const bool narrow = w < 32;
    const bool rotate = in.op == Opcode::RotL || in.op == Opcode::RotR;
    InstId id = ax::Inst::kIdShl;
    switch (in.op) {
        case Opcode::Shl: id = ax::Inst::kIdShl; break;
        case Opcode::LShr: id = ax::Inst::kIdShr; break;
        case Opcode::AShr: id = ax::Inst::kIdSar; break;
        case Opcode::RotL: id = ax::Inst::kIdRol; break;
        case Opcode::RotR: id = ax::Inst::kIdRor; break;
        default: fail("emit_shift: bad opcode"); return;
    }
    const bool imm = is_const(in.args[1]);
    const unsigned amount = imm ? unsigned(const_of(in.args[1]) & (w - 1)) : 0;
    if (!imm) {
        // x86 masks the count to 5/6 bits, which is the IR's "modulo width" for i32/i64. Narrow
        // rotates on 8/16-bit registers are periodic anyway; narrow shifts need the mask.
        Operand b = use_any(in.args[1], 4, false);
        as_.emit(ax::Inst::kIdMov, ax::ecx, b);
        if (narrow && !rotate) as_.and_(ax::ecx, w - 1);
    }
    ax::Gp d = def_reuse(i, in.args[0]);
    if (imm && amount == 0) return;
    // Rotates of narrow values act on the 8/16-bit register (upper bits stay zero); shifts act
    // on 32 bits, with arithmetic right shifts sign-extending first.
    ax::Gp dw = rotate ? gp_of(d.id(), type_bytes(t)) : gp_of(d.id(), op_bytes(t));
    if (in.op == Opcode::AShr && narrow) as_.movsx(ax::gpd(d.id()), gp_of(d.id(), type_bytes(t)));
    if (imm) {
        as_.emit(id, dw, Imm(amount));
    } else {
        as_.emit(id, dw, ax::cl);
    }
    if (narrow && (in.op == Opcode::Shl || in.op == Opcode::AShr)) normalize(d, t);
}

void BlockCompiler::emit_div(uint32_t i, const ir::Inst& in) {
    const Type t = in.type;
    const unsigned w = ir::bit_width(t);
    const bool is_signed = in.op == Opcode::DivS || in.op == Opcode::RemS;
    const bool is_rem = in.op == Opcode::RemU || in.op == Opcode::RemS;
    const unsigned ob = op_bytes(t);

    ax::Gp divisor = use_reg(in.args[1]);
    if (is_signed) {
        load_sx(ax::rax, in.args[0]);
    } else {
        load_to(ax::rax, in.args[0]);
    }
    // Every allocation happens before the branches below, so all paths share one register state.
    ax::Gp d = def_fresh(i);
    ax::Gp dv = gp_of(divisor.id(), ob);
    if (is_signed && w < 32) {
        as_.movsx(ax::ecx, gp_of(divisor.id(), type_bytes(t)));
        dv = ax::ecx;
    }
    ax::Gp ra = gp_of(kRax, ob), rd = gp_of(kRdx, ob);
    Label zero = as_.newLabel(), minus1 = as_.newLabel(), done = as_.newLabel();
    as_.test(dv, dv);
    as_.jz(zero);
    if (is_signed) {
        as_.cmp(dv, -1);
        as_.je(minus1);
        if (ob == 8) {
            as_.cqo();
        } else {
            as_.cdq();
        }
        as_.idiv(dv);
    } else {
        as_.xor_(ax::edx, ax::edx);
        as_.div(dv);
    }
    if (is_rem) as_.mov(ra, rd);
    as_.jmp(done);
    if (is_signed) {
        as_.bind(minus1);
        if (is_rem) {
            as_.xor_(ax::eax, ax::eax);
        } else {
            as_.neg(ra);
        }
        as_.jmp(done);
    }
    as_.bind(zero);
    if (!is_rem) as_.xor_(ax::eax, ax::eax);  // remainder by zero: the dividend, already in rax
    as_.bind(done);
    if (ob == 8) {
        as_.mov(d, ax::rax);
    } else if (w == 32) {
        as_.mov(ax::gpd(d.id()), ax::eax);
    } else {
        as_.movzx(ax::gpd(d.id()), gp_of(kRax, type_bytes(t)));
    }
}

void BlockCompiler::emit_mulhi(uint32_t i, const ir::Inst& in) {
    const Type t = in.type;
    const unsigned w = ir::bit_width(t);
    const bool is_signed = in.op == Opcode::MulHiS;
    if (is_signed) {
        load_sx(ax::rax, in.args[0]);
        load_sx(ax::rcx, in.args[1]);
    } else {
        load_to(ax::rax, in.args[0]);
        load_to(ax::rcx, in.args[1]);
    }
    ax::Gp d = def_after(i);
    if (w == 64) {
        if (is_signed) {
            as_.imul(ax::rcx);
        } else {
            as_.mul(ax::rcx);
        }
        as_.mov(d, ax::rdx);
        return;
    }
    as_.imul(ax::rax, ax::rcx);
    if (is_signed) {
        as_.sar(ax::rax, w);
    } else {
        as_.shr(ax::rax, w);
    }
    if (w == 32) {
        as_.mov(ax::gpd(d.id()), ax::eax);
    } else {
        as_.movzx(ax::gpd(d.id()), gp_of(kRax, type_bytes(t)));
    }
}

void BlockCompiler::emit_bitrev(const ax::Gp& d, Type t) {
    // Byte swap, then swap nibbles, bit pairs and bits with masks.
    const bool w64 = t == Type::I64;
    const ax::Gp x = gp_of(d.id(), w64 ? 8 : 4);
    const ax::Gp tmp = gp_of(kRdx, w64 ? 8 : 4);
    as_.bswap(x);
    static constexpr struct {
        unsigned shift;
        uint64_t mask;
    } kSteps[] = {{4, 0x0F0F0F0F0F0F0F0Full}, {2, 0x3333333333333333ull}, {1, 0x5555555555555555ull}};
    for (const auto& s : kSteps) {
        as_.mov(tmp, x);
        as_.shr(tmp, s.shift);
        if (w64) {
            as_.mov(ax::rcx, Imm(int64_t(s.mask)));
            as_.and_(tmp, ax::rcx);
            as_.and_(x, ax::rcx);
        } else {
            as_.and_(tmp, Imm(int32_t(uint32_t(s.mask))));
            as_.and_(x, Imm(int32_t(uint32_t(s.mask))));
        }
        as_.shl(x, s.shift);
        as_.or_(x, tmp);
    }
    if (t == Type::I16) as_.shr(x, 16);
    if (t == Type::I8) as_.shr(x, 24);
}

void BlockCompiler::emit_popcount_swar(const ax::Gp& d) {
    // Bit-parallel count for hosts without POPCNT; the value is zero-extended, so the 64-bit
    // sequence is right for every type.
    const ax::Gp x = ax::gpq(d.id());
    as_.mov(ax::rdx, x);
    as_.shr(ax::rdx, 1);
    as_.mov(ax::rcx, Imm(int64_t(0x5555555555555555ull)));
    as_.and_(ax::rdx, ax::rcx);
    as_.sub(x, ax::rdx);
    as_.mov(ax::rcx, Imm(int64_t(0x3333333333333333ull)));
    as_.mov(ax::rdx, x);
    as_.shr(ax::rdx, 2);
    as_.and_(ax::rdx, ax::rcx);
    as_.and_(x, ax::rcx);
    as_.add(x, ax::rdx);
    as_.mov(ax::rdx, x);
    as_.shr(ax::rdx, 4);
    as_.add(x, ax::rdx);
    as_.mov(ax::rcx, Imm(int64_t(0x0F0F0F0F0F0F0F0Full)));
    as_.and_(x, ax::rcx);
    as_.mov(ax::rcx, Imm(int64_t(0x0101010101010101ull)));
    as_.imul(x, ax::rcx);
    as_.shr(x, 56);
}

void BlockCompiler::emit_unary(uint32_t i, const ir::Inst& in) {
    const Type t = in.type;
    const unsigned w = ir::bit_width(t);
    const unsigned ob = op_bytes(t);
    switch (in.op) {
        case Opcode::Neg:
        case Opcode::Not: {
            ax::Gp d = def_reuse(i, in.args[0]);
            if (in.op == Opcode::Neg) {
                as_.neg(gp_of(d.id(), ob));
            } else {
                as_.not_(gp_of(d.id(), ob));
            }
            normalize(d, t);
            return;
        }
        case Opcode::Clz:
        case Opcode::Ctz: {
            Operand a = use_any(in.args[0], ob, false);
            ax::Gp d = def_after(i);
            if (in.op == Opcode::Clz) {
                // clz = (w - 1) - bsr(a); bsr of 0 leaves ZF set and counts as -1.
                as_.emit(ax::Inst::kIdBsr, gp_of(kRax, ob), a);
                as_.mov(ax::edx, -1);
                as_.cmovz(ax::eax, ax::edx);
                as_.mov(ax::gpd(d.id()), int32_t(w - 1));
                as_.sub(ax::gpd(d.id()), ax::eax);
            } else {
                as_.emit(ax::Inst::kIdBsf, gp_of(kRax, ob), a);
                as_.mov(ax::edx, int32_t(w));
                as_.cmovz(ax::eax, ax::edx);
                as_.mov(ax::gpd(d.id()), ax::eax);
            }
            return;
        }
        case Opcode::Popcount: {
            if (!env_.has_popcnt) {
                ax::Gp d = def_reuse(i, in.args[0]);
                emit_popcount_swar(d);
                return;
            }
            Operand a = use_any(in.args[0], ob, false);
            ax::Gp d = def_after(i);
            as_.emit(ax::Inst::kIdPopcnt, gp_of(d.id(), ob), a);
            return;
        }
        case Opcode::Bswap: {
            ax::Gp d = def_reuse(i, in.args[0]);
            if (t == Type::I16) {
                as_.rol(ax::gpw(d.id()), 8);
            } else if (t == Type::I32) {
                as_.bswap(ax::gpd(d.id()));
            } else if (t == Type::I64) {
                as_.bswap(d);
            }
            return;
        }
        case Opcode::BitRev: {
            ax::Gp d = def_reuse(i, in.args[0]);
            emit_bitrev(d, t);
            return;
        }
        default: fail("emit_unary: bad opcode"); return;
    }
}

void BlockCompiler::emit_convert(uint32_t i, const ir::Inst& in) {
    // Widening ZExt/Trunc and same-width SExt were turned into aliases by analyze().
    const Type from = type_of(in.args[0]);
    const Type to = in.type;
    const unsigned fb = type_bytes(from);
    Operand a = use_any(in.args[0], fb, false);
    ax::Gp d = def_after(i);
    const ax::Gp d32 = ax::gpd(d.id());
    const bool narrowing = ir::bit_width(to) < ir::bit_width(from);
    if (in.op != Opcode::SExt || narrowing) {
        // Keep the low bits of the operand.
        Operand low = a.isReg() ? Operand(gp_of(a.id(), type_bytes(to))) : Operand(a.as<ax::Mem>().cloneResized(type_bytes(to)));
        if (to == Type::I32) {
            as_.emit(ax::Inst::kIdMov, d32, low);
        } else {
            as_.emit(ax::Inst::kIdMovzx, d32, low);
        }
        return;
    }
    if (to == Type::I64) {
        as_.emit(fb == 4 ? ax::Inst::kIdMovsxd : ax::Inst::kIdMovsx, d, a);
    } else {
        as_.emit(ax::Inst::kIdMovsx, d32, a);
        normalize(d, to);
    }
}

void BlockCompiler::emit_flag_value(uint32_t i) {
    // setcc straight into the result register: rax (an add-with-carry result) stays intact.
    ax::Gp d = def_after(i);
    as_.emit(ax::Inst::setccFromCond(ax::CondCode(flag_cc_[i])), ax::gpb(d.id()));
    as_.movzx(ax::gpd(d.id()), ax::gpb(d.id()));
}

void BlockCompiler::emit_cmp(uint32_t i, const ir::Inst& in) {
    if (flag_use_[i] == kFlagReuse) {
        if (fused_[i]) {
            fused_cc_ = ax::CondCode(flag_cc_[i]);
            return;
        }
        emit_flag_value(i);
        return;
    }
    const Type t = type_of(in.args[0]);
    const unsigned bytes = type_bytes(t);
    ax::Gp a = gp_of(use_reg(in.args[0]).id(), bytes);
    Operand b = use_any(in.args[1], bytes);
    if (b.isImm() && b.as<Imm>().value() == 0) {
        as_.test(a, a);
    } else {
        as_.emit(ax::Inst::kIdCmp, a, b);
    }
    ax::CondCode cc = ax::CondCode::kE;
    switch (in.op) {
        case Opcode::CmpEq: cc = ax::CondCode::kE; break;
        case Opcode::CmpNe: cc = ax::CondCode::kNE; break;
        case Opcode::CmpLtU: cc = ax::CondCode::kB; break;
        case Opcode::CmpLtS: cc = ax::CondCode::kL; break;
        case Opcode::CmpLeU: cc = ax::CondCode::kBE; break;
        case Opcode::CmpLeS: cc = ax::CondCode::kLE; break;
        default: fail("emit_cmp: bad opcode"); return;
    }
    if (fused_[i]) {
        // The next instruction branches on these flags; nothing is emitted in between.
        fused_cc_ = cc;
        return;
    }
    as_.emit(ax::Inst::setccFromCond(cc), ax::al);
    ax::Gp d = def_after(i);
    as_.movzx(ax::gpd(d.id()), ax::al);
}

ax::CondCode BlockCompiler::branch_cond(ValueId cond) {
    if (flag_use_[cur_inst_] == kFlagBranch) return ax::CondCode(flag_cc_[cur_inst_]);
    if (fused_[canon(cond)]) return fused_cc_;
    test_cond(cond);
    return ax::CondCode::kNE;
}

void BlockCompiler::test_cond(ValueId cond) {
    Operand c = use_any(cond, 4, false);
    if (c.isReg()) {
        as_.test(c.as<ax::Gp>(), c.as<ax::Gp>());
    } else {
        as_.cmp(c.as<ax::Mem>(), 0);
    }
}

void BlockCompiler::emit_select(uint32_t i, const ir::Inst& in) {
    // rax = b; if (cond) rax = a. A constant condition was folded into an alias.
    Operand a = use_any(in.args[1], 8, false);
    load_to(ax::rax, in.args[2]);
    test_cond(in.args[0]);
    as_.emit(ax::Inst::kIdCmovnz, ax::rax, a);
    ax::Gp d = def_after(i);
    as_.mov(d, ax::rax);
}

void BlockCompiler::emit_addc(uint32_t i, const ir::Inst& in) {
    const Type t = type_of(in.args[0]);
    const unsigned bytes = type_bytes(t);
    if (flag_use_[i] == kFlagReuse) {
        // The same (a, b, cin) was just computed: rax holds the sum, the flags its carries.
        if (in.op != Opcode::AddWithCarry) {
            emit_flag_value(i);
            return;
        }
        ax::Gp d = def_after(i);
        if (bytes == 8) {
            as_.mov(d, ax::rax);
        } else if (bytes == 4) {
            as_.mov(ax::gpd(d.id()), ax::eax);
        } else {
            as_.movzx(ax::gpd(d.id()), gp_of(kRax, bytes));
        }
        return;
    }
    const bool cin_const = is_const(in.args[2]);
    const bool cin_one = cin_const && (const_of(in.args[2]) & 1);
    const ValueId x = absorbed_operand(in.args[1]);
    // a + ~x + 1 == a - x with the carry out inverted (x86 CF is the borrow).
    const bool sub = cin_one && (x != ir::kNoValue || is_const(in.args[1]));
    const ax::Gp ra = gp_of(kRax, bytes);
    if (sub) {
        Operand b;
        if (x != ir::kNoValue) {
            b = use_any(x, bytes);
        } else {
            const uint64_t k = ir::truncate(t, ~const_of(in.args[1]));
            switch (bytes) {
                case 1: b = Imm(int8_t(k)); break;
                case 2: b = Imm(int16_t(k)); break;
                case 4: b = Imm(int32_t(k)); break;
                default:
                    if (int64_t(k) == int64_t(int32_t(k))) {
                        b = Imm(int64_t(k));
                    } else {
                        mov_imm(ax::rcx, k);
                        b = ax::rcx;
                    }
                    break;
            }
        }
        if (flag_use_[i] == kFlagsOnly) {
            // Nobody reads the difference: compare instead (the same flags, no copy).
            as_.emit(ax::Inst::kIdCmp, gp_of(use_reg(in.args[0]).id(), bytes), b);
            return;
        }
        load_to(ax::rax, in.args[0]);
        as_.emit(ax::Inst::kIdSub, ra, b);
    } else {
        Operand b = use_any(in.args[1], bytes);
        load_to(ax::rax, in.args[0]);
        if (cin_const && !cin_one) {
            as_.emit(ax::Inst::kIdAdd, ra, b);
        } else {
            if (cin_one) {
                as_.stc();
            } else {
                Operand c = use_any(in.args[2], 4, false);
                as_.emit(ax::Inst::kIdBt, c, Imm(0));
            }
            as_.emit(ax::Inst::kIdAdc, ra, b);
        }
    }
    if (flag_use_[i] == kFlagsOnly) return;  // read from the flags (and rax) only
    ax::Gp d = def_after(i);
    if (in.op == Opcode::AddWithCarry) {
        if (bytes == 8) {
            as_.mov(d, ax::rax);
        } else if (bytes == 4) {
            as_.mov(ax::gpd(d.id()), ax::eax);
        } else {
            as_.movzx(ax::gpd(d.id()), ra);
        }
    } else {
        const ax::CondCode cc = in.op == Opcode::AddOverflow ? ax::CondCode::kO
                                : sub                        ? ax::CondCode::kAE
                                                             : ax::CondCode::kC;
        as_.emit(ax::Inst::setccFromCond(cc), ax::gpb(d.id()));
        as_.movzx(ax::gpd(d.id()), ax::gpb(d.id()));
    }
}

void BlockCompiler::emit_get_state(uint32_t i, const ir::Inst& in) {
    ax::Gp d = def_fresh(i);
    emit_state_access(d.id(), type_bytes(in.type), false, int32_t(in.imm));
}

void BlockCompiler::emit_set_state(const ir::Inst& in) {
    if (flag_use_[cur_inst_] == kFlagSetcc) {
        // The dword was zeroed before the flags were set (emit_prezero).
        const ax::CondCode cc = ax::CondCode(flag_cc_[canon(in.args[0])]);
        as_.emit(ax::Inst::setccFromCond(cc), ax::byte_ptr(ax::r15, int32_t(in.imm)));
        return;
    }
    const unsigned bytes = type_bytes(type_of(in.args[0]));
    Operand v = use_any(in.args[0], bytes);
    if (v.isMem()) v = gp_of(use_reg(in.args[0]).id(), bytes);  // no memory-to-memory mov
    if (v.isReg()) {
        emit_state_access(v.id(), bytes, true, int32_t(in.imm));
    } else {
        as_.emit(ax::Inst::kIdMov, ax::ptr(ax::r15, int32_t(in.imm), bytes), v);
    }
}

}  // namespace corvid::x64
