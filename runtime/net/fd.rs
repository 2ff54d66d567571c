//! The descriptor access (`AsRawFd`, `AsFd`) and the `Debug` output that every socket type
//! implements the same way, through the socket in its `io` field.

/// Implements `AsRawFd`, `AsFd` and `Debug` for socket types with an `io: Io<_>` field.
macro_rules! fd_impls {
    ($($t:ty),*) => {$(
        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&self.io.sock)
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.io.sock)
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &std::os::fd::AsRawFd::as_raw_fd(&self.io.sock))
                    .field("local", &self.io.sock.local_addr().ok())
                    .finish_non_exhaustive()
            }
        }
    )*};
}

pub(super) use fd_impls;
