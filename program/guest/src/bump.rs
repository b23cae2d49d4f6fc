//! A bump allocator: a batch is bounded (see `ledger::Config`) and the guest runs once per batch,
//! so never freeing is both the simplest and the cheapest in steps.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

const PAGE: usize = 65536;

pub struct Bump {
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

// The guest is single-threaded.
unsafe impl Sync for Bump {}

impl Bump {
    pub const fn new() -> Bump {
        Bump { next: UnsafeCell::new(0), end: UnsafeCell::new(0) }
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let next = &mut *self.next.get();
        let end = &mut *self.end.get();
        let align = layout.align();
        let mut start = (*next + align - 1) & !(align - 1);
        if start.checked_add(layout.size()).is_none_or(|stop| stop > *end) {
            let pages = (layout.size() + align).div_ceil(PAGE).max(1);
            let old = core::arch::wasm32::memory_grow(0, pages);
            if old == usize::MAX {
                return core::ptr::null_mut();
            }
            let region = old * PAGE;
            if region != *end {
                // Not contiguous with what we had (first allocation): start in the new region.
                start = (region + align - 1) & !(align - 1);
            }
            *end = region + pages * PAGE;
        }
        *next = start + layout.size();
        start as *mut u8
    }

    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}
