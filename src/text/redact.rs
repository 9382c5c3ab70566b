//! Text from outside made fit to show: secrets taken out, terminal controls stripped, length
//! bounded. Probe outcomes and step errors go through here before they reach the model, the
//! journal or a log.

use reqwest::Url;

use crate::text as sanitize;

/// What stands in for a secret that was taken out of a text.
pub const MASK: &str = "****";

/// A secret shorter than this is not scrubbed from text: it would mask ordinary words.
pub const MIN_SECRET_LEN: usize = 4;

/// A URL as it may be shown: scheme, host, port and path; no user or password, no fragment,
/// and a query (which often carries a token) shown as `?…`.
pub fn url(url: &Url) -> String {
    let mut shown = url.clone();
    // Both fail only for URLs that cannot have them (no host): then there is nothing to drop.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    let had_query = shown.query().is_some();
    shown.set_query(None);
    let mut text = String::from(shown);
    if had_query {
        text.push_str("?…");
    }
    text
}

/// The secrets a URL carries: its password, its whole query and each query value.
pub fn url_secrets(url: &Url) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(password) = url.password() {
        secrets.push(password.to_string());
    }
    if let Some(query) = url.query() {
        secrets.push(query.to_string());
        for (_, value) in url.query_pairs() {
            secrets.push(value.into_owned());
        }
        // As written too (percent-encoded), in case a text quotes the raw URL.
        secrets.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_string())),
        );
    }
    secrets
}

/// `text` with every occurrence of each secret (of at least [`MIN_SECRET_LEN`] bytes)
/// replaced by [`MASK`], longest secrets first (so a secret that contains another is masked
/// whole).
pub fn scrub<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, MASK);
        }
    }
    out
}

/// The secrets this console knows (its config's tokens, keys, webhook URLs, DSNs, header
/// values), learned once at start: every text that leaves for the screen, the journal, the
/// log or the outbox is scrubbed of them ([`scrub_known`]). Set once, then read without a
/// lock: the one cleaner runs inside `update` and `draw`, which take no locks.
static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// The schemes a credential follows in a header value (`Bearer abc` → `abc` is secret too).
const SCHEMES: [&str; 4] = ["bearer ", "basic ", "oauth ", "token "];

/// Learns secret values, once per process (a later call is ignored): each whole, and the
/// credential after a scheme (`Bearer `, `Basic `, `OAuth `, `token `); matched later
/// whatever their case.
pub fn learn_secrets<S: AsRef<str>>(values: &[S]) {
    let mut more: Vec<String> = Vec::new();
    for v in values {
        let v = v.as_ref().trim();
        if v.len() < MIN_SECRET_LEN {
            continue;
        }
        more.push(v.to_string());
        let lower = v.to_ascii_lowercase();
        for scheme in SCHEMES {
            if lower.starts_with(scheme) {
                let rest = v[scheme.len()..].trim();
                if rest.len() >= MIN_SECRET_LEN {
                    more.push(rest.to_string());
                }
            }
        }
    }
    more.sort();
    more.dedup();
    // Longest first: a secret that contains another is masked whole.
    more.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let _ = KNOWN.set(more);
}

/// The secrets learned (longest first), to hand to a step's relay.
pub fn known() -> &'static [String] {
    KNOWN.get().map(Vec::as_slice).unwrap_or(&[])
}

/// Where `needle` (ASCII-case-insensitively) first occurs in `hay` at or after `from`.
fn find_ci(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (from..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// `text` with every secret this console knows replaced by [`MASK`], in any letter case.
pub fn scrub_known(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(known) = KNOWN.get() else {
        return std::borrow::Cow::Borrowed(text);
    };
    if known.is_empty() || !known.iter().any(|k| find_ci(text, k, 0).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for k in known.iter() {
        let mut from = 0;
        while let Some(at) = find_ci(&out, k, from) {
            // A match is on byte boundaries of ASCII bytes only when it is a char boundary.
            if !out.is_char_boundary(at) || !out.is_char_boundary(at + k.len()) {
                from = at + 1;
                continue;
            }
            out.replace_range(at..at + k.len(), MASK);
            from = at + MASK.len();
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A log file's writer that lets no known secret and no terminal control through: every
/// line the console logs (a server's words, a path, an error chain) is scrubbed and cleaned
/// as it is written, so nothing logged needs to remember to be.
pub struct ScrubbedWriter<W>(pub W);

/// Makes a [`ScrubbedWriter`] around each writer `M` makes: what the log subscriber is given.
pub struct ScrubbedLog<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for ScrubbedLog<M>
{
    type Writer = ScrubbedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedWriter(self.0.make_writer())
    }
}

impl<W: std::io::Write> std::io::Write for ScrubbedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = sanitize::clean_text(&scrub_known(&text));
        self.0.write_all(clean.as_bytes())?;
        // All of `buf` was taken (its cleaned form written): a caller must not resend it.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Untrusted text (a command's output, a server's words) as one line for an outcome:
/// escape sequences and control characters stripped ([`sanitize::clean`]), blanks around
/// trimmed, and at most `max_chars` characters (cut with `…`).
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let clean = sanitize::clean(text);
    let clean = clean.trim();
    match clean.char_indices().nth(max_chars) {
        None => clean.to_string(),
        Some(_) => {
            let cut: String = clean.chars().take(max_chars.saturating_sub(1)).collect();
            format!("{}…", cut.trim_end())
        }
    }
}

/// An error and its sources, each once ("client error (Connect): tcp connect error: …"):
/// many libraries' Display leaves the cause out.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Url {
        Url::parse(s).expect("valid url")
    }

    #[test]
    fn known_secrets_are_masked_in_any_case_and_after_their_scheme() {
        learn_secrets(&["xoxb-TEST-known-3141", "Bearer hdr-SECRET-2718", "abc"]);
        assert_eq!(
            scrub_known("token xoxb-test-KNOWN-3141 and XOXB-TEST-KNOWN-3141"),
            "token **** and ****"
        );
        assert_eq!(
            scrub_known("got bearer HDR-secret-2718 back; echo: hdr-secret-2718"),
            "got **** back; echo: ****"
        );
        assert_eq!(
            scrub_known("abc is too short to be one"),
            "abc is too short to be one"
        );
        assert!(matches!(
            scrub_known("nothing to hide"),
            std::borrow::Cow::Borrowed(_)
        ));
        // Through the one cleaner: what is drawn or excerpted is scrubbed too.
        assert_eq!(excerpt("key=xoxb-TEST-known-3141\n", 100), "key=****");
        // And every line the console logs.
        let mut log = ScrubbedWriter(Vec::new());
        std::io::Write::write_all(
            &mut log,
            b"WARN slack: 401 for XOXB-test-known-3141 \x1b]0;owned\x07now\nnext line\n",
        )
        .expect("write");
        assert_eq!(
            String::from_utf8(log.0).expect("utf-8"),
            "WARN slack: 401 for **** now\nnext line\n"
        );
    }

    #[test]
    fn urls_are_shown_without_credentials_query_or_fragment() {
        assert_eq!(
            url(&parse(
                "https://user:hunter22@api.example.com:8443/health?token=s3cret#x"
            )),
            "https://api.example.com:8443/health?…"
        );
        assert_eq!(
            url(&parse("http://127.0.0.1/healthz")),
            "http://127.0.0.1/healthz"
        );
    }

    #[test]
    fn url_secrets_are_the_password_and_the_query() {
        let secrets = url_secrets(&parse("https://u:pw%21word@h/p?token=s3cr%2Fet&x=1"));
        for s in [
            "pw%21word",
            "token=s3cr%2Fet&x=1",
            "s3cr/et",
            "s3cr%2Fet",
            "1",
        ] {
            assert!(secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
        assert!(url_secrets(&parse("https://h/p")).is_empty());
    }

    #[test]
    fn scrub_masks_each_secret_longest_first() {
        assert_eq!(
            scrub(
                "GET /x?token=abcd1234 failed: abcd1234",
                &["abcd1234", "token=abcd1234"]
            ),
            "GET /x?**** failed: ****"
        );
        // Too short to mask without masking words.
        assert_eq!(scrub("exit 1", &["1"]), "exit 1");
        assert_eq!(scrub("nothing here", &[] as &[&str]), "nothing here");
    }

    #[test]
    fn excerpts_are_clean_short_lines() {
        assert_eq!(excerpt("  ok \x1b[31mred\x1b[0m\n", 80), "ok red");
        assert_eq!(excerpt("abcdefghij", 5), "abcd…");
        assert_eq!(excerpt("abcde", 5), "abcde");
        assert_eq!(excerpt("ünïcödé", 4), "ünï…");
    }

    #[test]
    fn an_error_chain_names_each_cause_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "client error (Connect)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("tcp connect error"));
        assert_eq!(error_chain(&e), "client error (Connect): tcp connect error");
    }
}
