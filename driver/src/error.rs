//! The errors the `vhost-hwsim` binary reports (exit status 1).

/// Errors the binary reports.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The server failed.
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    /// A socket the daemon would listen on is taken or cannot be created.
    #[error(transparent)]
    Socket(#[from] crate::socket_file::SocketError),
    /// An inherited socket (--socket-fd, socket activation) cannot be served.
    #[error(transparent)]
    ListenFd(#[from] crate::listen_fd::ListenFdError),
    /// A request to a running daemon's control socket failed.
    #[error(transparent)]
    Control(#[from] crate::control::RequestError),
    /// I/O on the file or socket the message names.
    #[error("{what}: {source}")]
    Io {
        /// The option and path, e.g. `--out docs/per-vs-snr.svg`.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The demo failed.
    #[error("demo: {0}")]
    Demo(String),
    /// A configuration file is missing or invalid; the message starts with its option and
    /// path (`--config FILE: line 3, column 1: …`).
    #[error("{0}")]
    Config(String),
    /// The daemon refused a request.
    #[error("refused: {0}")]
    Refused(String),
}
