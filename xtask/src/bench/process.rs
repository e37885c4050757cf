//! The processes the benchmark starts: servers on 127.0.0.1 that are killed
//! when their guard is dropped, commands with a deadline, and what `/proc`
//! says about a process (resident size, CPU time).
//!
//! Every child is owned by a guard whose `Drop` kills it, so an error or a
//! panic anywhere in the benchmark still leaves no server behind.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::reference_process;

/// How long a server may take to print its listening line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The kernel's clock ticks per second for `/proc/PID/stat` CPU times; Linux
/// fixes this `USER_HZ` at 100 for every architecture's user-space ABI.
const USER_HZ: f64 = 100.0;

/// A reference server running as a child process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    base_url: String,
}

impl ServerProcess {
    /// Starts `binary` on 127.0.0.1, port 0, with `args` appended, and waits
    /// for the line that names its address; its stderr goes to `log`.
    pub fn start(binary: &Path, args: &[String], log: &Path) -> anyhow::Result<Self> {
        let stderr = File::create(log)
            .with_context(|| format!("cannot create the server log {}", log.display()))?;
        // Request logs at info would measure the logger, not the server.
        let mut child = reference_process::command(binary, "warn")
            .args(args)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start the server {}", binary.display()))?;
        let stdout = child
            .stdout
            .take()
            .context("the server's stdout is not piped")?;
        // The guard exists from here on, so every early return kills the child.
        let mut server = Self {
            child,
            base_url: String::new(),
        };

        let (lines, received) = mpsc::channel();
        // Keeps reading after the first line so that the server never blocks
        // on a full pipe.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = reference_process::parse_listening_line(&line) {
                        server.base_url = url;
                        return Ok(server);
                    }
                }
                Err(_) => bail!(
                    "{} printed no `listening on http://127.0.0.1:PORT` line within {} s; \
                     its log is {}",
                    binary.display(),
                    STARTUP_TIMEOUT.as_secs(),
                    log.display()
                ),
            }
        }
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a bounded command left behind.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// How long it ran.
    pub elapsed: Duration,
    /// Everything it printed on stdout.
    pub stdout: String,
}

/// Runs `command` to its end, killing it after `limit`; its stdout is
/// captured and its stderr goes to `log` (to this process's stderr when
/// `None`).
pub fn run_bounded(
    command: &mut Command,
    limit: Duration,
    log: Option<&Path>,
) -> anyhow::Result<Finished> {
    let stderr = match log {
        Some(log) => Stdio::from(
            File::create(log)
                .with_context(|| format!("cannot create the log {}", log.display()))?,
        ),
        None => Stdio::inherit(),
    };
    let shown = shown_command(command);
    let shown_log = log.map_or_else(|| "above".to_owned(), |log| log.display().to_string());
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let stdout = child.stdout.take().context("stdout is not piped")?;
    let reader = thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let mut guard = ChildGuard(Some(child));

    let status = loop {
        let child = guard.0.as_mut().context("the child is gone")?;
        if let Some(status) = child.try_wait()? {
            guard.0 = None;
            break status;
        }
        if started.elapsed() > limit {
            drop(guard);
            bail!(
                "{shown} ran longer than {} s and was killed; its log is {shown_log}",
                limit.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = reader.join().unwrap_or_default();
    Ok(Finished {
        status,
        elapsed,
        stdout,
    })
}

/// `program args…` of `command`, for messages; its environment stays out,
/// as it may carry a token.
pub fn shown_command(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Kills its child when dropped, unless it has been taken out.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The resident set size of process `pid`, in bytes (`VmRSS` of
/// `/proc/PID/status`).
pub fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let status = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse_vm_rss(&status).with_context(|| format!("{} has no VmRSS line", path.display()))
}

/// The `VmRSS` of a `/proc/PID/status` text, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let kibibytes: u64 = fields.next()?.parse().ok()?;
    (fields.next()? == "kB").then_some(kibibytes * 1024)
}

/// The CPU time, user plus system, that process `pid` (`"self"` for this
/// one) has used so far, in seconds, over all its threads.
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse_cpu_ticks(&stat)
        .map(|ticks| ticks as f64 / USER_HZ)
        .with_context(|| format!("{} does not parse", path.display()))
}

/// `utime + stime` of a `/proc/PID/stat` line, in clock ticks.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name, field 2, is in parentheses and may hold spaces; the
    // fields after its closing parenthesis start with field 3.
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15, so 11 and 12 after field 3.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// CPU seconds all processes of the machine have used so far, over all
/// cores (the busy time of `/proc/stat`: everything but idle and iowait).
pub fn machine_cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    parse_machine_busy_ticks(&stat)
        .map(|ticks| ticks as f64 / USER_HZ)
        .context("/proc/stat has no `cpu` line")
}

/// The busy ticks of the `cpu` line of a `/proc/stat` text.
fn parse_machine_busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]; the
    // guest times are already part of user and nice.
    let counted = ticks.iter().take(8).sum::<u64>();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some(counted - idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tappmixer-refer\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";

        assert_eq!(parse_vm_rss(status), Some(12345 * 1024));
    }

    #[test]
    fn machine_busy_time_leaves_idle_and_iowait_out() {
        let stat = "cpu  100 5 50 1000 20 3 2 1 40 0\ncpu0 50 2 25 500 10 1 1 0 20 0\n";

        assert_eq!(
            parse_machine_busy_ticks(stat),
            Some(100 + 5 + 50 + 3 + 2 + 1)
        );
    }

    #[test]
    fn cpu_ticks_skip_a_command_name_with_spaces() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    731 129 0 0 20 0 3 0 100 1000 200";

        assert_eq!(parse_cpu_ticks(stat), Some(731 + 129));
    }
}
