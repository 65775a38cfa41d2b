//! The plugin's heap: a bump arena, for a plugin that lives for one call.
//!
//! The kernel makes a fresh instance for every call and throws it away after, so a
//! check's memory never needs to be reused: the arena hands out memory by moving a
//! pointer, and freeing is a no-op — except for the most recent allocation, which
//! is given back (and a `Vec` or `String` that grows at the end of the arena grows
//! in place, without copying). When every allocation has been freed the arena
//! starts over, so an instance called again (the kernel's benchmarks do) does not
//! grow without end.
//!
//! The arena takes its memory from the system allocator (wasi-libc's `malloc`,
//! which starts in the heap the plugin was linked with) in chunks of
//! [`CHUNK`] bytes; allocations larger than a quarter chunk go to the system
//! allocator directly. Everything is deterministic: the same calls get the same
//! addresses, so a check burns the same fuel every time.
//!
//! The cost: memory freed out of order stays used until the call ends. A plugin
//! that frees and allocates far more than it keeps during one check (megabytes of
//! short-lived temporaries) can build the SDK without its default `arena` feature
//! to use wasi-libc's `malloc` alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;

/// Bytes the arena takes from the system allocator at a time.
pub const CHUNK: usize = 256 * 1024;

/// Larger allocations (or larger alignments) bypass the arena.
const LARGE: usize = CHUNK / 4;
const MAX_ALIGN: usize = 4096;

/// Each chunk starts with the address of the chunk before it (0 for the first).
const HEADER: usize = 16;

fn chunk_layout() -> Layout {
    // CHUNK and 16 make a valid layout.
    Layout::from_size_align(CHUNK, HEADER).unwrap_or_else(|_| unreachable!())
}

fn large(layout: &Layout) -> bool {
    layout.size() > LARGE || layout.align() > MAX_ALIGN
}

struct State {
    /// The current chunk (0 before the first allocation).
    chunk: usize,
    /// The next free byte and the end of the current chunk.
    next: usize,
    end: usize,
    /// Start of the most recent allocation, while it is the last thing in the chunk.
    last: usize,
    /// Arena allocations not yet freed.
    live: usize,
}

/// The arena; a wasm32 plugin is single-threaded.
pub struct Arena {
    state: UnsafeCell<State>,
}

// SAFETY: the component model runs one call at a time in an instance, and the
// allocator is only installed on wasm without atomics (no threads).
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Arena {
        Arena { state: UnsafeCell::new(State { chunk: 0, next: 0, end: 0, last: 0, live: 0 }) }
    }
}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

impl State {
    /// Room for `layout` in the current chunk, or in a new one.
    unsafe fn bump(&mut self, layout: Layout) -> *mut u8 {
        let mut at = (self.next + layout.align() - 1) & !(layout.align() - 1);
        if self.chunk == 0 || at.checked_add(layout.size()).is_none_or(|e| e > self.end) {
            // SAFETY: a non-zero size.
            let fresh = unsafe { System.alloc(chunk_layout()) } as usize;
            if fresh == 0 {
                return std::ptr::null_mut();
            }
            // SAFETY: the chunk is ours and at least HEADER bytes long.
            unsafe { (fresh as *mut usize).write(self.chunk) };
            self.chunk = fresh;
            self.end = fresh + CHUNK;
            at = (fresh + HEADER + layout.align() - 1) & !(layout.align() - 1);
        }
        self.next = at + layout.size();
        self.last = at;
        self.live += 1;
        at as *mut u8
    }

    /// Everything is free: give back every chunk but the current one and start over.
    unsafe fn reset(&mut self) {
        // SAFETY: the header of every chunk holds the previous chunk's address.
        let mut older = unsafe { (self.chunk as *const usize).read() };
        while older != 0 {
            let before = unsafe { (older as *const usize).read() };
            unsafe { System.dealloc(older as *mut u8, chunk_layout()) };
            older = before;
        }
        unsafe { (self.chunk as *mut usize).write(0) };
        self.next = self.chunk + HEADER;
        self.last = 0;
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if large(&layout) {
            return unsafe { System.alloc(layout) };
        }
        // SAFETY: single-threaded (see `Sync`), and the allocator is not re-entered.
        unsafe { (*self.state.get()).bump(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large(&layout) {
            return unsafe { System.dealloc(ptr, layout) };
        }
        let s = unsafe { &mut *self.state.get() };
        s.live -= 1;
        if s.live == 0 {
            unsafe { s.reset() };
        } else if ptr as usize == s.last && s.last + layout.size() == s.next {
            s.next = s.last;
            s.last = 0;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's layout was valid and `new_size`, rounded up to its
        // alignment, does not overflow (GlobalAlloc::realloc's contract).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !large(&layout) && !large(&new) {
            let s = unsafe { &mut *self.state.get() };
            if ptr as usize == s.last && s.last.checked_add(new_size).is_some_and(|e| e <= s.end) {
                s.next = s.last + new_size;
                return ptr;
            }
        }
        if large(&layout) && large(&new) {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let moved = unsafe { self.alloc(new) };
        if !moved.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        moved
    }
}

// Only where wasm has no threads (wasm32-wasip2; not a target with shared memory
// and atomics, where `Sync` above would not hold).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics"), feature = "arena"))]
#[global_allocator]
static ARENA: Arena = Arena::new();

#[cfg(test)]
mod tests {
    use super::*;

    fn l(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    /// Allocations are aligned, distinct, and the last one grows and shrinks in
    /// place; freeing everything starts over at the same address.
    #[test]
    fn bumps_grows_in_place_and_starts_over() {
        let a = Arena::new();
        unsafe {
            let x = a.alloc(l(10, 1));
            let y = a.alloc(l(24, 8));
            assert_eq!(y as usize % 8, 0);
            assert!(y as usize >= x as usize + 10);
            let y2 = a.realloc(y, l(24, 8), 4000);
            assert_eq!(y2, y, "the last allocation grows in place");
            let z = a.alloc(l(8, 8));
            assert!(z as usize >= y as usize + 4000);
            // y is no longer last: growing it moves it and keeps its bytes.
            y.write(7);
            let y3 = a.realloc(y, l(4000, 8), 5000);
            assert_ne!(y3, y);
            assert_eq!(y3.read(), 7);
            for (p, lay) in [(x, l(10, 1)), (z, l(8, 8)), (y3, l(5000, 8))] {
                a.dealloc(p, lay);
            }
            assert_eq!(a.alloc(l(10, 1)), x, "everything freed: the arena starts over");
        }
    }

    /// Past a chunk the arena takes another; large allocations bypass it; the
    /// chunks are given back when everything is freed.
    #[test]
    fn chunks_and_large_allocations() {
        let a = Arena::new();
        unsafe {
            let mut ps = Vec::new();
            for _ in 0..40 {
                let p = a.alloc(l(LARGE, 16));
                assert!(!p.is_null());
                p.write_bytes(1, LARGE);
                ps.push(p);
            }
            let big = a.alloc(l(LARGE + 1, 16));
            big.write_bytes(2, LARGE + 1);
            a.dealloc(big, l(LARGE + 1, 16));
            for p in ps.iter().rev() {
                assert_eq!(p.read(), 1);
                a.dealloc(*p, l(LARGE, 16));
            }
            assert_eq!((*a.state.get()).live, 0);
            assert_eq!(((*a.state.get()).chunk as *const usize).read(), 0, "one chunk kept");
        }
    }
}
