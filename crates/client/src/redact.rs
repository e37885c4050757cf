//! Short, secret-free previews of what a server sent, for error messages.
//!
//! An error that quotes a response body helps to see what answered (an HTML
//! page, a proxy's message, half a JSON document), but a body can be huge and
//! can hold a token: a login answer cut short still starts with the token. So
//! the client quotes at most [`PREVIEW_CHARS`] characters of a body, after
//! replacing the values of secret-looking JSON keys and anything that looks
//! like a JWT with `[redacted]`, and says how long the whole body was.

use std::sync::LazyLock;

/// How many characters of a body an error message quotes.
pub(crate) const PREVIEW_CHARS: usize = 120;

/// How many bytes of a body are redacted before the preview is cut: enough
/// that a secret whose key starts inside the preview is redacted whole, since
/// the key-value rule needs to see the value's start.
const WINDOW_BYTES: usize = 1024;

/// How many characters of a server's own message an error message quotes.
pub(crate) const MESSAGE_CHARS: usize = 300;

/// What stands in for a secret.
const REDACTED: &str = "[redacted]";

/// A JSON key whose name says its value is secret, and that value: a string
/// (also one cut short, without its closing quote) or a bare scalar.
static SECRET_VALUE: LazyLock<regress::Regex> = LazyLock::new(|| {
    regress::Regex::with_flags(
        r#"("[A-Za-z0-9_\-]*(?:token|password|passwd|secret|authorization|api[_\-]?key|credential)[A-Za-z0-9_\-]*"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^\s,}\]]+)"#,
        "i",
    )
    .expect("the secret key pattern is a valid regular expression")
});

/// A JWT, or the start of one: its header is base64url JSON, so it starts
/// with `eyJ` (`{"`).
static JWT: LazyLock<regress::Regex> = LazyLock::new(|| {
    regress::Regex::new(r"eyJ[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*)*")
        .expect("the JWT pattern is a valid regular expression")
});

/// A double-quoted string, as serde_json quotes the values it could not use.
static QUOTED: LazyLock<regress::Regex> = LazyLock::new(|| {
    regress::Regex::new(r#""(?:[^"\\]|\\.)*""#)
        .expect("the quoted string pattern is a valid regular expression")
});

/// The first [`PREVIEW_CHARS`] characters of `body`, secrets redacted,
/// control characters escaped, `…` when cut.
pub(crate) fn body_preview(body: &[u8]) -> String {
    let window = &body[..body.len().min(WINDOW_BYTES)];
    let text = String::from_utf8_lossy(window);
    let cut = body.len() > WINDOW_BYTES;
    shorten(&redact(&text), PREVIEW_CHARS, cut)
}

/// `message`, from a server, with secrets redacted and cut to
/// [`MESSAGE_CHARS`] characters.
pub(crate) fn server_message(message: &str) -> String {
    shorten(&redact(message), MESSAGE_CHARS, false)
}

/// A serde_json error message without the values it quotes: `invalid type:
/// string "…"` may quote a password that came back where a number was due.
pub(crate) fn parse_error(message: &str) -> String {
    replace_all(&QUOTED, message, |_| format!("\"{REDACTED}\""))
}

/// `text` with secret-looking values and JWTs replaced by `[redacted]`.
pub(crate) fn redact(text: &str) -> String {
    let keyed = replace_all(&SECRET_VALUE, text, |found| {
        let key = found.group(1).map_or("", |range| &text[range]);
        format!("{key}\"{REDACTED}\"")
    });
    replace_all(&JWT, &keyed, |_| REDACTED.to_owned())
}

/// `text` with every match of `pattern` replaced by what `with` makes of it.
fn replace_all(
    pattern: &regress::Regex,
    text: &str,
    with: impl Fn(&regress::Match) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in pattern.find_iter(text) {
        out.push_str(&text[last..found.start()]);
        out.push_str(&with(&found));
        last = found.end();
    }
    out.push_str(&text[last..]);
    out
}

/// The first `limit` characters of `text` with control characters escaped,
/// and `…` when anything was left out (`cut` says the input was cut already).
fn shorten(text: &str, limit: usize, cut: bool) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(limit) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut || chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_body_cut_short_does_not_show_the_token_start() {
        let preview = body_preview(br#"{"token": "eyJhbGciOi"#);

        assert_eq!(preview, r#"{"token": "[redacted]""#);
    }

    #[test]
    fn secret_keys_are_redacted_whatever_their_case_or_value_type() {
        let body = br#"{"Password":"hunter2","apiKey":12345,"accessToken":"xoxb-1","name":"x"}"#;

        let preview = body_preview(body);

        for secret in ["hunter2", "12345", "xoxb-1"] {
            assert!(!preview.contains(secret), "{preview}");
        }
        assert!(preview.contains(r#""name":"x""#), "{preview}");
    }

    #[test]
    fn a_jwt_anywhere_is_redacted() {
        let text = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2ln was refused";

        assert_eq!(redact(text), "Bearer [redacted] was refused");
    }

    #[test]
    fn a_long_body_is_cut_and_marked() {
        let body = vec![b'a'; 10 * 1024 * 1024];

        let preview = body_preview(&body);

        assert_eq!(preview.chars().count(), PREVIEW_CHARS + 1);
        assert!(preview.ends_with('…'), "{preview}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(body_preview(b"<h1>\nhi"), "<h1>\\nhi");
    }

    #[test]
    fn parse_errors_lose_the_values_they_quote() {
        let message = r#"invalid type: string "hunter2", expected u64 at line 1 column 9"#;

        let cleaned = parse_error(message);

        assert!(!cleaned.contains("hunter2"), "{cleaned}");
        assert!(cleaned.contains("expected u64"), "{cleaned}");
    }
}
