//! One journal entry: its fields, its line on disk, its canonical form and its hash.
//!
//! On disk an entry is one JSON object on one line: `seq`, `at`, `actor`, `kind`, then the
//! kind-specific fields (sorted by name), then `hash`. The order on disk is for people reading
//! the file; the hash does not depend on it.
//!
//! `hash` = lowercase hex of SHA-256(previous entry's `hash`, as its 64 ASCII hex bytes ‖ the
//! canonical JSON of this entry without `hash`). The first entry's previous hash is
//! [`GENESIS`] (64 zeros). Canonical JSON: no whitespace, object keys sorted by their bytes at
//! every depth, strings escaped as serde_json escapes them, numbers as serde_json prints them
//! (integers exactly; floats in their shortest round-trip form). It is written here by hand,
//! so it does not change if some dependency turns on serde_json's `preserve_order`.

use jiff::Timestamp;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry of every journal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields every entry has; a kind's own fields may not use these names.
pub const RESERVED: [&str; 5] = ["seq", "at", "actor", "kind", "hash"];

/// One line of a journal. Kinds this build does not know are kept as they are: `body` holds
/// every field that is not one of [`RESERVED`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 1 for the first entry, then +1 per entry.
    pub seq: u64,
    /// When it happened (simulated time in drills); RFC 3339 on disk.
    pub at: Timestamp,
    /// `user@host` of the process that wrote it (see [`actor`]).
    pub actor: String,
    /// What kind of entry: `note`, `step`, `state`, … — any string.
    pub kind: String,
    /// 64 lowercase hex digits, see the module documentation.
    pub hash: String,
    /// The kind-specific fields, flattened into the same JSON object on disk.
    pub body: Map<String, Value>,
}

impl Entry {
    /// Builds entry `seq` after the entry whose hash is `prev_hash` ([`GENESIS`] for the first)
    /// and computes its hash. `body` must not contain a [`RESERVED`] key (checked by the
    /// journal's append, which is the only writer).
    pub fn seal(
        seq: u64,
        at: Timestamp,
        actor: String,
        kind: String,
        body: Map<String, Value>,
        prev_hash: &str,
    ) -> Entry {
        let mut e = Entry {
            seq,
            at,
            actor,
            kind,
            hash: String::new(),
            body,
        };
        e.hash = chain_hash(prev_hash, &e.canonical());
        e
    }

    /// The entry as one JSON object without `hash`.
    pub fn unhashed_value(&self) -> Map<String, Value> {
        let mut m = self.body.clone();
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("at".into(), Value::String(self.at.to_string()));
        m.insert("actor".into(), Value::String(self.actor.clone()));
        m.insert("kind".into(), Value::String(self.kind.clone()));
        m
    }

    /// The canonical JSON of the entry without `hash`: what its hash covers.
    pub fn canonical(&self) -> String {
        canonical_json(&Value::Object(self.unhashed_value()))
    }

    /// The line written to disk, without its `\n`: `seq`, `at`, `actor`, `kind`, the body's
    /// fields sorted by name, then `hash`. Control characters in strings are JSON-escaped, so
    /// one entry is always exactly one line.
    pub fn to_line(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push('{');
        let field = |out: &mut String, k: &str, v: &Value| {
            if out.len() > 1 {
                out.push(',');
            }
            push_str_json(out, k);
            out.push(':');
            write_canonical(v, out);
        };
        field(&mut out, "seq", &Value::from(self.seq));
        field(&mut out, "at", &Value::String(self.at.to_string()));
        field(&mut out, "actor", &Value::String(self.actor.clone()));
        field(&mut out, "kind", &Value::String(self.kind.clone()));
        let mut keys: Vec<&String> = self.body.keys().collect();
        keys.sort();
        for k in keys {
            field(&mut out, k, &self.body[k.as_str()]);
        }
        field(&mut out, "hash", &Value::String(self.hash.clone()));
        out.push('}');
        out
    }

    /// Reads one line (without its `\n`). The error says why it is not an entry.
    pub fn parse_line(line: &[u8]) -> Result<Entry, String> {
        let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
        match value {
            Value::Object(m) => Entry::from_map(m),
            _ => Err("not a JSON object".into()),
        }
    }

    /// An entry from its JSON object (all fields, `hash` included).
    pub fn from_map(mut m: Map<String, Value>) -> Result<Entry, String> {
        let seq = match m.remove("seq") {
            Some(Value::Number(n)) => n
                .as_u64()
                .filter(|&s| s >= 1)
                .ok_or_else(|| format!("seq {n} is not a positive integer"))?,
            Some(_) => return Err("seq is not a number".into()),
            None => return Err("no seq".into()),
        };
        let at = match m.remove("at") {
            Some(Value::String(s)) => s
                .parse::<Timestamp>()
                .map_err(|e| format!("at {s:?} is not an RFC 3339 time: {e}"))?,
            Some(_) => return Err("at is not a string".into()),
            None => return Err("no at".into()),
        };
        let mut string = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("{k} is not a string")),
            None => Err(format!("no {k}")),
        };
        let actor = string("actor")?;
        let kind = string("kind")?;
        let hash = string("hash")?;
        if !is_hash(&hash) {
            return Err("hash is not 64 lowercase hex digits".into());
        }
        Ok(Entry {
            seq,
            at,
            actor,
            kind,
            hash,
            body: m,
        })
    }
}

/// The hash of an entry whose canonical form (without `hash`) is `canonical`, chained after
/// the entry whose hash is `prev_hash`.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    to_hex(h.finalize().as_slice())
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// 64 lowercase hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Canonical JSON of a value: no whitespace, object keys sorted by their bytes at every depth.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_str_json(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str_json(out, k);
                out.push(':');
                write_canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

fn push_str_json(out: &mut String, s: &str) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Who is writing: the name of the real user (getuid, not `$USER`, which anyone can set; the
/// uid number if it has no name) `@` the host name (`unknown-host` if it cannot be read).
pub fn actor() -> String {
    let uid = nix::unistd::getuid();
    let user = match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) => u.name,
        _ => uid.as_raw().to_string(),
    };
    let host = nix::unistd::gethostname()
        .ok()
        .map(|h| h.to_string_lossy().into_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn canonical_sorts_keys_at_every_depth_without_whitespace() {
        let v = json!({"b": 1, "a": {"z": [true, null, {"y": 2, "x": "s"}], "c": 1.5}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":1.5,"z":[true,null,{"x":"s","y":2}]},"b":1}"#
        );
    }

    #[test]
    fn canonical_form_of_an_entry_covers_every_field_but_hash() {
        let e = Entry::seal(
            3,
            ts("2026-11-25T03:07:00Z"),
            "ana@bastion".into(),
            "note".into(),
            body(json!({"text": "hi"})),
            GENESIS,
        );
        assert_eq!(
            e.canonical(),
            r#"{"actor":"ana@bastion","at":"2026-11-25T03:07:00Z","kind":"note","seq":3,"text":"hi"}"#
        );
        assert_eq!(e.hash, chain_hash(GENESIS, &e.canonical()));
    }

    #[test]
    fn hash_is_sha256_of_previous_hash_then_canonical_form() {
        // Known answer: SHA-256 of the empty string.
        let mut h = Sha256::new();
        h.update(b"");
        assert_eq!(
            to_hex(h.finalize().as_slice()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // SHA-256("abc") split across the two parts.
        assert_eq!(
            chain_hash("a", "bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_chain_links_each_entry_to_the_previous_one() {
        let at = ts("2026-11-25T03:07:00Z");
        let a = Entry::seal(1, at, "u@h".into(), "note".into(), Map::new(), GENESIS);
        let b = Entry::seal(2, at, "u@h".into(), "note".into(), Map::new(), &a.hash);
        let b2 = Entry::seal(2, at, "u@h".into(), "note".into(), Map::new(), GENESIS);
        assert!(is_hash(&a.hash) && is_hash(&b.hash));
        assert_ne!(b.hash, b2.hash, "the previous hash is part of the hash");
        assert_eq!(b.hash, chain_hash(&a.hash, &b.canonical()));
    }

    #[test]
    fn a_line_round_trips_and_unknown_kinds_keep_their_fields() {
        let e = Entry::seal(
            7,
            ts("2026-11-25T03:07:00.25Z"),
            "ana@bastion".into(),
            "some-future-kind".into(),
            body(json!({"z": {"deep": [1, 2]}, "note": "\u{1b}[2J\nline two\u{7}", "n": -1.5})),
            GENESIS,
        );
        let line = e.to_line();
        assert!(!line.contains('\n') && !line.contains('\u{1b}'));
        assert!(line.starts_with(r#"{"seq":7,"at":"2026-11-25T03:07:00.25Z","actor":"ana@bastion","kind":"some-future-kind","n":-1.5,"#));
        assert!(line.ends_with(&format!(r#","hash":"{}"}}"#, e.hash)));
        let back = Entry::parse_line(line.as_bytes()).unwrap();
        assert_eq!(back, e);
        // Hashing what was read gives the stored hash.
        assert_eq!(chain_hash(GENESIS, &back.canonical()), back.hash);
    }

    #[test]
    fn lines_that_are_not_entries_say_why() {
        let bad: &[(&str, &str)] = &[
            ("{\"seq\":1,\"at\":\"2026", "not JSON"),
            ("[1]", "not a JSON object"),
            (
                r#"{"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "no seq",
            ),
            (
                r#"{"seq":0,"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "positive",
            ),
            (
                r#"{"seq":1,"at":"yesterday","actor":"a","kind":"k","hash":"x"}"#,
                "RFC 3339",
            ),
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "hex",
            ),
        ];
        for (line, why) in bad {
            let err = Entry::parse_line(line.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
    }

    #[test]
    fn actor_is_user_at_host() {
        let a = actor();
        let (user, host) = a.split_once('@').unwrap();
        assert!(!user.is_empty() && !host.is_empty());
    }
}
