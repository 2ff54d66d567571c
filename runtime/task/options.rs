//! What a spawn asks of either backend: the task's name, whether it is a daemon, and the
//! size of its stack (already checked).

/// The options of one spawn, as `Builder::spawn` resolved them.
#[derive(Debug)]
pub(crate) struct SpawnOptions {
    pub(crate) name: Option<String>,
    pub(crate) daemon: bool,
    pub(crate) stack_size: usize,
}

impl SpawnOptions {
    /// The first task of a `block_on`: named `main`, not a daemon.
    pub(crate) fn first_task(stack_size: usize) -> SpawnOptions {
        SpawnOptions {
            name: Some("main".into()),
            daemon: false,
            stack_size,
        }
    }

    /// A task spawned with no options: unnamed, not a daemon.
    pub(crate) fn plain(stack_size: usize) -> SpawnOptions {
        SpawnOptions {
            name: None,
            daemon: false,
            stack_size,
        }
    }
}
