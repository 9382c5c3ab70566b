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
