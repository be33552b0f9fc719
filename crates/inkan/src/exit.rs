//! Exit codes, from one enum: 0 everything checked passes, 1 a check failed or found problems,
//! 2 usage or operational error.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything checked passes (0).
    Pass,
    /// A check failed or found problems (1).
    Findings,
    /// Usage or operational error (2).
    Error,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(match exit {
            Exit::Pass => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        })
    }
}

/// True when the error is a write to a closed pipe (`inkan ... | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
