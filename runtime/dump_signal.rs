//! `SPINDLE_DUMP_SIGNAL`: a runtime built while this environment variable names a signal
//! (`USR1`, `SIGUSR1` or its number) prints its task dump on stderr each time the process
//! receives that signal, and goes on. A thread per runtime waits for the signal (the
//! handler itself only wakes it: printing is not async-signal-safe).

use std::ffi::OsStr;
use std::io;
use std::thread;

use signal_hook::iterator::{Handle, Signals};

use crate::task::TaskDump;

/// The thread that prints the dump on the signal; stopped when dropped.
pub(crate) struct DumpOnSignal {
    handle: Handle,
    thread: Option<thread::JoinHandle<()>>,
}

impl DumpOnSignal {
    /// Starts the thread if `SPINDLE_DUMP_SIGNAL` is set; `dump` makes the dump to print.
    pub(crate) fn from_env(
        dump: impl Fn() -> Option<TaskDump> + Send + 'static,
    ) -> io::Result<Option<DumpOnSignal>> {
        let Some(value) = std::env::var_os("SPINDLE_DUMP_SIGNAL") else {
            return Ok(None);
        };
        let signal = parse(&value)?;
        let mut signals = Signals::new([signal]).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("SPINDLE_DUMP_SIGNAL={value:?}: cannot catch that signal: {e}"),
            )
        })?;
        let handle = signals.handle();
        let thread = thread::Builder::new()
            .name("spindle-dump".into())
            .spawn(move || {
                for _ in signals.forever() {
                    if let Some(d) = dump() {
                        eprintln!("{d}");
                    }
                }
            })?;
        Ok(Some(DumpOnSignal {
            handle,
            thread: Some(thread),
        }))
    }
}

impl Drop for DumpOnSignal {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `USR1`, `SIGUSR1`, `usr1` or `10` → the signal number.
fn parse(value: &OsStr) -> io::Result<libc::c_int> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("SPINDLE_DUMP_SIGNAL={value:?}: not a signal name (USR1, USR2, ...) or number"),
        )
    };
    let text = value.to_str().ok_or_else(bad)?.trim().to_ascii_uppercase();
    if let Ok(n) = text.parse::<libc::c_int>() {
        return Ok(n);
    }
    let name = text.strip_prefix("SIG").unwrap_or(&text);
    Ok(match name {
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "HUP" => libc::SIGHUP,
        "QUIT" => libc::SIGQUIT,
        "WINCH" => libc::SIGWINCH,
        "URG" => libc::SIGURG,
        "PWR" => libc::SIGPWR,
        "INFO" | "TSTP" => libc::SIGTSTP,
        _ => return Err(bad()),
    })
}
