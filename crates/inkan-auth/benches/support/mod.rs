//! What the inkan-auth benches share: the clock that measures a thread's CPU time, which a
//! shared machine disturbs far less than wall-clock time.

use std::time::Duration;

/// CPU time the current thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}
