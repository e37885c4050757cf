//! The `appmixer-reference` binary: its first line names the address, the
//! first Ctrl-C gives open requests the shutdown grace, and a second one
//! stops it at once; a stalled body meets `--body-read-timeout`; a failure
//! exits 2 when the command line is wrong and 1 when the environment is.
//!
//! Ctrl-C is sent as SIGINT with the system's `kill`, to the child process
//! each test started, by its id.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a test waits for something that must happen before it gives up.
///
/// It bounds a regression (a binary that ignores Ctrl-C would otherwise
/// hang the test run); no assertion depends on how long anything took.
const GIVE_UP: Duration = Duration::from_secs(60);

/// A sign-up body.
const SIGNUP: &str = r#"{"username":"jane","password":"secret-password"}"#;

/// A running binary, killed if a test ends before it exits.
struct Binary {
    child: Child,
    addr: String,
    log: mpsc::Receiver<String>,
}

impl Binary {
    /// Starts the binary on a free local port with `args`.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_appmixer-reference"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("the binary prints its address");
        let addr = first
            .trim()
            .split_once("listening on http://")
            .unwrap_or_else(|| panic!("the first line names the address: {first:?}"))
            .1
            .to_owned();
        let (sender, log) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, addr, log }
    }

    /// Sends the binary SIGINT, as Ctrl-C in its terminal would.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-s", "INT", &self.child.id().to_string()])
            .status()
            .expect("`kill` runs");
        assert!(status.success(), "`kill -s INT` failed: {status}");
    }

    /// Waits until the binary logs a line containing `text`.
    fn wait_for_log(&self, text: &str) {
        loop {
            let line = self
                .log
                .recv_timeout(GIVE_UP)
                .unwrap_or_else(|_| panic!("gave up waiting for a log line with {text:?}"));
            if line.contains(text) {
                return;
            }
        }
    }

    /// Waits until the binary exits.
    fn wait_for_exit(&mut self) -> ExitStatus {
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return status;
            }
            assert!(
                waited < GIVE_UP,
                "gave up after {GIVE_UP:?} waiting for the exit"
            );
            thread::sleep(step);
            waited += step;
        }
    }

    /// Starts a sign-up whose body is announced but not yet sent, and
    /// returns once the binary has read the head and waits for the body,
    /// which its `100 Continue` proves.
    fn open_request(&self) -> TcpStream {
        let mut stream = TcpStream::connect(&self.addr).expect("the binary accepts");
        stream.set_read_timeout(Some(GIVE_UP)).unwrap();
        let head = format!(
            "POST /user HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            self.addr,
            SIGNUP.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut interim = Vec::new();
        let mut byte = [0u8; 1];
        while !interim.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("the binary answers");
            interim.push(byte[0]);
        }
        let interim = String::from_utf8(interim).unwrap();
        assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
        stream
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn a_second_ctrl_c_stops_the_binary_while_a_request_is_open() {
    let mut binary = Binary::start(&["--shutdown-grace", "3600"]);
    let _open = binary.open_request();

    binary.interrupt();
    binary.wait_for_log("Ctrl-C received; finishing open requests");
    binary.interrupt();

    let status = binary.wait_for_exit();
    assert!(status.success(), "{status}");
}

#[test]
fn the_binary_stops_after_the_shutdown_grace_while_a_request_is_open() {
    let mut binary = Binary::start(&["--shutdown-grace", "0.1"]);
    let mut open = binary.open_request();

    binary.interrupt();

    let status = binary.wait_for_exit();
    assert!(status.success(), "{status}");
    let mut rest = Vec::new();
    let _ = open.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn a_request_open_at_ctrl_c_is_answered_within_the_grace() {
    let mut binary = Binary::start(&["--shutdown-grace", "3600"]);
    let mut open = binary.open_request();

    binary.interrupt();
    binary.wait_for_log("Ctrl-C received; finishing open requests");
    open.write_all(SIGNUP.as_bytes()).unwrap();
    let mut answer = Vec::new();
    open.read_to_end(&mut answer).expect("the answer arrives");

    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201 Created"), "{answer}");
    let status = binary.wait_for_exit();
    assert!(status.success(), "{status}");
}

#[test]
fn ctrl_c_right_after_the_address_line_stops_the_binary_cleanly() {
    let mut binary = Binary::start(&[]);

    binary.interrupt();

    let status = binary.wait_for_exit();
    assert!(status.success(), "{status}");
}

#[test]
fn the_body_read_timeout_option_answers_a_stalled_body_with_408() {
    let binary = Binary::start(&["--body-read-timeout", "0.1"]);
    let mut open = binary.open_request();

    open.write_all(&SIGNUP.as_bytes()[..SIGNUP.len() / 2])
        .unwrap();
    let mut answer = Vec::new();
    open.read_to_end(&mut answer).expect("the answer arrives");

    let answer = String::from_utf8(answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer}"
    );
    assert!(answer.contains(r#""statusCode":408"#), "{answer}");
}

/// Runs the binary with `args` until it exits, as a script would.
fn run_to_exit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_appmixer-reference"))
        .args(args)
        .env_remove("APPMIXER_REFERENCE_FAULTS")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[test]
fn a_port_in_use_exits_1_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();

    let output = run_to_exit(&["--host", "127.0.0.1", "--port", &port]);

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("`127.0.0.1:{port}`")) && stderr.contains("--port"),
        "{stderr}"
    );
}

#[test]
fn a_host_that_is_no_ip_address_exits_2_with_an_example() {
    let output = run_to_exit(&["--host", "reference.invalid", "--port", "0"]);

    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`reference.invalid`") && stderr.contains("`127.0.0.1`"),
        "{stderr}"
    );
}

#[test]
fn help_documents_the_exit_statuses() {
    let output = run_to_exit(&["--help"]);

    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    let statuses = help
        .split_once("Exit status:")
        .unwrap_or_else(|| panic!("no exit statuses in {help}"))
        .1;
    for line in ["  0  ", "  1  the environment", "  2  the command line"] {
        assert!(statuses.contains(line), "{line:?} missing from {statuses}");
    }
}

#[test]
fn a_bad_seconds_value_is_refused_with_the_value_and_an_example() {
    let output = run_to_exit(&["--port", "0", "--shutdown-grace", "soon"]);

    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`soon`") && stderr.contains("`0.5`"),
        "{stderr}"
    );
}
