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
//! and row groups in flight): a heap keeps only what it once held. Between the phases,
//! [`release_free_memory`] gives back what the spill phase freed, which the write phase's
//! differently sized buffers would not reuse.

/// Largest block malloc still serves from its heaps (glibc's maximum on 64-bit targets).
const MMAP_THRESHOLD: i32 = 32 << 20;

/// Free memory at the top of a heap above which malloc gives some back (keeping [`TOP_PAD`]).
const TRIM_THRESHOLD: i32 = 16 << 20;

/// Free memory a heap keeps at its top when it gives memory back. As large as a thread's heap
/// can be (64 MiB), so the pool threads' heaps are never deleted or trimmed; the main heap keeps
/// 64 MiB of what it freed. Without it, each row group's buffers faulted in afresh on the pool
/// threads (0.21 s of system time against 0.08 s in a two-thread build at 512).
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

/// Gives the memory malloc holds free back to the system (all heaps, also free pages inside
/// them); does nothing on other C libraries. For phase changes, whose next phase allocates
/// blocks of other sizes than the last one freed.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
