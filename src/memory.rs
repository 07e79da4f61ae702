//! Allocator settings for the build.
//!
//! A build allocates and frees tens of megabytes per row group (padded columns, Parquet
//! levels and pages, compressed chunks), on several threads at once. glibc's malloc serves
//! blocks that large with `mmap` and returns them with `munmap`, so every row group would
//! fault its buffers in afresh, and with two or more threads the page faults contend in the
//! kernel. [`keep_freed_memory`] raises the thresholds so these blocks come from, and go back
//! to, malloc's own heaps for reuse, and has each heap keep what it grew to: the pool threads'
//! heaps would otherwise be unmapped or trimmed whenever a row group's buffers were freed, and
//! fault in again for the next one. Peak memory stays bounded by the build's own bounds (units
//! and row groups in flight): a heap keeps only what it once held.

/// Largest block malloc still serves from its heaps (glibc's maximum on 64-bit targets).
const MMAP_THRESHOLD: i32 = 32 << 20;

/// Free memory at the top of a heap that malloc keeps instead of returning it: enough for the
/// next row group's buffers, small enough that what each thread's heap keeps stays bounded
/// over a long build (a larger value let peak RSS creep up with the corpus).
const TRIM_THRESHOLD: i32 = 16 << 20;

/// Memory a heap keeps above its top allocation when it shrinks (and adds when it grows). As
/// large as a thread's heap can be (64 MiB), so the pool threads' heaps are never deleted or
/// trimmed; the main heap keeps 64 MiB of freed memory.
const TOP_PAD: i32 = 64 << 20;

/// Applies the settings above, once per process; does nothing on other C libraries.
pub fn keep_freed_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes malloc's tuning parameters; it is thread-safe and takes
        // no pointers.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
        }
    });
}
