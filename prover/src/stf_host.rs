//! The STF guest's host: the `hauptbuch` imports, served by [`program::NativeAbi`] so that the
//! natively compiled ledger, wasmtime and the interpreter share one implementation of every call.
//!
//! Each call moves at most [`ledger::MAX_CHUNK`] bytes, so it is one bounded, provable step; a guest
//! asking for more traps with [`HostTrap::ChunkTooLarge`].

use program::ledger::{Abi, MAX_CHUNK};
use program::NativeAbi;
use vm::{FuncType, GuestMemory, Host, Trap, ValType, Value};

/// Host trap codes (what `Trap::Host(code)` carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HostTrap {
    ChunkTooLarge = 1,
    BadArgument = 2,
}

/// The imports, in id order.
const IMPORTS: &[(&str, &[ValType], &[ValType])] = {
    use ValType::{I32, I64};
    &[
        ("inbox_len", &[], &[I32]),
        ("read_inbox", &[I32, I32, I32], &[I32]),
        ("read_preimage", &[I32, I32, I32, I32], &[I64]),
        ("emit_node", &[I32, I32], &[]),
        ("write_output", &[I32, I32], &[]),
        ("keccak256", &[I32, I32, I32], &[]),
        ("ecrecover", &[I32, I32, I32], &[I32]),
    ]
};

pub const IMPORT_MODULE: &str = "hauptbuch";

pub struct StfHost {
    pub abi: NativeAbi,
    /// Calls served, per import (index as in [`IMPORT_NAMES`]): where the batch's work went.
    pub calls: [u64; IMPORTS.len()],
}

/// Import names in id order.
pub const IMPORT_NAMES: [&str; 7] = [
    "inbox_len",
    "read_inbox",
    "read_preimage",
    "emit_node",
    "write_output",
    "keccak256",
    "ecrecover",
];

fn u32_arg(args: &[Value], i: usize) -> Result<u32, Trap> {
    match args.get(i) {
        Some(Value::I32(v)) => Ok(*v as u32),
        _ => Err(Trap::Host(HostTrap::BadArgument as u32)),
    }
}

fn bounded(len: u32) -> Result<usize, Trap> {
    if len as usize > MAX_CHUNK {
        Err(Trap::Host(HostTrap::ChunkTooLarge as u32))
    } else {
        Ok(len as usize)
    }
}

fn read<const N: usize>(memory: &dyn GuestMemory, addr: u32) -> Result<[u8; N], Trap> {
    let mut out = [0u8; N];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

fn read_vec(memory: &dyn GuestMemory, addr: u32, len: u32) -> Result<Vec<u8>, Trap> {
    let mut out = vec![0u8; bounded(len)?];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

impl StfHost {
    pub fn new(abi: NativeAbi) -> StfHost {
        StfHost {
            abi,
            calls: [0; IMPORTS.len()],
        }
    }
}

impl Host for StfHost {
    fn resolve_func(&mut self, module: &str, name: &str, ty: &FuncType) -> Result<u32, String> {
        if module != IMPORT_MODULE {
            return Err(format!(
                "the STF host only provides `{IMPORT_MODULE}` imports"
            ));
        }
        let id = IMPORTS
            .iter()
            .position(|(n, _, _)| *n == name)
            .ok_or_else(|| format!("unknown import {name}"))?;
        let (_, params, results) = IMPORTS[id];
        if ty.params != params || ty.results != results {
            return Err(format!(
                "import {name} has type {ty}, expected {}",
                FuncType {
                    params: params.to_vec(),
                    results: results.to_vec()
                }
            ));
        }
        Ok(id as u32)
    }

    fn call(
        &mut self,
        id: u32,
        args: &[Value],
        memory: &mut dyn GuestMemory,
        results: &mut [Value],
    ) -> Result<(), Trap> {
        let arg = |i| u32_arg(args, i);
        if let Some(count) = self.calls.get_mut(id as usize) {
            *count += 1;
        }
        match id {
            0 => results[0] = Value::I32(self.abi.inbox_len() as i32),
            1 => {
                let (offset, ptr, len) = (arg(0)?, arg(1)?, arg(2)?);
                let mut buf = vec![0u8; bounded(len)?];
                let n = self.abi.read_inbox(offset, &mut buf) as usize;
                memory.write(ptr as u64, &buf[..n.min(buf.len())])?;
                results[0] = Value::I32(n as i32);
            }
            2 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let (offset, ptr, len) = (arg(1)?, arg(2)?, arg(3)?);
                let mut buf = vec![0u8; bounded(len)?];
                let total = self.abi.read_preimage(&hash, offset, &mut buf);
                if let Some(total) = total {
                    let n = (total.saturating_sub(offset) as usize).min(buf.len());
                    memory.write(ptr as u64, &buf[..n])?;
                }
                results[0] = Value::I64(total.map_or(-1, i64::from));
            }
            3 => {
                let node = read_vec(memory, arg(0)?, arg(1)?)?;
                self.abi.emit_node(&node);
            }
            4 => {
                let bytes = read_vec(memory, arg(0)?, arg(1)?)?;
                self.abi.write_output(&bytes);
            }
            5 => {
                let data = read_vec(memory, arg(0)?, arg(1)?)?;
                let hash = self.abi.keccak256(&data);
                memory.write(arg(2)? as u64, &hash)?;
            }
            6 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let sig = read::<65>(memory, arg(1)?)?;
                match self.abi.ecrecover(&hash, &sig) {
                    Some(address) => {
                        memory.write(arg(2)? as u64, &address)?;
                        results[0] = Value::I32(1);
                    }
                    None => results[0] = Value::I32(0),
                }
            }
            _ => return Err(Trap::Host(HostTrap::BadArgument as u32)),
        }
        Ok(())
    }
}
