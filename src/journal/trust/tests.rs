use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(p: &Path, uid: Option<u32>, gid: Option<u32>) {
    std::os::unix::fs::lchown(p, uid, gid).unwrap();
}

/// A journal dir of this account's own (the single-account case).
fn own_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("j");
    std::fs::create_dir_all(top.join("incidents")).unwrap();
    chmod(&top, 0o700);
    (tmp, top)
}

fn unsafe_why(r: Result<bool, TrustError>) -> String {
    match r {
        Err(TrustError::Unsafe { path, why }) => format!("{}: {why}", path.display()),
        other => panic!("expected JOURNAL UNSAFE, got {other:?}"),
    }
}

#[test]
fn the_single_account_case_is_trusted_and_missing_parts_are_fine() {
    let (_tmp, top) = own_dir();
    let team = Team::of(&top, &[]).unwrap();
    assert_eq!(team.role(), Role::Operator);
    assert!(team.check(&top.join("incidents")).unwrap());
    assert!(!team.check(&top.join("incidents/x.jsonl")).unwrap());
    assert!(!team.check(&top.join("nope/deeper")).unwrap());
    std::fs::write(top.join("incidents/x.jsonl"), "").unwrap();
    let mut f = team.open_read(&top.join("incidents/x.jsonl")).unwrap();
    assert!(f.take().is_some());
}

#[test]
fn what_others_can_write_or_link_is_refused_below_the_top_too() {
    let (_tmp, top) = own_dir();
    let team = Team::of(&top, &[]).unwrap();
    let incidents = top.join("incidents");
    chmod(&incidents, 0o777);
    let why = unsafe_why(team.check(&incidents.join("a.jsonl")));
    assert!(why.contains("incidents: writable by others"), "{why}");
    chmod(&incidents, 0o770);
    // Group write is the team's, and fine.
    assert!(team.check(&incidents).unwrap());
    let victim = top.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, top.join("recorder.lock")).unwrap();
    let why = unsafe_why(team.check(&top.join("recorder.lock")));
    assert!(why.contains("recorder.lock: a symbolic link"), "{why}");
    std::fs::remove_dir_all(&incidents).unwrap();
    std::os::unix::fs::symlink(std::env::temp_dir(), &incidents).unwrap();
    let why = unsafe_why(team.check(&incidents.join("x.jsonl")));
    assert!(why.contains("symbolic link"), "{why}");
}

#[test]
fn an_owner_outside_the_team_or_a_foreign_group_is_refused() {
    if !nix::unistd::getuid().is_root() {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("skipped: needs root to give files to other uids");
        return;
    }
    let (_tmp, top) = own_dir();
    let team = Team::of(&top, &[]).unwrap();
    let planted = top.join("incidents/2099-01-01T0000Z-fake.jsonl");
    std::fs::write(&planted, "").unwrap();
    chmod(&planted, 0o640);
    // An account nobody knows: not a member of the journal group.
    chown(&planted, Some(54321), None);
    let why = unsafe_why(team.check(&planted));
    assert!(
        why.contains("owned by uid 54321, not by root or a member of group"),
        "{why}"
    );
    chown(&planted, Some(0), Some(54321));
    let why = unsafe_why(team.check(&planted));
    assert!(
        why.contains("its group is 54321, not the journal group"),
        "{why}"
    );
    chown(&planted, Some(0), Some(top.metadata().unwrap().gid()));
    assert!(team.check(&planted).unwrap());
    chmod(&planted, 0o4640);
    assert!(unsafe_why(team.check(&planted)).contains("setuid"));
    chmod(&planted, 0o640);
    // With an operators list, only those accounts (and root) may own files.
    let named = Team::of(&top, &["nobody".to_string()]).unwrap();
    chown(&planted, Some(54321), None);
    let why = unsafe_why(named.check(&planted));
    assert!(why.contains("an account in [console] operators"), "{why}");
}

#[test]
fn an_acl_granting_write_beyond_the_team_is_refused() {
    let (_tmp, top) = own_dir();
    let team = Team::of(&top, &[]).unwrap();
    let f = top.join("incidents/a.jsonl");
    std::fs::write(&f, "").unwrap();
    let file = File::open(&f).unwrap();
    // user:54321:rw- with a mask that lets it through.
    let mut acl = ACL_VERSION.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (ACL_USER_OBJ, 6u16, NO_ID),
        (ACL_USER, 6, 54321),
        (ACL_GROUP_OBJ, 4, NO_ID),
        (ACL_MASK, 6, NO_ID),
        (ACL_OTHER, 0, NO_ID),
    ] {
        acl.extend_from_slice(&tag.to_le_bytes());
        acl.extend_from_slice(&perm.to_le_bytes());
        acl.extend_from_slice(&id.to_le_bytes());
    }
    rustix::fs::fsetxattr(&file, ACL_ACCESS, &acl, rustix::fs::XattrFlags::empty()).unwrap();
    let why = unsafe_why(team.check(&f));
    assert!(why.contains("an ACL lets user uid 54321 write it"), "{why}");
    // The observers' read-only entry is fine.
    rustix::fs::fsetxattr(
        &file,
        ACL_ACCESS,
        &team_acl(Some(54321), false),
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    assert!(team.check(&f).unwrap());
}

#[test]
fn init_adopts_after_verifying_and_new_files_are_the_teams_whatever_the_umask() {
    if !nix::unistd::getuid().is_root() {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("skipped: needs root to give the dir to a group");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("team");
    // Group 0 plays the operators; `nogroup` (or any other) the observers.
    let obs = nix::unistd::Group::from_name("nogroup")
        .ok()
        .flatten()
        .or_else(|| nix::unistd::Group::from_name("daemon").ok().flatten())
        .expect("a second group");
    let root_group = group_name(0);
    let r = init(&top, &root_group, Some(&obs.name)).unwrap();
    assert!(r.created && r.dirs == 3, "{r:?}");
    let m = std::fs::metadata(top.join("incidents")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o2770);
    let team = Team::of(&top, &[]).unwrap();
    assert_eq!(team.observers, vec![obs.gid.as_raw()]);
    // A file created later with 0660 under umask 022 is still group-writable: the
    // default ACL, not the umask, decides.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o660)
        .open(top.join("incidents/new.jsonl"))
        .unwrap();
    nix::sys::stat::umask(old);
    let m = std::fs::metadata(top.join("incidents/new.jsonl")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o660);
    assert!(team.check(&top.join("incidents/new.jsonl")).unwrap());
    // Idempotent; a broken chain is never adopted.
    init(&top, &root_group, Some(&obs.name)).unwrap();
    let path = top.join("incidents/new.jsonl");
    let j = super::super::file::Journal::open(&path).unwrap();
    for text in ["one", "two"] {
        let mut body = serde_json::Map::new();
        body.insert("text".into(), text.into());
        j.append("note", body, jiff::Timestamp::now()).unwrap();
    }
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("one", "eno");
    std::fs::write(&path, edited).unwrap();
    let e = init(&top, &root_group, Some(&obs.name)).unwrap_err();
    assert!(e.contains("BROKEN"), "{e}");
    assert!(
        init(&top, "surely-no-such-group", None)
            .unwrap_err()
            .contains("groupadd")
    );
}

use std::os::unix::fs::OpenOptionsExt;

#[test]
fn acls_parse_back_as_written() {
    let bytes = team_acl(Some(100), true);
    let acl = parse_acl(&bytes);
    assert_eq!(acl.len(), 5);
    assert!(acl.contains(&AclEntry {
        tag: ACL_GROUP,
        perm: 5,
        id: 100
    }));
    assert_eq!(parse_acl(&team_acl(None, false)).len(), 3);
    assert!(parse_acl(&[1, 2]).is_empty());
}
