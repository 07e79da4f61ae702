//! Tensor buffers reused from step to step instead of faulted in afresh.
//!
//! Every candle op on the CPU allocates its output, and a training step allocates and frees the
//! same large tensors every step (a base model at batch 8, sequence 512: 12.6 MB hidden states,
//! 50 MB feed-forward activations, 100 MB attention scores, each layer, both ways). glibc's
//! malloc serves blocks above 32 MiB with `mmap` whatever its settings, so each such buffer
//! costs page faults and the kernel's zeroing of every page, every time: at sequence 512 a fifth
//! of a step was `clear_page` (`perf record`), 29 M page faults in a four-step run.
//!
//! [`BufferCache`] is the trainer's global allocator: blocks of 32 MiB and more are rounded up
//! to a size class (eight per power of two, so at most 12.5% larger) and, when freed, kept on
//! that class's free list (up to [`cache_limit`] bytes in all, a quarter of the machine's
//! memory) for the next allocation of the class; everything else goes to the system allocator.
//! A reused block asked for zeroed is cleared with `memset`, faster than faulting in fresh
//! pages. Between a step's forward and backward passes [`release_cached`] gives back what the
//! forward pass left, which would otherwise sit idle through the backward pass (at batch 8,
//! sequence 512 it took the peak from 13.0 to 11.6 GiB; the cache still holds what the
//! backward pass frees and does not reuse, 9.06 against 8.01 GiB at batch 32, sequence 128).
//! Smaller blocks stay in glibc's heaps, whose thresholds [`keep_freed_buffers`] raises so that
//! they are reused rather than unmapped or trimmed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Blocks from this size on go through the cache.
const LARGE: usize = 32 << 20;

/// Size classes per power of two.
const STEPS: usize = 8;

/// Powers of two the classes cover, from [`LARGE`] (32 MiB to 2 TiB).
const OCTAVES: usize = 16;

/// Bytes of freed blocks the cache holds at most, when the machine's memory is unknown.
const DEFAULT_LIMIT: usize = 4 << 30;

/// Bytes of freed blocks the cache holds at most (a quarter of the machine's memory); past it
/// freed blocks go back to the system.
pub fn cache_limit() -> usize {
    static LIMIT: AtomicUsize = AtomicUsize::new(0);
    let limit = LIMIT.load(Ordering::Relaxed);
    if limit != 0 {
        return limit;
    }
    // SAFETY: sysconf reads system constants; it allocates nothing.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let limit = if pages > 0 && page > 0 {
        (pages as usize).saturating_mul(page as usize) / 4
    } else {
        DEFAULT_LIMIT
    };
    LIMIT.store(limit, Ordering::Relaxed);
    limit
}

/// Alignment of every cached block, so that any of a class serves any request (candle's and
/// gemm's ask for at most 64).
const ALIGN: usize = 64;

/// The global allocator of `bert-train`: [`System`] with freed large blocks kept for reuse.
pub struct BufferCache;

/// Free lists, one per class: each free block holds the address of the next in its first word.
struct FreeLists {
    heads: [usize; STEPS * OCTAVES],
    bytes: usize,
}

static FREE: Mutex<FreeLists> = Mutex::new(FreeLists {
    heads: [0; STEPS * OCTAVES],
    bytes: 0,
});

/// The class of a block of `layout` and the size every block of the class has, or `None` when
/// the block bypasses the cache.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size();
    if size < LARGE || layout.align() > ALIGN {
        return None;
    }
    let octave = (usize::BITS - 1 - size.leading_zeros()) as usize; // 2^octave <= size
    let base = 1usize << octave;
    let step = base / STEPS;
    let k = (size - base).div_ceil(step); // 0..=STEPS
    let (octave, k) = if k == STEPS {
        (octave + 1, 0)
    } else {
        (octave, k)
    };
    let index = (octave - LARGE.trailing_zeros() as usize) * STEPS + k;
    (index < STEPS * OCTAVES).then(|| (index, class_size(index)))
}

/// The size of every block of class `index`.
fn class_size(index: usize) -> usize {
    let base = LARGE << (index / STEPS);
    base + (index % STEPS) * (base / STEPS)
}

fn lists() -> std::sync::MutexGuard<'static, FreeLists> {
    FREE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl BufferCache {
    /// A block of `class` (of `bytes` bytes) from its free list, if one is there.
    fn take(class: usize, bytes: usize) -> *mut u8 {
        let mut free = lists();
        let head = free.heads[class];
        if head != 0 {
            // SAFETY: a block on a free list is ours, at least a word long and aligned; its
            // first word holds the next free block's address.
            free.heads[class] = unsafe { *(head as *const usize) };
            free.bytes -= bytes;
        }
        head as *mut u8
    }

    /// Keeps a freed block of `class` (of `bytes` bytes); false when the cache is full.
    fn keep(ptr: *mut u8, class: usize, bytes: usize) -> bool {
        let mut free = lists();
        if free.bytes + bytes > cache_limit() {
            return false;
        }
        // SAFETY: the block is freed by its owner, so its first word is ours to write.
        unsafe { *(ptr as *mut usize) = free.heads[class] };
        free.heads[class] = ptr as usize;
        free.bytes += bytes;
        true
    }

    /// Gives every cached block back to the system.
    fn release_all() {
        loop {
            let class = {
                let free = lists();
                (0..free.heads.len()).find(|&c| free.heads[c] != 0)
            };
            let Some(class) = class else {
                return;
            };
            let bytes = class_size(class);
            let block = Self::take(class, bytes);
            if !block.is_null() {
                // SAFETY: the block came from `System` with its class size and `ALIGN`.
                unsafe { System.dealloc(block, Layout::from_size_align_unchecked(bytes, ALIGN)) };
            }
        }
    }

    /// For `layout`: a cached block (null if none), and the layout to ask the system for.
    fn cached(layout: Layout) -> (*mut u8, Layout) {
        match class_of(layout) {
            None => (std::ptr::null_mut(), layout),
            Some((class, bytes)) => (
                Self::take(class, bytes),
                // SAFETY: `ALIGN` is a power of two and class sizes are far below isize::MAX.
                unsafe { Layout::from_size_align_unchecked(bytes, ALIGN) },
            ),
        }
    }

    /// Bytes of freed blocks held now.
    pub fn cached_bytes() -> usize {
        lists().bytes
    }
}

// SAFETY: every block comes from `System` with the layout it is given back with: cached blocks
// always with their class size and `ALIGN`, the rest with the caller's layout.
unsafe impl GlobalAlloc for BufferCache {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match Self::cached(layout) {
            (ptr, _) if !ptr.is_null() => ptr,
            (_, system) => System.alloc(system),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match Self::cached(layout) {
            (ptr, _) if !ptr.is_null() => {
                ptr.write_bytes(0, layout.size());
                ptr
            }
            (_, system) => System.alloc_zeroed(system),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            None => System.dealloc(ptr, layout),
            Some((class, bytes)) => {
                if !Self::keep(ptr, class, bytes) {
                    System.dealloc(ptr, Layout::from_size_align_unchecked(bytes, ALIGN));
                }
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (class_of(layout), class_of(new_layout)) {
            (None, None) => System.realloc(ptr, layout, new_size),
            (Some((a, _)), Some((b, _))) if a == b => ptr,
            _ => {
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
}

/// Gives the blocks the cache holds back to the system. A training step calls it between its
/// forward and backward passes: the blocks left then are of sizes the forward pass did not ask
/// for, and kept through the backward pass they would add to the process's peak.
pub fn release_cached() {
    BufferCache::release_all();
}

/// Largest mmap threshold glibc accepts on 64-bit targets (`DEFAULT_MMAP_THRESHOLD_MAX`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;

/// Free memory a glibc heap keeps at its top before returning any to the kernel: never.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = libc::c_int::MAX;

/// Free memory a glibc heap keeps at its top when it grows.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD: libc::c_int = 64 << 20;

/// Keeps blocks below [`LARGE`] in glibc's heaps too (elsewhere nothing to do): serves them
/// from the heap whatever their size, and never trims a heap. Returns whether glibc took the
/// settings.
pub fn keep_freed_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it takes no pointers.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
                && libc::mallopt(libc::M_TOP_PAD, TOP_PAD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_takes_the_settings() {
        let taken = keep_freed_buffers();
        assert_eq!(taken, cfg!(all(target_os = "linux", target_env = "gnu")));
    }

    #[test]
    fn classes_hold_their_sizes_within_an_eighth() {
        let layout = |size| Layout::from_size_align(size, 8).unwrap();
        assert_eq!(class_of(layout(LARGE - 1)), None);
        assert_eq!(
            class_of(Layout::from_size_align(LARGE, 4096).unwrap()),
            None
        );
        assert_eq!(class_of(layout(LARGE)), Some((0, LARGE)));
        assert_eq!(class_of(layout(LARGE + 1)), Some((1, LARGE + LARGE / 8)));
        assert_eq!(class_of(layout(2 * LARGE - 1)), Some((STEPS, 2 * LARGE)));
        let mut last = 0;
        for size in (LARGE..64 * LARGE).step_by(4099) {
            let (class, bytes) = class_of(layout(size)).unwrap();
            assert!(
                bytes >= size && bytes - size <= size / STEPS,
                "{size} in {bytes}"
            );
            assert!(class >= last);
            last = class;
        }
        assert_eq!(class_of(layout(1 << 50)), None);
    }

    #[test]
    fn freed_blocks_are_reused_and_zeroed_when_asked() {
        let cache = BufferCache;
        // A class no other test allocates from (the cache is shared by the test threads).
        let layout = Layout::from_size_align(3 * LARGE + 12345, 16).unwrap();
        // SAFETY: the blocks are written within their layout and freed with it.
        unsafe {
            let a = cache.alloc(layout);
            assert!(!a.is_null() && (a as usize).is_multiple_of(ALIGN));
            a.write_bytes(7, layout.size());
            cache.dealloc(a, layout);
            let b = cache.alloc_zeroed(layout);
            assert_eq!(a, b);
            let bytes = std::slice::from_raw_parts(b, layout.size());
            assert!(bytes.iter().all(|&x| x == 0));
            let c = cache.realloc(b, layout, layout.size() + 1000);
            assert_eq!(b, c, "same class: the block itself");
            let bigger = cache.realloc(c, layout, 10 * LARGE);
            assert_ne!(bigger, c);
            assert!(std::slice::from_raw_parts(bigger, layout.size())
                .iter()
                .all(|&x| x == 0));
            cache.dealloc(bigger, Layout::from_size_align(10 * LARGE, 16).unwrap());
        }
        assert!(BufferCache::cached_bytes() <= cache_limit());
        release_cached();
        assert_eq!(BufferCache::cached_bytes(), 0);
        assert!(cache_limit() >= 1 << 20);
    }
}
