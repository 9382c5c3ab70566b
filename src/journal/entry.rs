//! One journal entry: its fields, its line on disk, and its hash.
//!
//! On disk an entry is one JSON object on one line: `seq`, `at`, `actor`, `kind`, then the
//! kind-specific fields (sorted by name), then `hash`, always last and written exactly as
//! `,"hash":"<64 lowercase hex>"}`; no whitespace between tokens.
//!
//! `hash` = lowercase hex of SHA-256(previous entry's `hash`, as its 64 ASCII hex bytes ‖ the
//! line as written, without its final `,"hash":"…"` member). So the bytes hashed are the line
//! with that member cut out (`{"seq":3,…,"text":"hi"}`, see [`JournalEntry::unhashed_line`]), taken
//! from the file as they are: checking a hash needs no JSON re-serialization, and every byte
//! of the line counts — a changed character anywhere, a reordered key, added spacing, a
//! removed field all break it. The first entry's previous hash is [`GENESIS`]. Another writer
//! may order and space the other fields as it likes, as long as it writes `hash` last in that
//! exact form and hashes the rest of its own line.
//!
//! The earlier form, still accepted by `verify` (with a warning): the hash of the previous
//! hash ‖ the entry's *canonical JSON* without `hash` ([`JournalEntry::canonical`]: no whitespace,
//! object keys sorted by their bytes at every depth, strings escaped as serde_json escapes
//! them, numbers as serde_json prints them), whatever the order or spacing of the line. It is
//! only tried when the line's own hash does not match, so it costs nothing on journals written
//! in the current form; for entries accepted that way the hash covers their content but not
//! their key order or spacing.

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry of every journal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields every entry has; a kind's own fields may not use these names.
pub const RESERVED: [&str; 5] = ["seq", "at", "actor", "kind", "hash"];

/// How a line written by warroom ends: `,"hash":"` 64 hex digits `"}`.
const HASH_MEMBER_START: &[u8] = b",\"hash\":\"";
const HASH_MEMBER_LEN: usize = HASH_MEMBER_START.len() + 64 + 2;

/// One line of a journal. Kinds this build does not know are kept as they are: `body` holds
/// every field that is not one of [`RESERVED`].
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
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

impl JournalEntry {
    /// Builds entry `seq` after the entry whose hash is `prev_hash` ([`GENESIS`] for the first)
    /// and computes its hash, over [`JournalEntry::unhashed_line`]. `body` must not contain a
    /// [`RESERVED`] key (checked by the journal's append, which is the only writer).
    pub fn seal(
        seq: u64,
        at: Timestamp,
        actor: String,
        kind: String,
        body: Map<String, Value>,
        prev_hash: &str,
    ) -> JournalEntry {
        let mut e = JournalEntry {
            seq,
            at,
            actor,
            kind,
            hash: String::new(),
            body,
        };
        e.hash = chain_hash(prev_hash, e.unhashed_line());
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

    /// The earlier form's hashed text: the canonical JSON of the entry without `hash` (see the
    /// module documentation). Only `verify` still uses it, for entries hashed that way.
    pub fn canonical(&self) -> String {
        canonical_json(&Value::Object(self.unhashed_value()))
    }

    /// The line without its `hash` member: what the hash covers. `seq`, `at`, `actor`,
    /// `kind`, then the body's fields sorted by name, no whitespace; values in canonical form
    /// (object keys sorted at every depth). Control characters in strings are JSON-escaped, so
    /// one entry is always exactly one line.
    pub fn unhashed_line(&self) -> String {
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
        out.push('}');
        out
    }

    /// The line written to disk, without its `\n`: [`JournalEntry::unhashed_line`] with
    /// `,"hash":"<hash>"` before its closing brace.
    pub fn to_line(&self) -> String {
        let mut out = self.unhashed_line();
        out.pop();
        out.reserve(HASH_MEMBER_LEN);
        out.push_str(",\"hash\":\"");
        out.push_str(&self.hash);
        out.push_str("\"}");
        out
    }

    /// Reads one line (without its `\n`). The error says why it is not an entry. A line with
    /// a field twice is not an entry (JSON readers differ on which one counts).
    pub fn parse_line(line: &[u8]) -> Result<JournalEntry, String> {
        // UTF-8 checked once for the whole line rather than string by string.
        let parsed = match std::str::from_utf8(line) {
            Ok(text) => serde_json::from_str::<Parsed>(text),
            Err(_) => serde_json::from_slice::<Parsed>(line),
        };
        match parsed {
            Ok(Parsed(result)) => result,
            Err(e) if e.is_data() => Err("not a JSON object".into()),
            Err(e) => Err(format!("not JSON: {e}")),
        }
    }

    /// Reads only a line's reserved fields (no body, no actor): for the old lines of a long
    /// journal that a console checks but does not keep. `None` if the line does not read this
    /// way (then [`JournalEntry::parse_line`] says why, or reads it whole). What it returns has an
    /// empty `actor` and `body`: a head, for the chain and for the kind.
    pub fn parse_head(line: &[u8]) -> Option<JournalEntry> {
        use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

        // Borrowed strings only (serde's Cow would allocate each one): a line whose reserved
        // fields need unescaping is not a head, and is read whole instead.
        #[derive(Default)]
        struct Head<'a> {
            seq: Option<u64>,
            at: Option<&'a str>,
            actor: bool,
            kind: Option<&'a str>,
            hash: Option<&'a str>,
        }
        struct HeadVisitor;
        impl<'de> Visitor<'de> for HeadVisitor {
            type Value = Option<Head<'de>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a journal entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut head = Head::default();
                // A key written twice makes the line unreadable as a whole entry: then it is
                // not a head either, and the whole read says why (verify and the console agree).
                let mut seen: [&'de str; 24] = [""; 24];
                let mut n = 0;
                while let Some(key) = map.next_key::<&'de str>()? {
                    if seen[..n].contains(&key) {
                        return Ok(None);
                    }
                    if n == seen.len() {
                        // More keys than any entry has: not a head (read whole).
                        return Ok(None);
                    }
                    seen[n] = key;
                    n += 1;
                    match key {
                        "seq" => head.seq = Some(map.next_value()?),
                        "at" => head.at = Some(map.next_value()?),
                        "actor" => {
                            let _: &'de str = map.next_value()?;
                            head.actor = true;
                        }
                        "kind" => head.kind = Some(map.next_value()?),
                        "hash" => head.hash = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Some(head))
            }
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        let head = (&mut de).deserialize_map(HeadVisitor).ok()??;
        de.end().ok()?;
        let (Some(seq), Some(at), true, Some(kind), Some(hash)) =
            (head.seq, head.at, head.actor, head.kind, head.hash)
        else {
            return None;
        };
        if seq < 1 || !is_hash(hash) {
            return None;
        }
        Some(JournalEntry {
            seq,
            at: parse_at(at).ok()?,
            actor: String::new(),
            kind: kind.to_string(),
            hash: hash.to_string(),
            body: Map::new(),
        })
    }

    /// An entry from its JSON object (all fields, `hash` included).
    pub fn from_map(mut m: Map<String, Value>) -> Result<JournalEntry, String> {
        let mut fields = Reserved::default();
        for k in RESERVED {
            if let Some(v) = m.remove(k) {
                match (k, v) {
                    ("at", Value::String(s)) => fields.set_at(Some(parse_at(&s)))?,
                    ("at", _) => fields.set_at(None)?,
                    (k, v) => fields.set(k, v)?,
                }
            }
        }
        fields.into_entry(m)
    }
}

/// The reserved fields of a line as found, checked once the whole object is read.
#[derive(Default)]
struct Reserved {
    seq: Option<Value>,
    /// Parsed as soon as read, from the line's bytes: `None` inside if not a string.
    at: Option<Option<Result<Timestamp, String>>>,
    actor: Option<Value>,
    kind: Option<Value>,
    hash: Option<Value>,
}

fn parse_at(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("at {s:?} is not an RFC 3339 time: {e}"))
}

impl Reserved {
    /// Sets `seq`, `actor`, `kind` or `hash` (not `at`: [`Reserved::set_at`]).
    fn set(&mut self, k: &str, v: Value) -> Result<(), String> {
        let slot = match k {
            "seq" => &mut self.seq,
            "actor" => &mut self.actor,
            "kind" => &mut self.kind,
            "hash" => &mut self.hash,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(format!("{k} appears twice"));
        }
        *slot = Some(v);
        Ok(())
    }

    fn set_at(&mut self, at: Option<Result<Timestamp, String>>) -> Result<(), String> {
        if self.at.is_some() {
            return Err("at appears twice".into());
        }
        self.at = Some(at);
        Ok(())
    }

    fn into_entry(self, body: Map<String, Value>) -> Result<JournalEntry, String> {
        let seq = match self.seq {
            Some(Value::Number(n)) => n
                .as_u64()
                .filter(|&s| s >= 1)
                .ok_or_else(|| format!("seq {n} is not a positive integer"))?,
            Some(_) => return Err("seq is not a number".into()),
            None => return Err("no seq".into()),
        };
        let at = match self.at {
            Some(Some(at)) => at?,
            Some(None) => return Err("at is not a string".into()),
            None => return Err("no at".into()),
        };
        let string = |k: &str, v: Option<Value>| match v {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("{k} is not a string")),
            None => Err(format!("no {k}")),
        };
        let actor = string("actor", self.actor)?;
        let kind = string("kind", self.kind)?;
        let hash = string("hash", self.hash)?;
        if !is_hash(&hash) {
            return Err("hash is not 64 lowercase hex digits".into());
        }
        Ok(JournalEntry {
            seq,
            at,
            actor,
            kind,
            hash,
            body,
        })
    }
}

/// A line read straight into a [`JournalEntry`] (no intermediate `Value` of the whole object): the
/// reserved fields are picked out as their keys go by, the others go into the body. `Err` is
/// a line that is JSON but not an entry.
struct Parsed(Result<JournalEntry, String>);

impl<'de> Deserialize<'de> for Parsed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut reserved = Reserved::default();
        let mut body = Map::new();
        let mut error = None;
        while let Some(key) = map.next_key::<FieldKey>()? {
            if error.is_some() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let dup = match key {
                FieldKey::Reserved("at") => reserved.set_at(map.next_value::<At>()?.0).err(),
                FieldKey::Reserved(k) => reserved.set(k, map.next_value()?).err(),
                FieldKey::Other(k) => match body.entry(k) {
                    serde_json::map::Entry::Vacant(slot) => {
                        slot.insert(map.next_value()?);
                        None
                    }
                    serde_json::map::Entry::Occupied(slot) => {
                        map.next_value::<IgnoredAny>()?;
                        Some(format!("{} appears twice", slot.key()))
                    }
                },
            };
            error = error.or(dup);
        }
        Ok(Parsed(match error {
            Some(why) => Err(why),
            None => reserved.into_entry(body),
        }))
    }
}

/// The value of `at`, parsed from the line's own bytes (no `String` on the way): `None` if
/// it is not a JSON string.
struct At(Option<Result<Timestamp, String>>);

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<At, D::Error> {
        d.deserialize_any(AtVisitor)
    }
}

struct AtVisitor;

impl<'de> Visitor<'de> for AtVisitor {
    type Value = At;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<At, E> {
        Ok(At(Some(parse_at(s))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<At, E> {
        Ok(At(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<At, E> {
        Ok(At(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<At, E> {
        Ok(At(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<At, E> {
        Ok(At(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<At, E> {
        Ok(At(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<At, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(At(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<At, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(At(None))
    }
}

/// An object key: one of [`RESERVED`] (not allocated), or a body field's name.
enum FieldKey {
    Reserved(&'static str),
    Other(String),
}

impl<'de> Deserialize<'de> for FieldKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FieldKey, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl KeyVisitor {
    fn reserved(s: &str) -> Option<FieldKey> {
        RESERVED
            .iter()
            .find(|&&k| k == s)
            .map(|&k| FieldKey::Reserved(k))
    }
}

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = FieldKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<FieldKey, E> {
        Ok(KeyVisitor::reserved(s).unwrap_or_else(|| FieldKey::Other(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<FieldKey, E> {
        Ok(KeyVisitor::reserved(&s).unwrap_or(FieldKey::Other(s)))
    }
}

/// The hash of an entry whose hashed text (see the module documentation) is `content`,
/// chained after the entry whose hash is `prev_hash`.
pub fn chain_hash(prev_hash: &str, content: impl AsRef<[u8]>) -> String {
    let hex = sha256_hex(&[prev_hash.as_bytes(), content.as_ref()]);
    // Hex digits are ASCII.
    String::from_utf8_lossy(&hex).into_owned()
}

/// The hash `line` (as read, without its `\n`) should carry after the entry whose hash is
/// `prev_hash`, if it ends the way warroom writes it (`,"hash":"<64 hex>"}`): SHA-256 of
/// `prev_hash` ‖ the line without that member, in hex. `None` if it does not end that way.
pub fn line_hash(prev_hash: &str, line: &[u8]) -> Option<[u8; 64]> {
    let (head, _) = split_hash_member(line)?;
    Some(sha256_hex(&[prev_hash.as_bytes(), head, b"}"]))
}

/// A line written as warroom writes it, split before its final `,"hash":"<64 hex>"}`: the
/// line up to that member (without the closing brace) and the 64 hex digits.
pub fn split_hash_member(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let cut = line.len().checked_sub(HASH_MEMBER_LEN)?;
    let (head, member) = line.split_at(cut);
    let hex = member
        .strip_prefix(HASH_MEMBER_START)?
        .strip_suffix(b"\"}")?;
    hex.iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .then_some((head, hex))
}

fn sha256_hex(parts: &[&[u8]]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let mut hex = [0u8; 64];
    for (i, b) in h.finalize().iter().enumerate() {
        hex[2 * i] = DIGITS[(b >> 4) as usize];
        hex[2 * i + 1] = DIGITS[(b & 0xf) as usize];
    }
    hex
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

    fn sealed(body_: Value) -> JournalEntry {
        JournalEntry::seal(
            3,
            ts("2026-11-25T03:07:00Z"),
            "ana@bastion".into(),
            "note".into(),
            body(body_),
            GENESIS,
        )
    }

    #[test]
    fn a_head_reads_like_the_whole_line_and_a_key_written_twice_reads_neither() {
        let e = sealed(json!({"text": "hi"}));
        let line = e.to_line();
        let head = JournalEntry::parse_head(line.as_bytes()).expect("a head");
        assert_eq!((head.seq, head.at, head.kind.as_str()), (3, e.at, "note"));
        assert_eq!(head.hash, e.hash);
        assert!(head.body.is_empty() && head.actor.is_empty());
        let twice = line.replacen("\"text\":\"hi\"", "\"text\":\"hi\",\"text\":\"ho\"", 1);
        assert!(JournalEntry::parse_line(twice.as_bytes()).is_err());
        assert!(
            JournalEntry::parse_head(twice.as_bytes()).is_none(),
            "the console's check must not take what verify refuses"
        );
        let no_actor = line.replacen("\"actor\":\"ana@bastion\",", "", 1);
        assert!(JournalEntry::parse_head(no_actor.as_bytes()).is_none());
        assert!(JournalEntry::parse_head(b"{\"seq\":1} trailing").is_none());
    }

    #[test]
    fn the_hash_covers_the_line_without_its_hash_member() {
        let e = sealed(json!({"text": "hi", "a": {"z": 1, "b": 2}}));
        let unhashed = r#"{"seq":3,"at":"2026-11-25T03:07:00Z","actor":"ana@bastion","kind":"note","a":{"b":2,"z":1},"text":"hi"}"#;
        assert_eq!(e.unhashed_line(), unhashed);
        assert_eq!(e.hash, chain_hash(GENESIS, unhashed));
        let line = e.to_line();
        assert_eq!(
            line,
            format!(
                "{},\"hash\":\"{}\"}}",
                &unhashed[..unhashed.len() - 1],
                e.hash
            )
        );
        assert_eq!(
            line_hash(GENESIS, line.as_bytes()),
            Some(<[u8; 64]>::try_from(e.hash.as_bytes()).unwrap())
        );
        // The earlier form: canonical JSON, keys sorted.
        assert_eq!(
            e.canonical(),
            r#"{"a":{"b":2,"z":1},"actor":"ana@bastion","at":"2026-11-25T03:07:00Z","kind":"note","seq":3,"text":"hi"}"#
        );
    }

    #[test]
    fn hash_is_sha256_of_previous_hash_then_the_hashed_text() {
        // Known answer: SHA-256 of the empty string.
        assert_eq!(
            &sha256_hex(&[b""]),
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // SHA-256("abc") split across the two parts.
        assert_eq!(
            chain_hash("a", "bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            chain_hash("a", b"bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_chain_links_each_entry_to_the_previous_one() {
        let at = ts("2026-11-25T03:07:00Z");
        let a = JournalEntry::seal(1, at, "u@h".into(), "note".into(), Map::new(), GENESIS);
        let b = JournalEntry::seal(2, at, "u@h".into(), "note".into(), Map::new(), &a.hash);
        let b2 = JournalEntry::seal(2, at, "u@h".into(), "note".into(), Map::new(), GENESIS);
        assert!(is_hash(&a.hash) && is_hash(&b.hash));
        assert_ne!(b.hash, b2.hash, "the previous hash is part of the hash");
        assert_eq!(b.hash, chain_hash(&a.hash, b.unhashed_line()));
        assert_eq!(
            line_hash(&a.hash, b.to_line().as_bytes()).unwrap(),
            b.hash.as_bytes()
        );
    }

    #[test]
    fn any_change_to_the_line_changes_its_hash() {
        let e = sealed(json!({"text": "hi there", "level": 3}));
        let line = e.to_line();
        let good = line_hash(GENESIS, line.as_bytes()).unwrap();
        assert_eq!(&good, e.hash.as_bytes());
        let edits = [
            line.replace("hi there", "hi thera"),
            // The same object, keys in another order.
            line.replace(
                r#""level":3,"text":"hi there""#,
                r#""text":"hi there","level":3"#,
            ),
            // The same object, spaced.
            line.replace(r#""kind":"note""#, r#""kind": "note""#),
            line.replace(r#","level":3"#, ""),
            line.replace(r#""seq":3,"#, r#""seq":3.0,"#),
        ];
        for edited in &edits {
            assert_ne!(edited, &line);
            assert_ne!(
                line_hash(GENESIS, edited.as_bytes()),
                Some(good),
                "{edited}"
            );
            // Still an entry, with the same stored hash: only the hash check catches it.
            if let Ok(back) = JournalEntry::parse_line(edited.as_bytes()) {
                assert_eq!(back.hash, e.hash);
            }
        }
    }

    #[test]
    fn only_a_final_hash_member_as_warroom_writes_it_is_hashed_from_the_bytes() {
        let e = sealed(json!({"text": "x"}));
        let line = e.to_line();
        let (head, hex) = split_hash_member(line.as_bytes()).unwrap();
        assert_eq!(hex, e.hash.as_bytes());
        assert_eq!(
            [head, b"}"].concat(),
            e.unhashed_line().into_bytes(),
            "the line without its hash member"
        );
        let hash_member = format!(r#","hash":"{}""#, e.hash);
        let not_last = line
            .replace(&hash_member, "")
            .replace(r#"{"seq""#, &format!(r#"{{"hash":"{}","seq""#, e.hash));
        let spaced = line.replace(r#","hash":""#, r#", "hash": ""#);
        let trailing_space = format!("{line} ");
        let upper = line.replace(&e.hash, &e.hash.to_uppercase());
        for other in [&not_last, &spaced, &trailing_space, &upper] {
            assert_eq!(split_hash_member(other.as_bytes()), None, "{other}");
            assert_eq!(line_hash(GENESIS, other.as_bytes()), None, "{other}");
        }
        // Still entries (except the upper-case hash): verify falls back to the earlier form.
        assert_eq!(JournalEntry::parse_line(not_last.as_bytes()).unwrap(), e);
        assert_eq!(JournalEntry::parse_line(spaced.as_bytes()).unwrap(), e);
        // A note that quotes a hash member cannot pose as one: quotes inside it are escaped.
        let sly = sealed(json!({"text": format!(r#"x{hash_member}}}"#)}));
        let sly_line = sly.to_line();
        let (_, hex) = split_hash_member(sly_line.as_bytes()).unwrap();
        assert_eq!(hex, sly.hash.as_bytes());
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
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","actor":7,"kind":"k","hash":"x"}"#,
                "actor is not a string",
            ),
            (
                r#"{"seq":1,"at":1795575600,"actor":"a","kind":"k","hash":"x"}"#,
                "at is not a string",
            ),
            (
                r#"{"seq":1,"at":{"t":[1,null]},"actor":"a","kind":"k","hash":"x"}"#,
                "at is not a string",
            ),
            (
                r#"{"seq":1,"at":null,"actor":"a","kind":"k","hash":"x"}"#,
                "at is not a string",
            ),
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "at appears twice",
            ),
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x","hash":"y"}"#,
                "hash appears twice",
            ),
            (
                r#"{"seq":"1","at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "seq is not a number",
            ),
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","actor":"a","hash":"x"}"#,
                "no kind",
            ),
            // A field twice: readers differ on which one counts, so neither does.
            (
                r#"{"seq":1,"seq":2,"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","hash":"x"}"#,
                "seq appears twice",
            ),
            (
                r#"{"seq":1,"at":"2026-11-25T03:07:00Z","actor":"a","kind":"k","t":1,"t":2,"hash":"x"}"#,
                "t appears twice",
            ),
            ("{\"seq\":1} trailing", "not JSON"),
            ("", "not JSON"),
            ("\"just a string\"", "not a JSON object"),
        ];
        for (line, why) in bad {
            let err = JournalEntry::parse_line(line.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
            // Read the slow way, through a Value, the same reason (duplicates aside: a Value
            // keeps the last).
            if let Ok(Value::Object(m)) = serde_json::from_str(line)
                && !why.contains("twice")
            {
                assert_eq!(JournalEntry::from_map(m).unwrap_err(), err, "{line}");
            }
        }
        // Escapes in the reserved fields are read as JSON reads them.
        let escaped = r#"{"s\u0065q":1,"at":"2026-11-25T03:07:00\u005a","actor":"a\u0040h","kind":"k","hash":"0000000000000000000000000000000000000000000000000000000000000000"}"#;
        let e = JournalEntry::parse_line(escaped.as_bytes()).unwrap();
        assert_eq!((e.seq, e.actor.as_str()), (1, "a@h"));
        assert_eq!(e.at, ts("2026-11-25T03:07:00Z"));
        assert!(e.body.is_empty());
    }

    #[test]
    fn actor_is_user_at_host() {
        let a = actor();
        let (user, host) = a.split_once('@').unwrap();
        assert!(!user.is_empty() && !host.is_empty());
    }
}
