use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a timestamp")
}

#[test]
fn rfc3339_times_are_parsed() {
    assert_eq!(
        parse_rfc3339("2024-01-15T14:30:00Z"),
        Ok(ts("2024-01-15T14:30:00Z"))
    );
    assert_eq!(
        parse_rfc3339(" 2024-01-15T16:30:00.250+02:00\n"),
        Ok(ts("2024-01-15T14:30:00.25Z"))
    );
    assert_eq!(
        parse_rfc3339("2024-01-15t14:30:00z"),
        Ok(ts("2024-01-15T14:30:00Z"))
    );
    assert_eq!(
        parse_rfc3339("2024-01-15T09:30:00-05:00"),
        Ok(ts("2024-01-15T14:30:00Z"))
    );
}

#[test]
fn anything_else_is_refused() {
    for bad in [
        "",
        "yesterday",
        "2024-01-15",
        "2024-01-15T14:30Z",
        "2024-01-15 14:30:00Z",
        "2024-01-15T14:30:00",
        "2024-01-15T14:30:00+0200",
        "2024-01-15T14:30:00+02",
        "2024-01-15T14:30:00.Z",
        "2024-01-15T14:30:00Z[Europe/Madrid]",
        "2024-01-15T14:30:00Zjunk",
        "2024-13-15T14:30:00Z",
        "2024-02-30T14:30:00Z",
        "2024-01-15T25:30:00Z",
        "1705329000",
    ] {
        assert!(parse_rfc3339(bad).is_err(), "{bad:?} was accepted");
    }
    assert_eq!(
        parse_rfc3339("2024-01-15T14:30:00"),
        Err("no offset: add Z for UTC, or ±HH:MM".into())
    );
}

fn declared(name: &str) -> Vec<Input> {
    vec![
        Input {
            name: "reason".into(),
            kind: InputKind::Text,
            prompt: None,
        },
        Input {
            name: name.into(),
            kind: InputKind::Rfc3339,
            prompt: None,
        },
    ]
}

#[test]
fn the_restore_time_is_the_rfc3339_input_not_in_the_future() {
    let now = ts("2024-01-15T15:00:00Z");
    let inputs = BTreeMap::from([
        ("reason".to_string(), "2024-01-15T10:00:00Z".to_string()),
        ("restore_to".to_string(), "2024-01-15T14:30:00Z".to_string()),
    ]);
    assert_eq!(
        restore_time(&declared("restore_to"), &inputs, now),
        Ok(ts("2024-01-15T14:30:00Z"))
    );
    // No declared input: the conventional name.
    let inputs = BTreeMap::from([("time".to_string(), "2024-01-15T14:30:00Z".to_string())]);
    assert_eq!(
        restore_time(&[], &inputs, now),
        Ok(ts("2024-01-15T14:30:00Z"))
    );
    let err = restore_time(&declared("restore_to"), &inputs, now).unwrap_err();
    assert_eq!(
        err,
        "no restore time was given (input `restore_to`): nothing restored"
    );
    let future = BTreeMap::from([("time".to_string(), "2024-01-15T15:00:01Z".to_string())]);
    assert_eq!(
        restore_time(&[], &future, now),
        Err("restore time 2024-01-15T15:00:01Z is in the future (now 2024-01-15T15:00:00Z): nothing restored".into())
    );
    let bad = BTreeMap::from([("time".to_string(), "15/01/2024 14:30".to_string())]);
    let err = restore_time(&[], &bad, now).unwrap_err();
    assert!(
        err.starts_with("restore time \"15/01/2024 14:30\" is not an RFC 3339 time"),
        "{err}"
    );
}
