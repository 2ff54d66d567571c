//! Where the runtime's warnings go: to the `tracing` subscriber if one is installed, else to
//! stderr (unless the runtime was built with `stderr_reports(false)`). The library prints
//! nothing else.

/// Which warning (its `tracing` target).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// A task ran too long without yielding (`spindle::stall`).
    Stall,
    /// Every task has been blocked for a long time (`spindle::stuck`).
    Stuck,
}

/// Reports `message` as a warning of `kind`.
pub(crate) fn warn(kind: Kind, stderr: bool, message: &str) {
    if tracing::dispatcher::has_been_set() {
        match kind {
            Kind::Stall => tracing::warn!(target: "spindle::stall", "{message}"),
            Kind::Stuck => tracing::warn!(target: "spindle::stuck", "{message}"),
        }
    } else if stderr {
        eprintln!("spindle: {message}");
    }
}
