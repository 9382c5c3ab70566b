use super::*;
use serde_json::json;

fn at(min: u32) -> Timestamp {
    format!("2026-11-25T03:{min:02}:00Z").parse().unwrap()
}

fn note(text: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("text".into(), json!(text));
    m
}

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&dir.path().join("incidents/x.jsonl"))
        .unwrap()
        .with_actor("ana@bastion");
    (dir, j)
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_planted_last_seq_of_u64_max_never_wraps_and_no_conditional_append_passes() {
    let (_d, j) = journal();
    let a = j.append("note", note("one"), at(1)).unwrap();
    let planted = JournalEntry::seal(
        u64::MAX,
        at(2),
        "eve@bastion".into(),
        "note".into(),
        note("x"),
        &a.hash,
    );
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(format!("{}\n", planted.to_line()).as_bytes())
        .unwrap();
    assert!(matches!(
        j.append("note", note("two"), at(3)),
        Err(JournalError::SeqOverflow { last: u64::MAX, .. })
    ));
    // The step lock: neither the planted seq nor the last real one grants a claim.
    for expected in [u64::MAX, 1] {
        assert!(
            j.append_if(expected, "step_started", note("s"), at(4))
                .is_err()
        );
    }
    let report = verify(j.path()).unwrap();
    assert!(!report.ok());
    assert_eq!(
        file_lines(j.path()).len(),
        2,
        "nothing written after the plant"
    );
}

#[test]
fn appends_chain_and_number_entries() {
    let (_d, j) = journal();
    assert_eq!(j.last().unwrap(), None);
    let a = j.append("note", note("one"), at(1)).unwrap();
    let b = j.append("declare", Map::new(), at(2)).unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(a.hash, chain_hash(GENESIS, a.unhashed_line()));
    assert_eq!(b.hash, chain_hash(&a.hash, b.unhashed_line()));
    assert_eq!(j.last().unwrap(), Some(b.clone()));
    let loaded = load(j.path()).unwrap();
    assert_eq!(loaded.entries, vec![a.clone(), b.clone()]);
    assert_eq!(loaded.lines, vec![1, 2]);
    assert!(loaded.torn.is_none() && loaded.problems.is_empty());
    let report = verify(j.path()).unwrap();
    assert!(report.ok() && report.warnings.is_empty(), "{report:?}");
    assert_eq!(report.entries, 2);
    // What was appended is on disk as its line, hashed as written.
    assert_eq!(file_lines(j.path()), vec![a.to_line(), b.to_line()]);
}

#[test]
fn an_empty_journal_verifies() {
    let (_d, j) = journal();
    let report = verify(j.path()).unwrap();
    assert!(report.ok() && report.entries == 0 && report.warnings.is_empty());
    let loaded = load(j.path()).unwrap();
    assert!(loaded.entries.is_empty() && loaded.torn.is_none());
    assert!(matches!(
        verify(&j.path().with_extension("missing")),
        Err(JournalError::Io { op: "read", .. })
    ));
}

#[test]
fn threads_of_one_process_exclude_each_other_too() {
    let (_d, j) = journal();
    std::thread::scope(|s| {
        for t in 0..4 {
            let j = j.clone();
            s.spawn(move || {
                for i in 0..50 {
                    j.append("note", note(&format!("{t}/{i}")), at(1)).unwrap();
                }
            });
        }
    });
    let loaded = load(j.path()).unwrap();
    let seqs: Vec<u64> = loaded.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    assert!(verify(j.path()).unwrap().ok());
}

#[test]
fn reserved_fields_are_refused() {
    let (_d, j) = journal();
    let mut body = note("x");
    body.insert("seq".into(), json!(99));
    assert!(matches!(
        j.append("note", body, at(1)),
        Err(JournalError::ReservedField(f)) if f == "seq"
    ));
    assert_eq!(load(j.path()).unwrap().entries.len(), 0);
}

#[test]
fn a_conditional_append_fails_once_the_journal_moved_on() {
    let (_d, j) = journal();
    let first = j.append_if(0, "step-start", note("s1"), at(1)).unwrap();
    assert_eq!(first.seq, 1);
    // Another console took the step first: seq 1 is no longer the last.
    j.append("note", note("meanwhile"), at(2)).unwrap();
    match j.append_if(1, "step-start", note("s1"), at(3)) {
        Err(JournalError::Conflict { last }) => assert_eq!(last, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(load(j.path()).unwrap().entries.len(), 2, "nothing written");
    assert_eq!(
        j.append_if(2, "step-start", note("s1"), at(3)).unwrap().seq,
        3
    );
    assert!(matches!(
        j.append_if(0, "x", Map::new(), at(4)),
        Err(JournalError::Conflict { last: 3 })
    ));
}

#[test]
fn a_torn_last_line_is_reported_skipped_and_closed_by_the_next_append() {
    let (_d, j) = journal();
    let a = j.append("note", note("one"), at(1)).unwrap();
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(br#"{"seq":2,"at":"2026-11-25T03:02:00Z","act"#)
        .unwrap();
    drop(f);

    let loaded = load(j.path()).unwrap();
    assert_eq!(loaded.entries, vec![a.clone()]);
    assert_eq!(loaded.torn, Some(TornLine { line: 2, bytes: 41 }));
    assert!(loaded.problems.is_empty());
    let report = verify(j.path()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.warnings[0].starts_with("line 2: torn last line (41 bytes)"));
    assert_eq!(j.last().unwrap(), Some(a.clone()));

    let b = j.append("note", note("two"), at(2)).unwrap();
    assert_eq!(b.seq, 2);
    assert_eq!(b.hash, chain_hash(&a.hash, b.unhashed_line()));
    let lines = file_lines(j.path());
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2], b.to_line());
    let loaded = load(j.path()).unwrap();
    assert_eq!(loaded.entries, vec![a, b]);
    assert_eq!(loaded.lines, vec![1, 3]);
    assert!(loaded.torn.is_none());
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.problems[0].line, 2);
    let report = verify(j.path()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.warnings[0].starts_with("line 2: not an entry, skipped"));
}

#[test]
fn a_whole_entry_missing_only_its_newline_counts() {
    let (_d, j) = journal();
    let a = j.append("note", note("one"), at(1)).unwrap();
    let len = std::fs::metadata(j.path()).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(j.path())
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    assert_eq!(load(j.path()).unwrap().entries, vec![a.clone()]);
    let b = j.append("note", note("two"), at(2)).unwrap();
    assert_eq!(b.seq, 2);
    assert_eq!(file_lines(j.path()), vec![a.to_line(), b.to_line()]);
    assert!(verify(j.path()).unwrap().ok());
}

#[test]
fn verify_names_the_first_edited_entry() {
    let (_d, j) = journal();
    for i in 1..=20 {
        j.append("note", note(&format!("n{i}")), at(i)).unwrap();
    }
    let mut lines = file_lines(j.path());
    lines[16] = lines[16].replace("\"n17\"", "\"all fine\"");
    write_lines(j.path(), &lines);
    let report = verify(j.path()).unwrap();
    assert_eq!(
        report.first_break.as_deref(),
        Some(
            "line 17 (seq 17): hash does not match its content — edited? (or the entry before it was)"
        )
    );
    assert_eq!(report.entries, 20);

    // Re-hashing the edited entry moves the break to the next one: still caught.
    let mut e = JournalEntry::parse_line(lines[16].as_bytes()).unwrap();
    let prev = JournalEntry::parse_line(lines[15].as_bytes()).unwrap();
    e = JournalEntry::seal(e.seq, e.at, e.actor, e.kind, e.body, &prev.hash);
    lines[16] = e.to_line();
    write_lines(j.path(), &lines);
    let report = verify(j.path()).unwrap();
    assert!(
        report
            .first_break
            .as_deref()
            .unwrap()
            .starts_with("line 18 (seq 18): hash"),
        "{report:?}"
    );
}

fn same_loaded(a: &Loaded, b: &Loaded, what: &str) {
    assert_eq!(a.entries, b.entries, "{what}");
    assert_eq!(a.lines, b.lines, "{what}");
    assert_eq!(a.torn, b.torn, "{what}");
    assert_eq!(a.problems, b.problems, "{what}");
}

fn same_report(a: &VerifyReport, b: &VerifyReport, what: &str) {
    assert_eq!(a.entries, b.entries, "{what}");
    assert_eq!(a.first_break, b.first_break, "{what}");
    assert_eq!(a.warnings, b.warnings, "{what}");
}

/// Loads with [`load_verified`] and checks it agrees with [`load`], [`verify`], and
/// itself on any number of threads.
fn load_verified_agrees(path: &Path) -> (Loaded, VerifyReport) {
    let (loaded, report) = load_verified_with(path, 1).unwrap();
    same_loaded(&loaded, &load(path).unwrap(), "load");
    same_report(&report, &verify(path).unwrap(), "verify");
    let (l, r) = load_verified(path).unwrap();
    same_loaded(&loaded, &l, "load_verified");
    same_report(&report, &r, "load_verified");
    for threads in 2..=6 {
        let (l, r) = load_verified_with(path, threads).unwrap();
        let what = format!("{threads} threads");
        same_loaded(&loaded, &l, &what);
        same_report(&report, &r, &what);
    }
    // Read in windows smaller than a line, than a few lines, than the file: the same.
    for window in [1, 7, 100, 300, 1000] {
        for threads in [1, 3] {
            let (l, r) = read_journal(path, true, threads, usize::MAX, &|_| true, window).unwrap();
            let what = format!("{window}-byte windows on {threads} threads");
            same_loaded(&loaded, &l, &what);
            same_report(&report, &r, &what);
            let (_, r) = read_journal(path, true, threads, 0, &|_| false, window).unwrap();
            same_report(&report, &r, &format!("{what}, nothing kept"));
        }
    }
    (loaded, report)
}

#[test]
fn any_number_of_threads_reads_the_same_journal_the_same_way() {
    let (_d, j) = journal();
    for i in 1..=24 {
        j.append("note", note(&format!("n{i}")), at(i % 60))
            .unwrap();
        if i % 7 == 0 {
            let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
            f.write_all(b"not an entry\n").unwrap();
        }
    }
    let intact = file_lines(j.path());
    let (loaded, report) = load_verified_agrees(j.path());
    assert_eq!(loaded.entries.len(), 24);
    assert_eq!(loaded.problems.len(), 3);
    assert!(report.ok(), "{report:?}");
    // A break anywhere, whatever stretch it falls in, is found at the same line.
    for i in 0..intact.len() {
        let mut lines = intact.clone();
        lines[i] = lines[i].replacen("\"n", "\"N", 1);
        if lines[i] == intact[i] {
            continue;
        }
        write_lines(j.path(), &lines);
        let (_, report) = load_verified_agrees(j.path());
        let want = format!("line {} (seq ", i + 1);
        assert!(
            report.first_break.as_deref().unwrap().starts_with(&want),
            "{report:?}"
        );
        // An entry removed.
        lines = intact.clone();
        lines.remove(i);
        write_lines(j.path(), &lines);
        load_verified_agrees(j.path());
    }
    // A torn last line, and a file without a final newline.
    write_lines(j.path(), &intact);
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(b"{\"seq\":25,").unwrap();
    drop(f);
    let (loaded, _) = load_verified_agrees(j.path());
    assert!(loaded.torn.is_some());
    std::fs::write(j.path(), intact.join("\n")).unwrap();
    let (loaded, report) = load_verified_agrees(j.path());
    assert!(loaded.torn.is_none() && report.ok());
    assert_eq!(loaded.entries.len(), 24);
}

#[test]
fn load_verified_loads_and_verifies_in_one_pass() {
    let (_d, j) = journal();
    for i in 1..=5 {
        j.append("note", note(&format!("n{i}")), at(i)).unwrap();
    }
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(b"garbage\n{\"seq\":6,").unwrap();
    drop(f);
    let (loaded, report) = load_verified_agrees(j.path());
    assert_eq!(loaded.entries.len(), 5);
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.torn, Some(TornLine { line: 7, bytes: 9 }));
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 5);
    assert_eq!(report.warnings.len(), 2);
    assert!(report.warnings[0].starts_with("line 6: not an entry, skipped"));
    assert!(report.warnings[1].starts_with("line 7: torn last line (9 bytes)"));

    let mut lines = file_lines(j.path());
    lines[2] = lines[2].replace("\"n3\"", "\"n4\"");
    write_lines(j.path(), &lines[..5]);
    let (loaded, report) = load_verified_agrees(j.path());
    assert_eq!(loaded.entries.len(), 5, "a broken chain still loads");
    assert_eq!(report.entries, 5);
    assert!(
        report
            .first_break
            .as_deref()
            .unwrap()
            .starts_with("line 3 (seq 3): hash does not match its content — edited?"),
        "{report:?}"
    );
}

#[test]
fn a_reordered_or_respaced_line_is_a_break() {
    let (_d, j) = journal();
    let mut body = note("hello");
    body.insert("level".into(), json!(2));
    for i in 1..=3 {
        j.append("note", body.clone(), at(i)).unwrap();
    }
    let lines = file_lines(j.path());
    // The same JSON object, keys in another order: the hash covers the bytes.
    let mut edited = lines.clone();
    edited[1] = edited[1].replace(r#""level":2,"text":"hello""#, r#""text":"hello","level":2"#);
    assert_ne!(edited[1], lines[1]);
    write_lines(j.path(), &edited);
    let (loaded, report) = load_verified_agrees(j.path());
    assert_eq!(loaded.entries[1].body, body, "the same content");
    assert_eq!(
        report.first_break.as_deref(),
        Some(
            "line 2 (seq 2): hash does not match its content — edited? (or the entry before it was)"
        )
    );
    // Pretty-printed by another tool: no longer ends the way warroom writes it.
    let mut edited = lines.clone();
    let value: Value = serde_json::from_str(&edited[1]).unwrap();
    edited[1] = serde_json::to_string_pretty(&value)
        .unwrap()
        .replace('\n', "");
    write_lines(j.path(), &edited);
    let (_, report) = load_verified_agrees(j.path());
    let why = report.first_break.unwrap();
    assert!(
        why.starts_with("line 2 (seq 2): hash does not match its content, and the line does not end in `,\"hash\":\"…\"}`"),
        "{why}"
    );
    // A field removed.
    let mut edited = lines;
    edited[2] = edited[2].replace(r#""level":2,"#, "");
    write_lines(j.path(), &edited);
    let (_, report) = load_verified_agrees(j.path());
    assert!(
        report
            .first_break
            .unwrap()
            .starts_with("line 3 (seq 3): hash")
    );
}

#[test]
fn another_writer_hashing_its_own_line_is_accepted_whatever_its_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.jsonl");
    // Keys in another order, hash last as warroom writes it, over the rest of the line.
    let mut prev = GENESIS.to_string();
    let mut lines = Vec::new();
    for seq in 1..=3 {
        let unhashed = format!(
            r#"{{"kind":"note","text":"from elsewhere","actor":"bot@ci","seq":{seq},"at":"2026-11-25T03:0{seq}:00Z"}}"#
        );
        let hash = chain_hash(&prev, &unhashed);
        lines.push(format!(
            r#"{},"hash":"{hash}"}}"#,
            &unhashed[..unhashed.len() - 1]
        ));
        prev = hash;
    }
    write_lines(&path, &lines);
    let (loaded, report) = load_verified_agrees(&path);
    assert_eq!(loaded.entries.len(), 3);
    assert_eq!(loaded.entries[2].body["text"], json!("from elsewhere"));
    assert!(report.ok() && report.warnings.is_empty(), "{report:?}");

    // And a journal can go on after them.
    let j = Journal::open(&path).unwrap().with_actor("ana@bastion");
    let next = j.append("note", note("ours"), at(9)).unwrap();
    assert_eq!(next.seq, 4);
    assert_eq!(next.hash, chain_hash(&prev, next.unhashed_line()));
    let (_, report) = load_verified_agrees(&path);
    assert!(report.ok() && report.warnings.is_empty(), "{report:?}");
}

#[test]
fn entries_hashed_in_the_earlier_canonical_form_are_accepted_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.jsonl");
    // As warroom wrote them before the hash covered the line: over the canonical JSON
    // (here written with a space after each colon, which that form did not cover either).
    let mut prev = GENESIS.to_string();
    let mut lines = Vec::new();
    for seq in 1..=3u32 {
        let e = JournalEntry::seal(
            u64::from(seq),
            at(seq),
            "ana@bastion".into(),
            "note".into(),
            note(&format!("old {seq}")),
            &prev,
        );
        let hash = chain_hash(&prev, e.canonical());
        let mut value = e.unhashed_value();
        value.insert("hash".into(), json!(hash));
        lines.push(
            serde_json::to_string(&value)
                .unwrap()
                .replace("\":", "\": "),
        );
        prev = hash;
    }
    write_lines(&path, &lines);
    let j = Journal::open(&path).unwrap().with_actor("ana@bastion");
    j.append("note", note("new"), at(4)).unwrap();
    let (loaded, report) = load_verified_agrees(&path);
    assert_eq!(loaded.entries.len(), 4);
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        report.warnings,
        vec![
            "line 1 and 2 more entries: hash over the entry's canonical JSON (the earlier \
             form: an older warroom or another writer), accepted; for these the key order \
             and spacing of the line are not covered"
                .to_string()
        ]
    );

    // Their content is still covered.
    let mut edited = lines.clone();
    edited[1] = edited[1].replace("old 2", "old two");
    write_lines(&path, &edited);
    let (_, report) = load_verified_agrees(&path);
    assert!(
        report.first_break.as_deref().unwrap().starts_with(
            "line 2 (seq 2): hash does not match its content, and the line does not end"
        ),
        "{report:?}"
    );
}

#[test]
fn verify_names_a_deleted_entry() {
    let (_d, j) = journal();
    for i in 1..=20 {
        j.append("note", note(&format!("n{i}")), at(i)).unwrap();
    }
    let mut lines = file_lines(j.path());
    lines.remove(16);
    write_lines(j.path(), &lines);
    let report = verify(j.path()).unwrap();
    assert_eq!(
        report.first_break.as_deref(),
        Some("line 17 (seq 18): seq jumps from 16 to 18 — entries missing?")
    );

    // Deleting the last entries cannot be seen in the file itself, but a reordering can.
    let mut lines = file_lines(j.path());
    lines.swap(3, 4);
    write_lines(j.path(), &lines);
    let report = verify(j.path()).unwrap();
    assert_eq!(
        report.first_break.as_deref(),
        Some("line 4 (seq 5): seq jumps from 3 to 5 — entries missing?")
    );
}

#[test]
fn garbage_lines_are_problems_not_errors() {
    let (_d, j) = journal();
    let a = j.append("note", note("one"), at(1)).unwrap();
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(b"\xff\xfe not json\n\n[1,2]\n").unwrap();
    drop(f);
    let b = j.append("note", note("two"), at(2)).unwrap();
    assert_eq!(b.seq, 2, "chains from the last valid entry");
    let loaded = load(j.path()).unwrap();
    assert_eq!(loaded.entries, vec![a, b]);
    let lines: Vec<usize> = loaded.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    let report = verify(j.path()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.warnings.len(), 3);
}

#[test]
fn the_last_entry_is_found_behind_a_long_tail() {
    // Longer than the first tail chunk, so the tail is read in growing chunks.
    let (_d, j) = journal();
    j.append("note", note("short"), at(1)).unwrap();
    let big = "x".repeat(300 * 1024);
    let e = j.append("note", note(&big), at(2)).unwrap();
    assert_eq!(j.last().unwrap().unwrap(), e);
    // A long torn fragment after it.
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(format!("{{\"seq\":3,\"text\":\"{big}").as_bytes())
        .unwrap();
    drop(f);
    assert_eq!(j.last().unwrap().unwrap(), e);
    assert_eq!(j.append("note", note("after"), at(3)).unwrap().seq, 3);
    assert!(verify(j.path()).unwrap().ok());
}

#[test]
fn follow_returns_only_complete_new_entries() {
    let (_d, j) = journal();
    let f0 = follow(j.path(), 0).unwrap();
    assert!(f0.entries.is_empty() && f0.offset == 0);
    let a = j.append("note", note("one"), at(1)).unwrap();
    let f1 = follow(j.path(), f0.offset).unwrap();
    assert_eq!(f1.entries, vec![a.clone()]);
    let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
    f.write_all(b"{\"seq\":2,").unwrap();
    drop(f);
    let f2 = follow(j.path(), f1.offset).unwrap();
    assert!(f2.entries.is_empty() && f2.problems.is_empty());
    assert_eq!(f2.offset, f1.offset, "the partial line is left for later");
    let b = j.append("note", note("two"), at(2)).unwrap();
    let f3 = follow(j.path(), f2.offset).unwrap();
    assert_eq!(f3.entries, vec![b]);
    assert_eq!(
        f3.problems.len(),
        1,
        "the torn fragment, closed by the append"
    );
    assert_eq!(f3.offset, std::fs::metadata(j.path()).unwrap().len());
    assert!(follow(j.path(), f3.offset).unwrap().entries.is_empty());
    assert!(matches!(
        follow(j.path(), f3.offset + 1),
        Err(JournalError::Shrunk { .. })
    ));
}

#[test]
fn open_creates_directories_for_the_team_and_nobody_else() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j/incidents/drills/d.jsonl");
    Journal::open(&path).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // Others get nothing; the journal group is the team (its write is the umask's call,
    // or the default ACL's in a dir made by `journal init`).
    assert_eq!(mode(&dir.path().join("j/incidents")) & 0o007, 0);
    assert_eq!(mode(&path) & 0o007, 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    // Opening again keeps what is there.
    let j = Journal::open(&path).unwrap();
    j.append("x", Map::new(), at(1)).unwrap();
    Journal::open(&path).unwrap();
    assert_eq!(load(&path).unwrap().entries.len(), 1);
}

#[test]
fn keeping_reads_whole_only_the_newest_and_the_wanted_and_verifies_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::open(&path).unwrap().with_actor("ana@h");
    for i in 0..50 {
        let kind = if i == 3 { "declared" } else { "note" };
        j.append(kind, note(&format!("n{i}")), at(i)).unwrap();
    }
    let wanted = |h: &JournalEntry| h.kind == "declared";
    let (loaded, report) = load_verified_keeping(&path, 10, &wanted).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 50, "every line is checked");
    let seqs: Vec<u64> = loaded.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    assert_eq!(loaded.lines, [4, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    assert!(
        loaded
            .entries
            .iter()
            .all(|e| e.actor == "ana@h" && !e.body.is_empty())
    );
    // An edit in an old line, not kept, is still the first break, as verify says.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"n7\"", "\"n8\"", 1)).unwrap();
    let (_, report) = load_verified_keeping(&path, 10, &wanted).unwrap();
    assert_eq!(report.first_break, verify(&path).unwrap().first_break);
    assert!(
        report
            .first_break
            .as_deref()
            .is_some_and(|b| b.starts_with("line 8 (seq 8)")),
        "{report:?}"
    );
}

#[test]
fn append_all_chains_many_entries_in_one_write_after_what_is_there() {
    let (_d, j) = journal();
    j.append("note", note("first"), at(0)).expect("append");
    let items: Vec<_> = (1..=500)
        .map(|n| {
            (
                "bo@h".to_string(),
                "note".to_string(),
                note(&format!("n{n}")),
                at(n % 60),
            )
        })
        .collect();
    let written = j.append_all(items).expect("append_all");
    assert_eq!(written.len(), 500);
    assert_eq!(written[0].seq, 2);
    assert_eq!(written[499].seq, 501);
    assert_eq!(written[0].actor, "bo@h");
    let report = verify(j.path()).expect("verify");
    assert!(report.ok(), "{report:?}");
    assert_eq!(load(j.path()).expect("load").entries.len(), 501);
    // One reserved name: nothing written.
    let mut bad = note("x");
    bad.insert("seq".into(), Value::from(9));
    let items = vec![
        ("bo@h".to_string(), "note".to_string(), note("ok"), at(1)),
        ("bo@h".to_string(), "note".to_string(), bad, at(2)),
    ];
    assert!(matches!(
        j.append_all(items),
        Err(JournalError::ReservedField(_))
    ));
    assert_eq!(load(j.path()).expect("load").entries.len(), 501);
}
