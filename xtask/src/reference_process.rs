//! How the benchmarks start a reference server: its command line, bound to
//! 127.0.0.1 on a port the kernel picks, and the first line it prints, which
//! names the address it listens on.
//!
//! `cargo xtask faults` (async, watching the server's log for fired faults)
//! and `cargo xtask bench` (blocking, measuring the process) both start the
//! server from here, so they agree on what "started" means.

use std::path::Path;
use std::process::{Command, Stdio};

/// A command that runs the reference server `binary` on 127.0.0.1, port 0,
/// with no fault switched on by the environment, logging at `log_level`,
/// its stdout piped for the listening line.
pub fn command(binary: &Path, log_level: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["--host", "127.0.0.1", "--port", "0"])
        .env_remove("APPMIXER_REFERENCE_FAULTS")
        .env("RUST_LOG", log_level)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    command
}

/// The base URL in a reference server's first line,
/// `appmixer-reference listening on http://127.0.0.1:PORT`.
///
/// Only loopback addresses are accepted: the benchmarks must never aim at
/// another host.
pub fn parse_listening_line(line: &str) -> Option<String> {
    let (_, rest) = line.split_once(" listening on ")?;
    let url = rest.trim();
    let authority = url.strip_prefix("http://")?;
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    (host == "127.0.0.1" && port != 0).then(|| format!("http://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_gives_the_loopback_url() {
        let line = "appmixer-reference listening on http://127.0.0.1:41234";

        assert_eq!(
            parse_listening_line(line).as_deref(),
            Some("http://127.0.0.1:41234")
        );
    }

    #[test]
    fn listening_line_tolerates_trailing_whitespace() {
        let line = "appmixer-reference listening on http://127.0.0.1:2200  \r";

        assert_eq!(
            parse_listening_line(line).as_deref(),
            Some("http://127.0.0.1:2200")
        );
    }

    #[test]
    fn listening_line_on_another_host_is_refused() {
        assert_eq!(
            parse_listening_line("x listening on http://0.0.0.0:2200"),
            None
        );
        assert_eq!(
            parse_listening_line("x listening on http://10.1.2.3:2200"),
            None
        );
    }

    #[test]
    fn other_lines_are_not_listening_lines() {
        assert_eq!(parse_listening_line("phase 1/9: target"), None);
        assert_eq!(
            parse_listening_line("x listening on http://127.0.0.1:0"),
            None
        );
        assert_eq!(
            parse_listening_line("x listening on http://127.0.0.1:port"),
            None
        );
    }

    #[test]
    fn the_command_binds_loopback_and_clears_the_fault_variable() {
        let command = command(Path::new("appmixer-reference"), "warn");

        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, ["--host", "127.0.0.1", "--port", "0"]);
        let removed = command
            .get_envs()
            .any(|(name, value)| name == "APPMIXER_REFERENCE_FAULTS" && value.is_none());
        assert!(removed, "the fault variable must be cleared");
    }
}
