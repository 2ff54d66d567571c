//! The `select!` macro: crossbeam-channel's syntax over [`Select`](super::Select).

/// Waits on several channel operations, completes the first one ready (a random one among
/// several) and runs its branch; crossbeam-channel's syntax and meaning.
///
/// ```text
/// select! {
///     recv(r) -> msg => body,          // msg: Result<T, RecvError> (Err: disconnected)
///     send(s, value) -> res => body,   // res: Result<(), SendError<T>>; `value` is evaluated
///                                      //   only if this send is chosen
///     default => body,                 // optional: nothing ready now: don't wait
///     default(timeout) => body,        //   or: nothing ready within `timeout`
/// }
/// ```
///
/// A channel whose other side is gone counts as ready: its branch runs with the error. A
/// body is an expression followed by a comma, or a block (comma optional). Without `default`,
/// the select waits: a green thread parks once, whatever the number of branches; an OS thread
/// blocks. `r` and `s` may be channel ends or references to them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::channel::{bounded, select, unbounded};
///
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// rt.block_on(|| {
///     let (tx1, rx1) = unbounded::<i32>();
///     let (tx2, rx2) = bounded::<i32>(0);
///     spindle::spawn(move || tx1.send(1).unwrap());
///     // Waits for the message on rx1; the send on tx2 cannot go (nobody receives).
///     let got = select! {
///         recv(rx1) -> msg => msg.unwrap(),
///         send(tx2, 2) -> res => { res.unwrap(); unreachable!() }
///     };
///     assert_eq!(got, 1);
///     // Nothing is ready: the default branch runs at once.
///     let what = select! {
///         recv(rx2) -> _ => "message",
///         default => "nothing",
///     };
///     assert_eq!(what, "nothing");
///     // The sender of rx1 is gone: its branch is ready with an error.
///     select! {
///         recv(rx1) -> msg => assert!(msg.is_err()),
///         default(Duration::from_secs(5)) => unreachable!(),
///     }
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__spindle_select!(@parse [] () $($tokens)*)
    };
}

/// The workings of [`select!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __spindle_select {
    // Parsing, one branch at a time: [operations] (default) rest.
    (@parse $ops:tt $def:tt , $($rest:tt)*) => {
        $crate::__spindle_select!(@parse $ops $def $($rest)*)
    };
    (@parse [$($ops:tt)*] $def:tt
        recv($r:expr) -> $res:pat => $body:block $($rest:tt)*) => {
        $crate::__spindle_select!(@parse [$($ops)* (recv ($r) ($res) ($body))] $def $($rest)*)
    };
    (@parse [$($ops:tt)*] $def:tt
        recv($r:expr) -> $res:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__spindle_select!(@parse [$($ops)* (recv ($r) ($res) ($body))] $def $($($rest)*)?)
    };
    (@parse [$($ops:tt)*] $def:tt
        send($s:expr, $m:expr) -> $res:pat => $body:block $($rest:tt)*) => {
        $crate::__spindle_select!(
            @parse [$($ops)* (send ($s) ($m) ($res) ($body))] $def $($rest)*
        )
    };
    (@parse [$($ops:tt)*] $def:tt
        send($s:expr, $m:expr) -> $res:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__spindle_select!(
            @parse [$($ops)* (send ($s) ($m) ($res) ($body))] $def $($($rest)*)?
        )
    };
    (@parse $ops:tt () default => $body:block $($rest:tt)*) => {
        $crate::__spindle_select!(@parse $ops (default () ($body)) $($rest)*)
    };
    (@parse $ops:tt () default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__spindle_select!(@parse $ops (default () ($body)) $($($rest)*)?)
    };
    (@parse $ops:tt () default($t:expr) => $body:block $($rest:tt)*) => {
        $crate::__spindle_select!(@parse $ops (default ($t) ($body)) $($rest)*)
    };
    (@parse $ops:tt () default($t:expr) => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__spindle_select!(@parse $ops (default ($t) ($body)) $($($rest)*)?)
    };
    (@parse $ops:tt ($($def:tt)+) default $($rest:tt)*) => {
        ::std::compile_error!("`select!` takes at most one `default` branch")
    };
    (@parse $ops:tt $def:tt) => {{
        let mut __sel = $crate::channel::Select::new();
        $crate::__spindle_select!(@add __sel $ops [] $def)
    }};
    (@parse $ops:tt $def:tt $($rest:tt)+) => {
        ::std::compile_error!(::std::concat!(
            "`select!`: expected `recv(r) -> pat => body`, `send(s, msg) -> pat => body` or ",
            "`default => body`, found: ",
            ::std::stringify!($($rest)+)
        ))
    };

    // Adding each operation, with its channel end bound once (a temporary lives on).
    (@add $sel:ident [(recv ($r:expr) ($res:pat) ($body:expr)) $($ops:tt)*]
        [$($done:tt)*] $def:tt) => {
        match $r {
            ref __r => {
                let __r: &$crate::channel::Receiver<_> = __r;
                let __i = $sel.recv(__r);
                $crate::__spindle_select!(
                    @add $sel [$($ops)*] [$($done)* (recv __i __r ($res) ($body))] $def
                )
            }
        }
    };
    (@add $sel:ident [(send ($s:expr) ($m:expr) ($res:pat) ($body:expr)) $($ops:tt)*]
        [$($done:tt)*] $def:tt) => {
        match $s {
            ref __s => {
                let __s: &$crate::channel::Sender<_> = __s;
                let __i = $sel.send(__s);
                $crate::__spindle_select!(
                    @add $sel [$($ops)*] [$($done)* (send __i __s ($m) ($res) ($body))] $def
                )
            }
        }
    };
    (@add $sel:ident [] $done:tt ()) => {{
        let __oper = $sel.select();
        let __index = __oper.index();
        $crate::__spindle_select!(@dispatch __oper __index $done)
    }};
    (@add $sel:ident [] $done:tt (default () ($body:expr))) => {
        match $sel.try_select() {
            ::std::result::Result::Ok(__oper) => {
                let __index = __oper.index();
                $crate::__spindle_select!(@dispatch __oper __index $done)
            }
            ::std::result::Result::Err(_) => $body,
        }
    };
    (@add $sel:ident [] $done:tt (default ($t:expr) ($body:expr))) => {
        match $sel.select_timeout($t) {
            ::std::result::Result::Ok(__oper) => {
                let __index = __oper.index();
                $crate::__spindle_select!(@dispatch __oper __index $done)
            }
            ::std::result::Result::Err(_) => $body,
        }
    };

    // Completing the chosen operation and running its branch.
    (@dispatch $oper:ident $index:ident
        [(recv $i:ident $r:ident ($res:pat) ($body:expr)) $($rest:tt)*]) => {
        if $index == $i {
            let $res = $oper.recv($r);
            $body
        } else {
            $crate::__spindle_select!(@dispatch $oper $index [$($rest)*])
        }
    };
    (@dispatch $oper:ident $index:ident
        [(send $i:ident $s:ident ($m:expr) ($res:pat) ($body:expr)) $($rest:tt)*]) => {
        if $index == $i {
            let $res = $oper.send($s, $m);
            $body
        } else {
            $crate::__spindle_select!(@dispatch $oper $index [$($rest)*])
        }
    };
    (@dispatch $oper:ident $index:ident []) => {{
        let _ = (&$oper, $index);
        ::std::unreachable!("select!: no such operation")
    }};
}
