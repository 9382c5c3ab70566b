use super::*;

fn captured(limit: usize, chunks: &[&str]) -> Captured {
    let mut c = Capture::new(limit);
    for chunk in chunks {
        c.push(chunk.as_bytes());
    }
    c.done()
}

#[test]
fn capture_within_the_limit_keeps_everything() {
    let c = captured(10, &["abc", "def"]);
    assert_eq!(c.text, "abcdef");
    assert_eq!(c.omitted, 0);
    assert_eq!(captured(6, &["abc", "def"]).text, "abcdef");
}

#[test]
fn capture_over_the_limit_keeps_head_and_tail() {
    let c = captured(6, &["abcd", "efgh", "ij"]);
    assert_eq!(c.text, "abc\n… 4 bytes left out …\nhij");
    assert_eq!(c.omitted, 4);
    let c = captured(4, &["first\n", "0123456789", "last"]);
    assert_eq!(c.text, "fi\n… 16 bytes left out …\nst");
    assert_eq!(c.omitted, 16);
    let c = captured(0, &["abc"]);
    assert_eq!((c.text.as_str(), c.omitted), ("… 3 bytes left out …\n", 3));
}

#[test]
fn capture_byte_by_byte_matches_one_chunk() {
    let text = "line one\nline two\nline three\n";
    let whole = captured(9, &[text]);
    let mut c = Capture::new(9);
    for b in text.bytes() {
        c.push(&[b]);
    }
    assert_eq!(c.done(), whole);
    assert_eq!(whole.omitted, (text.len() - 9) as u64);
}

#[test]
fn first_and_last_lines_skip_blanks() {
    let c = Captured {
        text: "\n  up 3 days \nmiddle\nlast one\n\n".into(),
        omitted: 0,
    };
    assert_eq!(c.first_line(), Some("up 3 days"));
    assert_eq!(c.last_line(), Some("last one"));
    assert_eq!(Captured::default().first_line(), None);
}

#[test]
fn exits_read_as_words() {
    assert_eq!(Exit::Code(2).to_string(), "exit 2");
    assert_eq!(Exit::Signal(9).to_string(), "killed by SIGKILL");
    assert_eq!(Exit::Signal(200).to_string(), "killed by signal 200");
    assert!(Exit::Code(0).success());
    assert!(!Exit::Signal(15).success());
}

#[test]
fn io_reasons_drop_the_os_error_number() {
    let e = io::Error::from_raw_os_error(libc_enoent());
    assert_eq!(io_reason(&e), "No such file or directory");
}

#[test]
fn a_stat_line_is_read_past_a_name_with_parentheses_and_spaces() {
    let line =
        "4242 (sh (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
    assert_eq!(
        parse_stat(line),
        Some(ProcStat {
            state: 'S',
            pgrp: 4242,
            session: 4242,
            start: 987654
        })
    );
    assert_eq!(parse_stat("12 (x) Z"), None);
}

#[test]
fn a_zombie_or_a_reused_pid_is_not_alive() {
    let me = std::process::id();
    let mine = stat_of(me).expect("this process's stat");
    assert!(process_alive(me, Some(mine.start)));
    assert!(process_alive(me, None));
    // The same pid with another start time is another process.
    assert!(!process_alive(me, Some(mine.start + 1)));
    // A child that exited and was not reaped yet is a zombie.
    let child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stat_of(pid).is_some_and(|s| s.state != 'Z') && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stat_of(pid).map(|s| s.state), Some('Z'));
    assert!(!process_alive(pid, None), "a zombie holds nothing");
    drop(child);
}

fn libc_enoent() -> i32 {
    nix::errno::Errno::ENOENT as i32
}
