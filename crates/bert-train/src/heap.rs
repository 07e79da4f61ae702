//! Freed tensor buffers stay in the process heap instead of going back to the kernel.
//!
//! Every candle op on the CPU allocates its output. glibc's malloc serves allocations above its
//! mmap threshold (128 KiB, raised adaptively) with fresh `mmap`s and returns them with
//! `munmap`, so each activation of a base model (3 to 13 MB at batch 8, sequence 128) costs a
//! page fault and the zeroing of every page, every step: a quarter of a base step's CPU time
//! was the kernel's `clear_page` (`perf record` of `bert-train --model base --batch-size 8`).
//! [`keep_freed_buffers`] raises the mmap threshold to glibc's maximum (32 MiB) and the trim
//! threshold to 1 GiB, so freed buffers are reused by the next op. Peak memory is unchanged
//! (the buffers were live at once anyway); memory freed in bulk is still returned past 1 GiB.

/// Largest mmap threshold glibc accepts on 64-bit targets (`DEFAULT_MMAP_THRESHOLD_MAX`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;

/// Free memory at the top of the heap kept before it is returned to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Keeps freed buffers in the heap (glibc on Linux; elsewhere nothing to do). Returns whether
/// the settings were taken.
pub fn keep_freed_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before the threads
        // that allocate tensors start.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        let taken = super::keep_freed_buffers();
        assert_eq!(taken, cfg!(all(target_os = "linux", target_env = "gnu")));
    }
}
