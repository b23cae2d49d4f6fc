//! Translation: one validated function body -> lowered [`Op`]s appended to the module's flat code.
//!
//! wasmparser's `FuncValidator` runs alongside, so every operator is validated exactly once and its
//! operand-stack height is known; from it each branch gets its static drop/keep counts, and the
//! frame its maximum height (checked once per call instead of on every push).

use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};

use crate::code::{BinOp, BranchTarget, Op, Pc};
use crate::limits::{EXTRA_OPERAND_SLOTS, LOCALS_PER_STEP};
use crate::VmError;

pub(crate) struct LoweredFunction {
    pub entry: Pc,
    pub max_height: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Function,
    Block,
    Loop,
    If,
    Else,
}

/// A branch whose target is only known at the frame's `end`.
#[derive(Clone, Copy)]
enum Fixup {
    Code(usize),
    Table(usize),
}

struct ControlFrame {
    kind: FrameKind,
    /// Operand height below the frame's parameters.
    height: u32,
    params: u32,
    results: u32,
    loop_pc: Pc,
    end_fixups: Vec<Fixup>,
    /// The `BrUnless` of an `if`, patched at `else` (or `end` when there is none).
    else_fixup: Option<usize>,
    /// Entered from unreachable code: nothing inside is emitted.
    dead: bool,
}

/// The test a fused `br_if` takes over from the op before it.
#[derive(Clone, Copy)]
enum BranchTest {
    Eqz,
    Bin(BinOp),
}

fn invalid(e: impl std::fmt::Display) -> VmError {
    VmError::InvalidModule(e.to_string())
}

fn code_pc(code: &[Op]) -> Result<Pc, VmError> {
    Pc::try_from(code.len())
        .map_err(|_| VmError::LimitExceeded("lowered code exceeds 2^32 operations".into()))
}

struct Translator<'a> {
    code: &'a mut Vec<Op>,
    br_table: &'a mut Vec<BranchTarget>,
    frames: Vec<ControlFrame>,
    reachable: bool,
    function_results: u32,
    num_imported_funcs: u32,
    type_ids: &'a [u32],
    /// The last position a branch, call or skip can land on. Ops at or after it may fuse with the
    /// op being emitted; ops before it may not, or a jump would land inside a fused op.
    fence: usize,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn translate_function(
    validator: &mut FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    params: u32,
    results: u32,
    code: &mut Vec<Op>,
    br_table: &mut Vec<BranchTarget>,
    num_imported_funcs: u32,
    type_ids: &[u32],
) -> Result<LoweredFunction, VmError> {
    let mut locals_reader = body.get_locals_reader().map_err(invalid)?;
    let mut locals = params;
    for _ in 0..locals_reader.get_count() {
        let offset = locals_reader.original_position();
        let (count, ty) = locals_reader.read().map_err(invalid)?;
        validator
            .define_locals(offset, count, ty)
            .map_err(invalid)?;
        locals = locals
            .checked_add(count)
            .ok_or_else(|| VmError::LimitExceeded("more than 2^32 locals".into()))?;
    }
    let entry = code_pc(code)?;
    let mut zeros = locals - params;
    while zeros > 0 {
        let count = zeros.min(LOCALS_PER_STEP);
        code.push(Op::PushZeros { count });
        zeros -= count;
    }

    let mut t = Translator {
        code,
        br_table,
        frames: vec![ControlFrame {
            kind: FrameKind::Function,
            height: 0,
            params: 0,
            results,
            loop_pc: 0,
            end_fixups: Vec::new(),
            else_fixup: None,
            dead: false,
        }],
        reachable: true,
        function_results: results,
        num_imported_funcs,
        type_ids,
        fence: entry as usize,
    };
    let mut max_operands = 0u32;
    let mut ops = body.get_operators_reader().map_err(invalid)?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read().map_err(invalid)?;
        let height = validator.operand_stack_height();
        validator.op(offset, &op).map_err(invalid)?;
        max_operands = max_operands
            .max(validator.operand_stack_height())
            .max(height);
        t.lower(&op, height, validator)?;
    }
    ops.finish().map_err(invalid)?;
    let max_height = locals
        .checked_add(max_operands)
        .and_then(|h| h.checked_add(EXTRA_OPERAND_SLOTS))
        .ok_or_else(|| VmError::LimitExceeded("frame height exceeds 2^32".into()))?;
    Ok(LoweredFunction { entry, max_height })
}

impl Translator<'_> {
    fn emit(&mut self, op: Op) {
        let fused = match op {
            Op::LocalSet(dst) | Op::LocalTee(dst) => self.fuse_destination(op, dst),
            _ => BinOp::of(op).and_then(|bin| self.fuse_operands(bin)),
        };
        self.code.push(fused.unwrap_or(op));
        if matches!(op, Op::TableFillStep(_)) {
            // A failed `table.grow` skips its fill step and lands on the op after it.
            self.label_here();
        }
    }

    /// Marks the current position as one a jump can land on.
    fn label_here(&mut self) {
        self.fence = self.code.len();
    }

    /// The last `n` emitted ops, if a fused op may replace them (no jump lands after the first).
    fn fusable_tail(&self, n: usize) -> Option<&[Op]> {
        let start = self.code.len().checked_sub(n)?;
        (start >= self.fence).then(|| &self.code[start..])
    }

    /// Folds the operands a binary operator's pushes (`local.get`, `const`) just emitted into one
    /// fused op, removing them; `None` leaves the code as it is.
    fn fuse_operands(&mut self, bin: BinOp) -> Option<Op> {
        let (fused, consumed) = match self.fusable_tail(2) {
            Some(&[Op::LocalGet(local), Op::Const(imm)]) => (
                Op::LocalBinImm {
                    op: bin,
                    local,
                    imm,
                },
                2,
            ),
            Some(&[Op::LocalGet(a), Op::LocalGet(b)]) => (Op::LocalBinLocal { op: bin, a, b }, 2),
            _ => match *self.fusable_tail(1)? {
                [Op::Const(imm)] => (Op::BinImm { op: bin, imm }, 1),
                [Op::LocalGet(local)] => (Op::BinLocal { op: bin, local }, 1),
                _ => return None,
            },
        };
        self.code.truncate(self.code.len() - consumed);
        Some(fused)
    }

    /// Folds a `local.set` / `local.tee` (`store`) into the fused operator just emitted, removing
    /// it; `None` leaves the code as it is.
    fn fuse_destination(&mut self, store: Op, dst: u32) -> Option<Op> {
        let tee = matches!(store, Op::LocalTee(_));
        let fused = match *self.fusable_tail(1)? {
            [Op::BinImm { op, imm }] if tee => Op::BinImmTee { op, imm, dst },
            [Op::BinImm { op, imm }] => Op::BinImmSet { op, imm, dst },
            [Op::BinLocal { op, local }] if tee => Op::BinLocalTee { op, local, dst },
            [Op::BinLocal { op, local }] => Op::BinLocalSet { op, local, dst },
            [Op::LocalBinLocal { op, a, b }] if tee => Op::LocalBinLocalTee { op, a, b, dst },
            [Op::LocalBinLocal { op, a, b }] => Op::LocalBinLocalSet { op, a, b, dst },
            [Op::LocalBinImm { op, local, imm }] => {
                // 16 immediate bytes do not fit: only constants that survive 32 bits fuse.
                let short = imm as u32;
                if !op.takes_i32() && crate::code::imm32(short) != imm {
                    return None;
                }
                if tee {
                    Op::LocalBinImm32Tee {
                        op,
                        local,
                        imm: short,
                        dst,
                    }
                } else {
                    Op::LocalBinImm32Set {
                        op,
                        local,
                        imm: short,
                        dst,
                    }
                }
            }
            _ => return None,
        };
        self.code.pop();
        Some(fused)
    }

    /// Removes the i32 test just emitted (`i32.eqz`, or an operator with an i32 result) if the
    /// `br_if` about to be emitted can take it over.
    fn fuse_br_if(&mut self) -> Option<BranchTest> {
        let test = match *self.fusable_tail(1)? {
            [Op::I32Eqz] => BranchTest::Eqz,
            [op] => BranchTest::Bin(BinOp::of(op).filter(|b| b.yields_i32())?),
            _ => return None,
        };
        self.code.pop();
        Some(test)
    }

    fn pc(&self) -> Result<Pc, VmError> {
        code_pc(self.code)
    }

    fn block_arity(
        validator: &FuncValidator<ValidatorResources>,
        ty: BlockType,
    ) -> Result<(u32, u32), VmError> {
        use wasmparser::WasmModuleResources;
        Ok(match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let sub = validator
                    .resources()
                    .sub_type_at(index)
                    .ok_or_else(|| invalid("block type index"))?;
                let f = sub.unwrap_func();
                (f.params().len() as u32, f.results().len() as u32)
            }
        })
    }

    /// The branch to the frame `depth` levels out, taken with `height` operands on the stack.
    fn branch(
        &mut self,
        depth: u32,
        height: u32,
        site: Fixup,
    ) -> Result<Option<BranchTarget>, VmError> {
        let index = self
            .frames
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| invalid("branch depth"))?;
        let frame = &mut self.frames[index];
        let (arity, pc) = if frame.kind == FrameKind::Loop {
            (frame.params, Some(frame.loop_pc))
        } else {
            frame.end_fixups.push(site);
            (frame.results, None)
        };
        let drop = height
            .checked_sub(frame.height + arity)
            .ok_or_else(|| invalid("operand stack underflow at branch"))?;
        Ok(Some(BranchTarget {
            pc: pc.unwrap_or(Pc::MAX),
            drop,
            keep: arity,
        }))
    }

    fn push_frame(
        &mut self,
        kind: FrameKind,
        height: u32,
        params: u32,
        results: u32,
        dead: bool,
    ) -> Result<(), VmError> {
        let loop_pc = self.pc()?;
        // A loop's start is a branch target; a block's or if's is not, but fusing across the
        // start of a structured block would save nothing measurable.
        self.label_here();
        self.frames.push(ControlFrame {
            kind,
            height: height.saturating_sub(params),
            params,
            results,
            loop_pc,
            end_fixups: Vec::new(),
            else_fixup: None,
            dead,
        });
        Ok(())
    }

    fn patch(&mut self, fixup: Fixup, target: Pc) {
        match fixup {
            Fixup::Code(at) => match &mut self.code[at] {
                Op::Br(b) | Op::BrIf(b) | Op::BrIfEqz(b) | Op::BrIfBin { target: b, .. } => {
                    b.pc = target
                }
                Op::BrUnless { pc } => *pc = target,
                _ => unreachable!("fixup points at a non-branch"),
            },
            Fixup::Table(at) => self.br_table[at].pc = target,
        }
    }

    fn lower(
        &mut self,
        op: &Operator<'_>,
        height: u32,
        v: &FuncValidator<ValidatorResources>,
    ) -> Result<(), VmError> {
        use Operator as O;
        // Structure must be tracked even in unreachable code; nothing else is emitted there.
        match op {
            O::Block { blockty } | O::Loop { blockty } | O::If { blockty } => {
                let (params, results) = Self::block_arity(v, *blockty)?;
                if !self.reachable {
                    return self.push_frame(FrameKind::Block, 0, 0, 0, true);
                }
                match op {
                    O::Block { .. } => {
                        self.push_frame(FrameKind::Block, height, params, results, false)?
                    }
                    O::Loop { .. } => {
                        self.push_frame(FrameKind::Loop, height, params, results, false)?
                    }
                    _ => {
                        let at = self.code.len();
                        self.emit(Op::BrUnless { pc: Pc::MAX });
                        self.push_frame(FrameKind::If, height - 1, params, results, false)?;
                        if let Some(frame) = self.frames.last_mut() {
                            frame.else_fixup = Some(at);
                        }
                    }
                }
                return Ok(());
            }
            O::Else => {
                let frame = self
                    .frames
                    .last()
                    .ok_or_else(|| invalid("else without if"))?;
                if frame.dead {
                    return Ok(());
                }
                if self.reachable {
                    let at = self.code.len();
                    self.emit(Op::Br(BranchTarget {
                        pc: Pc::MAX,
                        drop: 0,
                        keep: 0,
                    }));
                    if let Some(frame) = self.frames.last_mut() {
                        frame.end_fixups.push(Fixup::Code(at));
                    }
                }
                let here = self.pc()?;
                self.label_here();
                let frame = self
                    .frames
                    .last_mut()
                    .ok_or_else(|| invalid("else without if"))?;
                frame.kind = FrameKind::Else;
                if let Some(at) = frame.else_fixup.take() {
                    self.patch(Fixup::Code(at), here);
                }
                self.reachable = true;
                return Ok(());
            }
            O::End => {
                let frame = self
                    .frames
                    .pop()
                    .ok_or_else(|| invalid("end without block"))?;
                if frame.dead {
                    return Ok(());
                }
                // Branches to the function frame land on its final `Return`.
                let here = self.pc()?;
                self.label_here();
                if frame.kind == FrameKind::Function {
                    self.emit(Op::Return {
                        results: self.function_results,
                    });
                }
                if let Some(at) = frame.else_fixup {
                    self.patch(Fixup::Code(at), here);
                }
                for fixup in frame.end_fixups {
                    self.patch(fixup, here);
                }
                self.reachable = true;
                return Ok(());
            }
            _ => {}
        }
        if !self.reachable {
            return Ok(());
        }
        let op = match *op {
            O::Unreachable => {
                self.reachable = false;
                Op::Unreachable
            }
            O::Nop => return Ok(()),
            O::Br { relative_depth } => {
                self.reachable = false;
                if relative_depth as usize == self.frames.len() - 1 {
                    Op::Return {
                        results: self.function_results,
                    }
                } else {
                    let site = Fixup::Code(self.code.len());
                    Op::Br(
                        self.branch(relative_depth, height, site)?
                            .ok_or_else(|| invalid("br"))?,
                    )
                }
            }
            O::BrIf { relative_depth } => {
                let test = self.fuse_br_if();
                let site = Fixup::Code(self.code.len());
                let target = self
                    .branch(relative_depth, height - 1, site)?
                    .ok_or_else(|| invalid("br_if"))?;
                match test {
                    None => Op::BrIf(target),
                    Some(BranchTest::Eqz) => Op::BrIfEqz(target),
                    Some(BranchTest::Bin(op)) => Op::BrIfBin { op, target },
                }
            }
            O::BrTable { ref targets } => {
                self.reachable = false;
                let start = u32::try_from(self.br_table.len())
                    .map_err(|_| VmError::LimitExceeded("branch tables".into()))?;
                let depths: Vec<u32> = targets
                    .targets()
                    .chain(std::iter::once(Ok(targets.default())))
                    .collect::<Result<_, _>>()
                    .map_err(invalid)?;
                for depth in &depths {
                    let site = Fixup::Table(self.br_table.len());
                    let target = if *depth as usize == self.frames.len() - 1 {
                        // A branch to the function frame is a return: jump to the final Return.
                        let frame = &mut self.frames[0];
                        frame.end_fixups.push(site);
                        BranchTarget {
                            pc: Pc::MAX,
                            drop: (height - 1) - frame.results,
                            keep: frame.results,
                        }
                    } else {
                        self.branch(*depth, height - 1, site)?
                            .ok_or_else(|| invalid("br_table"))?
                    };
                    self.br_table.push(target);
                }
                Op::BrTable {
                    start,
                    len: depths.len() as u32,
                }
            }
            O::Return => {
                self.reachable = false;
                Op::Return {
                    results: self.function_results,
                }
            }
            O::Call { function_index } => Op::Call {
                func: function_index,
            },
            O::CallIndirect {
                type_index,
                table_index,
            } => Op::CallIndirect {
                type_index: *self
                    .type_ids
                    .get(type_index as usize)
                    .ok_or_else(|| invalid("type index"))?,
                table: table_index,
            },
            O::Drop => Op::Drop,
            O::Select | O::TypedSelect { .. } => Op::Select,
            O::LocalGet { local_index } => Op::LocalGet(local_index),
            O::LocalSet { local_index } => Op::LocalSet(local_index),
            O::LocalTee { local_index } => Op::LocalTee(local_index),
            O::GlobalGet { global_index } => Op::GlobalGet(global_index),
            O::GlobalSet { global_index } => Op::GlobalSet(global_index),
            O::TableGet { table } => Op::TableGet(table),
            O::TableSet { table } => Op::TableSet(table),
            O::TableSize { table } => Op::TableSize(table),
            O::TableGrow { table } => {
                self.emit(Op::TableGrow(table));
                Op::TableFillStep(table)
            }
            O::TableFill { table } => {
                self.emit(Op::TableFillCheck(table));
                Op::TableFillStep(table)
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                self.emit(Op::TableCopyCheck {
                    dst: dst_table,
                    src: src_table,
                });
                Op::TableCopyStep {
                    dst: dst_table,
                    src: src_table,
                }
            }
            O::TableInit { elem_index, table } => {
                self.emit(Op::TableInitCheck {
                    table,
                    elem: elem_index,
                });
                Op::TableInitStep {
                    table,
                    elem: elem_index,
                }
            }
            O::ElemDrop { elem_index } => Op::ElemDrop(elem_index),
            O::I32Load { memarg } | O::F32Load { memarg } => Op::I32Load(memarg.offset as u32),
            O::I64Load { memarg } | O::F64Load { memarg } => Op::I64Load(memarg.offset as u32),
            O::I32Load8S { memarg } => Op::I32Load8S(memarg.offset as u32),
            O::I32Load8U { memarg } => Op::I32Load8U(memarg.offset as u32),
            O::I32Load16S { memarg } => Op::I32Load16S(memarg.offset as u32),
            O::I32Load16U { memarg } => Op::I32Load16U(memarg.offset as u32),
            O::I64Load8S { memarg } => Op::I64Load8S(memarg.offset as u32),
            O::I64Load8U { memarg } => Op::I64Load8U(memarg.offset as u32),
            O::I64Load16S { memarg } => Op::I64Load16S(memarg.offset as u32),
            O::I64Load16U { memarg } => Op::I64Load16U(memarg.offset as u32),
            O::I64Load32S { memarg } => Op::I64Load32S(memarg.offset as u32),
            O::I64Load32U { memarg } => Op::I64Load32U(memarg.offset as u32),
            O::I32Store { memarg } | O::F32Store { memarg } => Op::I32Store(memarg.offset as u32),
            O::I64Store { memarg } | O::F64Store { memarg } => Op::I64Store(memarg.offset as u32),
            O::I32Store8 { memarg } => Op::I32Store8(memarg.offset as u32),
            O::I32Store16 { memarg } => Op::I32Store16(memarg.offset as u32),
            O::I64Store8 { memarg } => Op::I64Store8(memarg.offset as u32),
            O::I64Store16 { memarg } => Op::I64Store16(memarg.offset as u32),
            O::I64Store32 { memarg } => Op::I64Store32(memarg.offset as u32),
            O::MemorySize { .. } => Op::MemorySize,
            O::MemoryGrow { .. } => Op::MemoryGrow,
            O::MemoryFill { .. } => {
                self.emit(Op::MemoryFillCheck);
                Op::MemoryFillStep
            }
            O::MemoryCopy { .. } => {
                self.emit(Op::MemoryCopyCheck);
                Op::MemoryCopyStep
            }
            O::MemoryInit { data_index, .. } => {
                self.emit(Op::MemoryInitCheck(data_index));
                Op::MemoryInitStep(data_index)
            }
            O::DataDrop { data_index } => Op::DataDrop(data_index),
            O::I32Const { value } => Op::Const(value as u32 as u64),
            O::I64Const { value } => Op::Const(value as u64),
            O::F32Const { value } => Op::Const(value.bits() as u64),
            O::F64Const { value } => Op::Const(value.bits()),
            O::RefNull { .. } => Op::Const(crate::value::NULL_REF),
            O::RefIsNull => Op::I64Eqz,
            O::RefFunc { function_index } => {
                Op::Const(crate::Value::FuncRef(Some(function_index)).to_word())
            }
            // Reinterpretations do not change the word.
            O::I32ReinterpretF32
            | O::I64ReinterpretF64
            | O::F32ReinterpretI32
            | O::F64ReinterpretI64 => return Ok(()),
            ref other => numeric(other).ok_or_else(|| VmError::UnsupportedFeature {
                feature: "operator",
                detail: format!("{other:?} is not supported"),
            })?,
        };
        // Calls to imported functions are resolved here: the index space puts imports first.
        let op = match op {
            Op::Call { func } if func < self.num_imported_funcs => Op::CallHost { func },
            other => other,
        };
        self.emit(op);
        Ok(())
    }
}

fn numeric(op: &Operator<'_>) -> Option<Op> {
    use Operator as O;
    Some(match op {
        O::I32Eqz => Op::I32Eqz,
        O::I32Eq => Op::I32Eq,
        O::I32Ne => Op::I32Ne,
        O::I32LtS => Op::I32LtS,
        O::I32LtU => Op::I32LtU,
        O::I32GtS => Op::I32GtS,
        O::I32GtU => Op::I32GtU,
        O::I32LeS => Op::I32LeS,
        O::I32LeU => Op::I32LeU,
        O::I32GeS => Op::I32GeS,
        O::I32GeU => Op::I32GeU,
        O::I64Eqz => Op::I64Eqz,
        O::I64Eq => Op::I64Eq,
        O::I64Ne => Op::I64Ne,
        O::I64LtS => Op::I64LtS,
        O::I64LtU => Op::I64LtU,
        O::I64GtS => Op::I64GtS,
        O::I64GtU => Op::I64GtU,
        O::I64LeS => Op::I64LeS,
        O::I64LeU => Op::I64LeU,
        O::I64GeS => Op::I64GeS,
        O::I64GeU => Op::I64GeU,
        O::F32Eq => Op::F32Eq,
        O::F32Ne => Op::F32Ne,
        O::F32Lt => Op::F32Lt,
        O::F32Gt => Op::F32Gt,
        O::F32Le => Op::F32Le,
        O::F32Ge => Op::F32Ge,
        O::F64Eq => Op::F64Eq,
        O::F64Ne => Op::F64Ne,
        O::F64Lt => Op::F64Lt,
        O::F64Gt => Op::F64Gt,
        O::F64Le => Op::F64Le,
        O::F64Ge => Op::F64Ge,
        O::I32Clz => Op::I32Clz,
        O::I32Ctz => Op::I32Ctz,
        O::I32Popcnt => Op::I32Popcnt,
        O::I32Add => Op::I32Add,
        O::I32Sub => Op::I32Sub,
        O::I32Mul => Op::I32Mul,
        O::I32DivS => Op::I32DivS,
        O::I32DivU => Op::I32DivU,
        O::I32RemS => Op::I32RemS,
        O::I32RemU => Op::I32RemU,
        O::I32And => Op::I32And,
        O::I32Or => Op::I32Or,
        O::I32Xor => Op::I32Xor,
        O::I32Shl => Op::I32Shl,
        O::I32ShrS => Op::I32ShrS,
        O::I32ShrU => Op::I32ShrU,
        O::I32Rotl => Op::I32Rotl,
        O::I32Rotr => Op::I32Rotr,
        O::I64Clz => Op::I64Clz,
        O::I64Ctz => Op::I64Ctz,
        O::I64Popcnt => Op::I64Popcnt,
        O::I64Add => Op::I64Add,
        O::I64Sub => Op::I64Sub,
        O::I64Mul => Op::I64Mul,
        O::I64DivS => Op::I64DivS,
        O::I64DivU => Op::I64DivU,
        O::I64RemS => Op::I64RemS,
        O::I64RemU => Op::I64RemU,
        O::I64And => Op::I64And,
        O::I64Or => Op::I64Or,
        O::I64Xor => Op::I64Xor,
        O::I64Shl => Op::I64Shl,
        O::I64ShrS => Op::I64ShrS,
        O::I64ShrU => Op::I64ShrU,
        O::I64Rotl => Op::I64Rotl,
        O::I64Rotr => Op::I64Rotr,
        O::F32Abs => Op::F32Abs,
        O::F32Neg => Op::F32Neg,
        O::F32Ceil => Op::F32Ceil,
        O::F32Floor => Op::F32Floor,
        O::F32Trunc => Op::F32Trunc,
        O::F32Nearest => Op::F32Nearest,
        O::F32Sqrt => Op::F32Sqrt,
        O::F32Add => Op::F32Add,
        O::F32Sub => Op::F32Sub,
        O::F32Mul => Op::F32Mul,
        O::F32Div => Op::F32Div,
        O::F32Min => Op::F32Min,
        O::F32Max => Op::F32Max,
        O::F32Copysign => Op::F32Copysign,
        O::F64Abs => Op::F64Abs,
        O::F64Neg => Op::F64Neg,
        O::F64Ceil => Op::F64Ceil,
        O::F64Floor => Op::F64Floor,
        O::F64Trunc => Op::F64Trunc,
        O::F64Nearest => Op::F64Nearest,
        O::F64Sqrt => Op::F64Sqrt,
        O::F64Add => Op::F64Add,
        O::F64Sub => Op::F64Sub,
        O::F64Mul => Op::F64Mul,
        O::F64Div => Op::F64Div,
        O::F64Min => Op::F64Min,
        O::F64Max => Op::F64Max,
        O::F64Copysign => Op::F64Copysign,
        O::I32WrapI64 => Op::I32WrapI64,
        O::I32TruncF32S => Op::I32TruncF32S,
        O::I32TruncF32U => Op::I32TruncF32U,
        O::I32TruncF64S => Op::I32TruncF64S,
        O::I32TruncF64U => Op::I32TruncF64U,
        O::I64ExtendI32S => Op::I64ExtendI32S,
        O::I64ExtendI32U => Op::I64ExtendI32U,
        O::I64TruncF32S => Op::I64TruncF32S,
        O::I64TruncF32U => Op::I64TruncF32U,
        O::I64TruncF64S => Op::I64TruncF64S,
        O::I64TruncF64U => Op::I64TruncF64U,
        O::F32ConvertI32S => Op::F32ConvertI32S,
        O::F32ConvertI32U => Op::F32ConvertI32U,
        O::F32ConvertI64S => Op::F32ConvertI64S,
        O::F32ConvertI64U => Op::F32ConvertI64U,
        O::F32DemoteF64 => Op::F32DemoteF64,
        O::F64ConvertI32S => Op::F64ConvertI32S,
        O::F64ConvertI32U => Op::F64ConvertI32U,
        O::F64ConvertI64S => Op::F64ConvertI64S,
        O::F64ConvertI64U => Op::F64ConvertI64U,
        O::F64PromoteF32 => Op::F64PromoteF32,
        O::I32Extend8S => Op::I32Extend8S,
        O::I32Extend16S => Op::I32Extend16S,
        O::I64Extend8S => Op::I64Extend8S,
        O::I64Extend16S => Op::I64Extend16S,
        O::I64Extend32S => Op::I64Extend32S,
        O::I32TruncSatF32S => Op::I32TruncSatF32S,
        O::I32TruncSatF32U => Op::I32TruncSatF32U,
        O::I32TruncSatF64S => Op::I32TruncSatF64S,
        O::I32TruncSatF64U => Op::I32TruncSatF64U,
        O::I64TruncSatF32S => Op::I64TruncSatF32S,
        O::I64TruncSatF32U => Op::I64TruncSatF32U,
        O::I64TruncSatF64S => Op::I64TruncSatF64S,
        O::I64TruncSatF64U => Op::I64TruncSatF64U,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::code::{BinOp, BranchTarget, Op};
    use crate::{Machine, Module, NoImports, RunOutcome, Value};

    /// Fusion is consensus: which runs fuse is part of the lowered code the module hash commits to.
    /// `local.get 0` before the loop must not fuse with the `i32.const 1; i32.add` that a branch
    /// lands on; inside the loop every pattern fuses, results stored by `local.set`/`local.tee` too.
    const LOOP: &str = r#"(module
        (func (export "count") (param i32) (result i32) (local i32)
          (local.get 0)
          (loop (param i32) (result i32)
            (i32.const 1)
            (i32.add)
            (local.set 1)
            (local.get 1)
            (local.get 1)
            (local.get 0)
            (i32.lt_u)
            (br_if 0)
            (drop)
            (local.get 1)
            (local.get 1)
            (i32.const 3)
            (i32.shl)
            (i32.eqz)
            (br_if 0)
            (drop)
            (local.set 0 (i32.add (local.get 1) (i32.const -7)))
            (local.tee 1 (i32.sub (local.get 1) (local.get 0))))))"#;

    #[test]
    fn fuses_operands_and_tests_but_never_across_a_label() {
        let module = Module::new(&wat::parse_str(LOOP).unwrap()).unwrap();
        let back = |drop| BranchTarget {
            pc: 2,
            drop,
            keep: 1,
        };
        assert_eq!(
            module.code,
            vec![
                Op::PushZeros { count: 1 },
                Op::LocalGet(0),
                Op::BinImmSet {
                    op: BinOp::I32Add,
                    imm: 1,
                    dst: 1
                },
                Op::LocalGet(1),
                Op::LocalBinLocal {
                    op: BinOp::I32LtU,
                    a: 1,
                    b: 0
                },
                Op::BrIf(back(0)),
                Op::Drop,
                Op::LocalGet(1),
                Op::LocalBinImm {
                    op: BinOp::I32Shl,
                    local: 1,
                    imm: 3
                },
                Op::BrIfEqz(back(0)),
                Op::Drop,
                Op::LocalBinImm32Set {
                    op: BinOp::I32Add,
                    local: 1,
                    imm: -7i32 as u32,
                    dst: 0,
                },
                Op::LocalBinLocalTee {
                    op: BinOp::I32Sub,
                    a: 1,
                    b: 0,
                    dst: 1
                },
                Op::Return { results: 1 },
            ]
        );
        let mut m = Machine::instantiate(module, &mut NoImports, 1000).unwrap();
        m.invoke("count", &[Value::I32(5)]).unwrap();
        assert_eq!(
            m.run(&mut NoImports, 1000),
            RunOutcome::Finished(vec![Value::I32(7)])
        );
    }

    /// An i64 constant fuses with a destination only if it survives 32 bits (sign-extended).
    #[test]
    fn wide_constants_keep_their_own_store() {
        let wat = r#"(module
            (func (export "f") (param i64) (result i64) (local i64)
              (local.set 1 (i64.add (local.get 0) (i64.const 0x100000000)))
              (local.tee 1 (i64.add (local.get 1) (i64.const -5)))))"#;
        let module = Module::new(&wat::parse_str(wat).unwrap()).unwrap();
        assert_eq!(
            module.code,
            vec![
                Op::PushZeros { count: 1 },
                Op::LocalBinImm {
                    op: BinOp::I64Add,
                    local: 0,
                    imm: 0x1_0000_0000
                },
                Op::LocalSet(1),
                Op::LocalBinImm32Tee {
                    op: BinOp::I64Add,
                    local: 1,
                    imm: -5i32 as u32,
                    dst: 1
                },
                Op::Return { results: 1 },
            ]
        );
        let mut m = Machine::instantiate(module, &mut NoImports, 1000).unwrap();
        m.invoke("f", &[Value::I64(3)]).unwrap();
        let expected = 3i64 + 0x1_0000_0000 - 5;
        assert_eq!(
            m.run(&mut NoImports, 1000),
            RunOutcome::Finished(vec![Value::I64(expected)])
        );
    }
}
