//! Linear memory: 64 KiB copy-on-write pages, each carrying the Merkle subtree of its 32-byte
//! leaves, with per-leaf dirty bits.
//!
//! Consensus format (see [`crate::merkle`]): memory of `P` pages is a tree of height `11 + ceil(log2 P)`
//! over 32-byte leaves; page `i` is the subtree of height 11 at position `i`; pages past `P` (up to the
//! next power of two) are zero. Growing memory never changes existing leaves, only the tree height.
//!
//! Costs: a store writes bytes and sets a dirty bit; `root()` re-hashes only dirty leaves' paths
//! (pages in parallel with rayon when many are dirty). A snapshot clones the page table, not the
//! pages: the first store to a shared page after a snapshot copies that one page.

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::merkle::{hash_pair, height_for, zero_hashes, Hash};
use crate::Trap;

pub const PAGE_SIZE: usize = 65536;
pub const LEAF_SIZE: usize = 32;
const LEAVES_PER_PAGE: usize = PAGE_SIZE / LEAF_SIZE;
/// Height of one page's subtree.
pub const PAGE_HEIGHT: usize = 11;
/// Dirty pages above which re-hashing fans out over threads.
const PARALLEL_PAGES: usize = 4;

#[derive(Clone)]
pub(crate) struct Page {
    bytes: [u8; PAGE_SIZE],
    /// Inner nodes, heap layout: `nodes[1]` is the page root; leaves are the bytes themselves.
    nodes: [Hash; LEAVES_PER_PAGE],
    dirty: [u64; LEAVES_PER_PAGE / 64],
    any_dirty: bool,
}

impl Page {
    fn zero() -> Arc<Page> {
        static ZERO: OnceLock<Arc<Page>> = OnceLock::new();
        ZERO.get_or_init(|| {
            let z = zero_hashes();
            let mut nodes = [[0u8; 32]; LEAVES_PER_PAGE];
            for (i, node) in nodes.iter_mut().enumerate().skip(1) {
                let depth = (usize::BITS - 1 - i.leading_zeros()) as usize;
                *node = z[PAGE_HEIGHT - depth];
            }
            Arc::new(Page {
                bytes: [0; PAGE_SIZE],
                nodes,
                dirty: [0; LEAVES_PER_PAGE / 64],
                any_dirty: false,
            })
        })
        .clone()
    }

    #[inline(always)]
    fn mark(&mut self, offset: usize, len: usize) {
        let first = offset / LEAF_SIZE;
        let last = (offset + len - 1) / LEAF_SIZE;
        if first == last {
            self.dirty[first / 64] |= 1 << (first % 64);
        } else {
            // Every leaf of a long write (host calls, segment initialisation), not just its ends.
            for leaf in first..=last {
                self.dirty[leaf / 64] |= 1 << (leaf % 64);
            }
        }
        self.any_dirty = true;
    }

    fn leaf(&self, leaf: usize) -> Hash {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.bytes[leaf * LEAF_SIZE..(leaf + 1) * LEAF_SIZE]);
        out
    }

    fn node(&self, index: usize) -> Hash {
        if index >= LEAVES_PER_PAGE {
            self.leaf(index - LEAVES_PER_PAGE)
        } else {
            self.nodes[index]
        }
    }

    fn rehash(&mut self) {
        let mut level: Vec<usize> = Vec::new();
        for (w, bits) in self.dirty.iter_mut().enumerate() {
            let mut b = std::mem::take(bits);
            while b != 0 {
                level.push(LEAVES_PER_PAGE + w * 64 + b.trailing_zeros() as usize);
                b &= b - 1;
            }
        }
        while !level.is_empty() && level[0] > 1 {
            let mut parents: Vec<usize> = level.iter().map(|i| i / 2).collect();
            parents.dedup();
            for &p in &parents {
                self.nodes[p] = hash_pair(&self.node(2 * p), &self.node(2 * p + 1));
            }
            level = parents;
        }
        self.any_dirty = false;
    }

    fn root(&self) -> Hash {
        self.nodes[1]
    }

    /// Sibling hashes from leaf `leaf` up to the page root (bottom first).
    fn path(&self, leaf: usize) -> Vec<Hash> {
        let mut out = Vec::with_capacity(PAGE_HEIGHT);
        let mut i = LEAVES_PER_PAGE + leaf;
        while i > 1 {
            out.push(self.node(i ^ 1));
            i /= 2;
        }
        out
    }
}

/// Whether `slot` is the only handle to its page, so the page may be written in place.
///
/// Nearly every store finds its page private: checking that is two plain loads, where
/// `Arc::make_mut` is an out-of-line atomic compare-and-swap (12% of the interpreter's time on
/// memory-heavy loops when every store went through it).
#[inline(always)]
fn is_private(slot: &Arc<Page>) -> bool {
    Arc::strong_count(slot) == 1 && Arc::weak_count(slot) == 0
}

/// The page behind a private `slot` (see [`is_private`]).
#[inline(always)]
fn private_page(slot: &mut Arc<Page>) -> &mut Page {
    debug_assert!(is_private(slot));
    // Another thread's earlier drop of a clone must happen before our writes.
    std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
    // SAFETY: the caller saw `slot` as the only strong reference with no weak one (pages are
    // never downgraded), and holds it by `&mut`: no other handle can reach the page, and none
    // can be made while this borrow lives. That is `Arc::get_mut`'s condition, read without its
    // lock because no `Weak` to race with can exist.
    unsafe { &mut *Arc::as_ptr(slot).cast_mut() }
}

/// The page behind `slot`, made private first if a snapshot shares it (copy on write).
#[inline(always)]
fn page_mut(slot: &mut Arc<Page>) -> &mut Page {
    if is_private(slot) {
        private_page(slot)
    } else {
        make_private(slot)
    }
}

/// The copy of a shared page (out of line: once per page and snapshot).
#[cold]
#[inline(never)]
fn make_private(slot: &mut Arc<Page>) -> &mut Page {
    Arc::make_mut(slot)
}

#[derive(Clone)]
pub struct Memory {
    pages: Vec<Arc<Page>>,
    max_pages: u32,
    /// Tree over page roots, heap layout, sized to the next power of two of the page count.
    top: Vec<Hash>,
    top_height: usize,
    top_valid: bool,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Memory({} pages, max {})",
            self.pages.len(),
            self.max_pages
        )
    }
}

impl Memory {
    pub fn new(pages: u32, max_pages: u32) -> Memory {
        Memory {
            pages: vec![Page::zero(); pages as usize],
            max_pages,
            top: Vec::new(),
            top_height: 0,
            top_valid: false,
        }
    }

    pub fn max_pages(&self) -> u32 {
        self.max_pages
    }

    pub fn pages(&self) -> u32 {
        self.pages.len() as u32
    }

    pub fn size(&self) -> u64 {
        self.pages.len() as u64 * PAGE_SIZE as u64
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` past the maximum.
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = old.checked_add(delta).filter(|n| *n <= self.max_pages)?;
        self.pages.resize(new as usize, Page::zero());
        if delta > 0 {
            self.top_valid = false;
        }
        Some(old)
    }

    #[inline(always)]
    fn check(&self, addr: u64, len: usize) -> Result<(), Trap> {
        match addr.checked_add(len as u64) {
            Some(end) if end <= self.size() => Ok(()),
            _ => Err(Trap::MemoryOutOfBounds),
        }
    }

    #[inline(always)]
    pub fn load<const N: usize>(&self, addr: u64) -> Result<[u8; N], Trap> {
        self.check(addr, N)?;
        Ok(self
            .load_in_page(addr)
            .unwrap_or_else(|| self.load_straddling(addr)))
    }

    /// A load across a page boundary: rare, and kept out of line so the common path stays small
    /// (the interpreter inlines it into every load op).
    #[cold]
    #[inline(never)]
    fn load_straddling<const N: usize>(&self, addr: u64) -> [u8; N] {
        let mut out = [0u8; N];
        self.read_unchecked(addr, &mut out);
        out
    }

    #[inline(always)]
    pub fn store<const N: usize>(&mut self, addr: u64, value: [u8; N]) -> Result<(), Trap> {
        self.check(addr, N)?;
        if !self.store_in_private_page(addr, value) {
            self.store_slow(addr, value);
        }
        Ok(())
    }

    /// A store to a page a snapshot shares (copied first) or across a page boundary, out of line
    /// (see [`Memory::load_straddling`]).
    #[cold]
    #[inline(never)]
    fn store_slow<const N: usize>(&mut self, addr: u64, value: [u8; N]) {
        self.write_unchecked(addr, &value);
    }

    /// The common load: the `N` bytes at `addr` if they lie inside memory and inside one page,
    /// else `None` (the threaded interpreter then lets the loop take [`Memory::load`]). Nothing here calls
    /// out, so the handler that inlines it keeps its registers.
    #[inline(always)]
    pub(crate) fn load_in_page<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let (page, offset) = ((addr >> 16) as usize, (addr & 0xffff) as usize);
        // A page that exists and an access that stays in it: inside memory.
        let page = self.pages.get(page)?;
        let bytes = page.bytes.get(offset..offset + N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Some(out)
    }

    /// The common store: writes and returns `true` if the `N` bytes at `addr` lie inside memory,
    /// inside one page, and that page is already private; else changes nothing and returns
    /// `false` (the threaded interpreter then lets the loop take [`Memory::store`]).
    #[inline(always)]
    pub(crate) fn store_in_private_page<const N: usize>(
        &mut self,
        addr: u64,
        value: [u8; N],
    ) -> bool {
        let (page, offset) = ((addr >> 16) as usize, (addr & 0xffff) as usize);
        match self.pages.get_mut(page) {
            Some(slot) if offset + N <= PAGE_SIZE && is_private(slot) => {
                let page = private_page(slot);
                page.bytes[offset..offset + N].copy_from_slice(&value);
                page.mark(offset, N);
                true
            }
            _ => false,
        }
    }

    /// Bounds-checked bulk read (host calls, bulk ops, tests).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        self.check(addr, buf.len())?;
        self.read_unchecked(addr, buf);
        Ok(())
    }

    /// Bounds-checked bulk write.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Trap> {
        self.check(addr, data.len())?;
        self.write_unchecked(addr, data);
        Ok(())
    }

    fn read_unchecked(&self, mut addr: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let (page, offset) = ((addr >> 16) as usize, (addr & 0xffff) as usize);
            let n = (PAGE_SIZE - offset).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&self.pages[page].bytes[offset..offset + n]);
            done += n;
            addr += n as u64;
        }
    }

    fn write_unchecked(&mut self, mut addr: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let (page, offset) = ((addr >> 16) as usize, (addr & 0xffff) as usize);
            let n = (PAGE_SIZE - offset).min(data.len() - done);
            let p = page_mut(&mut self.pages[page]);
            p.bytes[offset..offset + n].copy_from_slice(&data[done..done + n]);
            p.mark(offset, n);
            done += n;
            addr += n as u64;
        }
    }

    /// Copies within memory with `memmove` semantics (both ranges already checked by the caller).
    pub fn copy_within(&mut self, src: u64, dst: u64, len: usize) -> Result<(), Trap> {
        // Bulk-copy steps move at most one leaf: keep that path free of allocation.
        let mut small = [0u8; LEAF_SIZE];
        let mut large = Vec::new();
        let buf = if len <= LEAF_SIZE {
            &mut small[..len]
        } else {
            large.resize(len, 0);
            &mut large[..]
        };
        self.read(src, buf)?;
        self.write(dst, buf)
    }

    /// Height of the whole memory tree (leaves to root).
    pub fn tree_height(&self) -> usize {
        PAGE_HEIGHT + height_for(self.pages.len() as u64)
    }

    /// The Merkle root, re-hashing only what changed since the last call.
    pub fn root(&mut self) -> Hash {
        let dirty = self.pages.iter().filter(|p| p.any_dirty).count();
        if dirty >= PARALLEL_PAGES {
            self.pages
                .par_iter_mut()
                .filter(|p| p.any_dirty)
                .for_each(|p| Arc::make_mut(p).rehash());
        } else if dirty > 0 {
            self.pages
                .iter_mut()
                .filter(|p| p.any_dirty)
                .for_each(|p| Arc::make_mut(p).rehash());
        }
        if dirty > 0 || !self.top_valid {
            self.rebuild_top();
        }
        self.top[1]
    }

    fn rebuild_top(&mut self) {
        let height = height_for(self.pages.len() as u64);
        let leaves = 1usize << height;
        let zero_page = zero_hashes()[PAGE_HEIGHT];
        self.top.clear();
        self.top.resize(2 * leaves, [0; 32]);
        for i in 0..leaves {
            self.top[leaves + i] = self.pages.get(i).map_or(zero_page, |p| p.root());
        }
        for i in (1..leaves).rev() {
            self.top[i] = hash_pair(&self.top[2 * i], &self.top[2 * i + 1]);
        }
        self.top_height = height;
        self.top_valid = true;
    }

    /// The 32-byte leaf containing `addr` and its sibling path to the memory root (bottom first).
    /// Calls [`Memory::root`] first so the tree is current.
    pub fn leaf_proof(&mut self, addr: u64) -> Option<(Hash, Vec<Hash>)> {
        if addr >= self.size() {
            return None;
        }
        self.root();
        let (page, offset) = ((addr >> 16) as usize, (addr & 0xffff) as usize);
        let p = &self.pages[page];
        let mut path = p.path(offset / LEAF_SIZE);
        let mut i = (1usize << self.top_height) + page;
        while i > 1 {
            path.push(self.top[i ^ 1]);
            i /= 2;
        }
        Some((p.leaf(offset / LEAF_SIZE), path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root computed from scratch over every leaf: the reference the incremental tree must match.
    fn naive_root(mem: &Memory) -> Hash {
        let height = mem.tree_height();
        let mut level: Vec<Hash> = (0..1usize << height)
            .map(|leaf| {
                let addr = (leaf * LEAF_SIZE) as u64;
                let mut out = [0u8; 32];
                if addr < mem.size() {
                    mem.read(addr, &mut out).unwrap();
                }
                out
            })
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
        }
        level[0]
    }

    #[test]
    fn incremental_root_matches_naive_root() {
        let mut mem = Memory::new(3, 10);
        assert_eq!(mem.root(), naive_root(&mem));
        mem.store::<4>(65534, [1, 2, 3, 4]).unwrap(); // crosses a page boundary
        mem.store::<8>(31, [9; 8]).unwrap(); // crosses a leaf boundary
        assert_eq!(mem.root(), naive_root(&mem));
        let snapshot = mem.clone();
        mem.grow(2).unwrap();
        mem.store::<1>(4 * 65536 + 5, [7]).unwrap();
        assert_eq!(mem.root(), naive_root(&mem));
        // The snapshot kept its own content and root.
        let mut snap = snapshot;
        assert_eq!(snap.root(), naive_root(&snap));
        assert_eq!(snap.load::<1>(4 * 65536 + 5), Err(Trap::MemoryOutOfBounds));
    }

    /// Regression: a write spanning many leaves marked only its first and last leaf dirty, so the
    /// root missed the middle of host-call writes and data segments. Found by the one-step proofs.
    #[test]
    fn long_writes_rehash_every_leaf() {
        let mut mem = Memory::new(2, 2);
        mem.root();
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8 + 1).collect();
        mem.write(65536 - 1000, &bytes).unwrap();
        assert_eq!(mem.root(), naive_root(&mem));
    }

    /// Golden vector for the memory tree: two pages, one word written.
    #[test]
    fn golden_memory_root() {
        let mut mem = Memory::new(2, 2);
        mem.store::<4>(65536 + 40, 0xdead_beefu32.to_le_bytes())
            .unwrap();
        let root = mem.root();
        let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "41744e42fa28afea35865b8a18aa47db475de88f519af3ef08ffef7178c859ab"
        );
        assert_eq!(mem.tree_height(), 12);
    }

    #[test]
    fn out_of_bounds_traps() {
        let mut mem = Memory::new(1, 1);
        assert_eq!(mem.load::<4>(65533), Err(Trap::MemoryOutOfBounds));
        assert_eq!(
            mem.store::<8>(u64::MAX - 2, [0; 8]),
            Err(Trap::MemoryOutOfBounds)
        );
        assert_eq!(mem.grow(1), None);
        assert_eq!(mem.grow(0), Some(1));
    }

    #[test]
    fn leaf_proof_verifies() {
        let mut mem = Memory::new(5, 5);
        mem.store::<4>(3 * 65536 + 100, [1, 2, 3, 4]).unwrap();
        let root = mem.root();
        let addr = 3 * 65536 + 100;
        let (leaf, path) = mem.leaf_proof(addr).unwrap();
        let mut node = leaf;
        let mut index = addr as usize / LEAF_SIZE;
        for sibling in &path {
            node = if index.is_multiple_of(2) {
                hash_pair(&node, sibling)
            } else {
                hash_pair(sibling, &node)
            };
            index /= 2;
        }
        assert_eq!(node, root);
        assert_eq!(path.len(), mem.tree_height());
    }
}
