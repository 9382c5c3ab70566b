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
mod tests;
