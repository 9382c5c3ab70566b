//! Who may change what the journal dir holds: the team model (DESIGN.md, "Journal").
//!
//! One bastion, one account per person. The journal dir's own group is the **journal group**:
//! its operators. A file or directory under the journal dir is **trusted** when it was opened
//! with `O_NOFOLLOW` through `openat` from a trusted parent, `fstat` shows a regular file or a
//! directory, it is owned by root or an operator (with no `[console] operators`: any member of
//! the journal group), its group is the journal group, others cannot write it, no ACL entry
//! lets anyone but its owner and the journal group write it, and it is not setuid.
//!
//! What is untrusted is never read as truth, written or delivered. Because every directory
//! on the way is trusted (nobody outside the team can rename or replace what is in it), a
//! path checked here and then opened with `O_NOFOLLOW` is the file that was checked.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{Mode, OFlags, Stat};
use rustix::io::Errno;

const ACL_ACCESS: &str = "system.posix_acl_access";
const ACL_DEFAULT: &str = "system.posix_acl_default";
const ACL_VERSION: u32 = 2;
const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const NO_ID: u32 = u32::MAX;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Present but not to be trusted: the header says `JOURNAL UNSAFE: <path>: <why>`.
    #[error("JOURNAL UNSAFE: {path}: {why}")]
    Unsafe { path: PathBuf, why: String },
    #[error("{path}: {why}")]
    Io {
        path: PathBuf,
        why: String,
        /// The account may not read it at all (EACCES).
        denied: bool,
    },
}

impl TrustError {
    pub fn is_unsafe(&self) -> bool {
        matches!(self, TrustError::Unsafe { .. })
    }
}

/// What the account running this console may do with the journal dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Root, or a member of the journal group.
    Operator,
    /// A member of a group the journal dir's ACL lets read (`--observers`): read-only.
    Observer,
    /// Neither: refused, with the groups to join.
    Outsider { groups: String },
}

/// The team a journal dir belongs to, as its top directory says.
#[derive(Debug, Clone)]
pub struct Team {
    top: PathBuf,
    /// The journal group: the journal dir's own group.
    group: u32,
    group_name: String,
    /// Accounts that may own files besides root; `None`: any member of the journal group.
    operators: Option<Vec<u32>>,
    /// Groups the top's ACL lets read but not write.
    observers: Vec<u32>,
    /// Whether a uid is a member of the journal group (looked up once).
    members: Arc<Mutex<HashMap<u32, bool>>>,
}

impl Team {
    /// The team of the journal dir `top`, which must exist and be a directory of its own
    /// (not a symbolic link). `operators` are account names (`[console] operators`).
    pub fn of(top: &Path, operators: &[String]) -> Result<Team, TrustError> {
        let fd = match open_top(top) {
            Ok(fd) => fd,
            // Not ours to read: who it belongs to is still known, to say whom to ask.
            Err(e) if is_denied(&e) => return Team::unreadable(top, operators).ok_or(e),
            Err(e) => return Err(e),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| io_err(top, "stat", e))?;
        let observers = read_acl(&fd, ACL_ACCESS)
            .map(|acl| observer_groups(&acl))
            .unwrap_or_default();
        let team = Team::new(top, st.st_gid, operators, observers);
        team.verdict(top, &fd, &st)?;
        Ok(team)
    }

    fn new(top: &Path, group: u32, operators: &[String], observers: Vec<u32>) -> Team {
        Team {
            top: top.to_path_buf(),
            group,
            group_name: group_name(group),
            operators: (!operators.is_empty()).then(|| {
                operators
                    .iter()
                    .filter_map(|name| nix::unistd::User::from_name(name).ok().flatten())
                    .map(|u| u.uid.as_raw())
                    .collect()
            }),
            observers,
            members: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The team of a journal dir this account cannot open: read from its metadata (which
    /// needs no read permission) only to tell the account which groups to join.
    fn unreadable(top: &Path, operators: &[String]) -> Option<Team> {
        let st = rustix::fs::lstat(top).ok()?;
        let mut buf = vec![0u8; 4 + 8 * 64];
        let observers = rustix::fs::lgetxattr(top, ACL_ACCESS, &mut buf[..])
            .map(|n| observer_groups(&parse_acl(&buf[..n])))
            .unwrap_or_default();
        Some(Team::new(top, st.st_gid, operators, observers))
    }

    pub fn top(&self) -> &Path {
        &self.top
    }

    pub fn group_name(&self) -> &str {
        &self.group_name
    }

    /// What the account running this process may do here.
    pub fn role(&self) -> Role {
        let uid = nix::unistd::getuid().as_raw();
        let mine = my_groups();
        if uid == 0 || mine.contains(&self.group) {
            return Role::Operator;
        }
        if self.observers.iter().any(|g| mine.contains(g)) {
            return Role::Observer;
        }
        let mut groups = format!("{} (operators)", self.group_name);
        for g in &self.observers {
            groups.push_str(&format!(" or {} (observers)", group_name(*g)));
        }
        Role::Outsider { groups }
    }

    /// Whether `uid` may own what the journal dir holds.
    fn may_own(&self, uid: u32) -> bool {
        if uid == 0 {
            return true;
        }
        match &self.operators {
            Some(ops) => ops.contains(&uid),
            None => self.is_member(uid),
        }
    }

    fn is_member(&self, uid: u32) -> bool {
        let mut cache = self.members.lock().unwrap_or_else(|p| p.into_inner());
        *cache
            .entry(uid)
            .or_insert_with(|| member_of(uid, self.group))
    }

    /// Whether the account named in an entry's actor (`user@host`) is an operator here.
    pub fn is_operator_actor(&self, actor: &str) -> bool {
        let user = actor.rsplit_once('@').map_or(actor, |(u, _)| u);
        let uid = match nix::unistd::User::from_name(user) {
            Ok(Some(u)) => u.uid.as_raw(),
            // A uid written as a number (an account without a name).
            _ => match user.parse::<u32>() {
                Ok(uid) => uid,
                Err(_) => return false,
            },
        };
        // Whoever may own the journal's files wrote it as an operator.
        self.may_own(uid)
    }

    /// Why what `st` describes (opened as `fd`, at `path`) is not to be trusted, if it is not.
    fn verdict(&self, path: &Path, fd: &OwnedFd, st: &Stat) -> Result<(), TrustError> {
        let why = |why: String| TrustError::Unsafe {
            path: path.to_path_buf(),
            why,
        };
        let kind = st.st_mode & nix::libc::S_IFMT;
        if kind != nix::libc::S_IFREG && kind != nix::libc::S_IFDIR {
            return Err(why("not a regular file or a directory".into()));
        }
        let mode = st.st_mode & 0o7777;
        if !self.may_own(st.st_uid) {
            let whom = match &self.operators {
                Some(_) => "an account in [console] operators".to_string(),
                None => format!("a member of group {}", self.group_name),
            };
            return Err(why(format!(
                "owned by {}, not by root or {whom}",
                user_name(st.st_uid)
            )));
        }
        if st.st_gid != self.group {
            return Err(why(format!(
                "its group is {}, not the journal group {}; fix with: chgrp {} {}",
                group_name(st.st_gid),
                self.group_name,
                self.group_name,
                path.display()
            )));
        }
        if mode & 0o002 != 0 {
            return Err(why(format!(
                "writable by others (mode {mode:04o}); anyone could plant or rewrite entries. Fix with: chmod o-w {}",
                path.display()
            )));
        }
        if kind == nix::libc::S_IFREG && mode & 0o4000 != 0 {
            return Err(why(format!("setuid (mode {mode:04o})")));
        }
        let acl = read_acl(fd, ACL_ACCESS).map_err(|e| io_err(path, "read the ACL of", e))?;
        let mask = acl.iter().find(|e| e.tag == ACL_MASK).map_or(7, |e| e.perm);
        for e in &acl {
            let writes = e.perm & mask & 2 != 0;
            let foreign = match e.tag {
                ACL_USER => e.id != st.st_uid,
                ACL_GROUP => e.id != self.group,
                _ => false,
            };
            if writes && foreign {
                let who = if e.tag == ACL_USER {
                    format!("user {}", user_name(e.id))
                } else {
                    format!("group {}", group_name(e.id))
                };
                return Err(why(format!(
                    "an ACL lets {who} write it; only its owner and the journal group may. Fix with: setfacl -x {}:{} {}",
                    if e.tag == ACL_USER { "u" } else { "g" },
                    e.id,
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// The components of `path` below the top, or why it is not below the top.
    fn below<'p>(&self, path: &'p Path) -> Result<Vec<&'p std::ffi::OsStr>, TrustError> {
        let rest = path.strip_prefix(&self.top).map_err(|_| TrustError::Io {
            path: path.to_path_buf(),
            why: format!("not inside the journal dir {}", self.top.display()),
            denied: false,
        })?;
        rest.components()
            .map(|c| match c {
                Component::Normal(n) => Ok(n),
                _ => Err(TrustError::Unsafe {
                    path: path.to_path_buf(),
                    why: "not a plain path below the journal dir".into(),
                }),
            })
            .collect()
    }

    /// Checks `path` (the top or below it) and every directory on the way from the top. A
    /// part that does not exist yet is fine (`Ok(false)`): whoever creates it creates it
    /// trusted. `Ok(true)`: it exists and is trusted.
    pub fn check(&self, path: &Path) -> Result<bool, TrustError> {
        Ok(self.walk(path, None)?.is_some())
    }

    /// Opens `path` (a file below the top) for reading, checked on the way and once open.
    /// `Ok(None)`: it does not exist.
    pub fn open_read(&self, path: &Path) -> Result<Option<File>, TrustError> {
        self.walk(path, Some(OFlags::RDONLY))
            .map(|f| f.map(File::from))
    }

    /// The walk: opens each directory from the top with `O_NOFOLLOW`, checks it, and opens
    /// the last part with `last` (or as a directory or file for reading when `None`).
    fn walk(&self, path: &Path, last: Option<OFlags>) -> Result<Option<OwnedFd>, TrustError> {
        let parts = self.below(path)?;
        let mut dir = open_top(&self.top)?;
        let st = rustix::fs::fstat(&dir).map_err(|e| io_err(&self.top, "stat", e))?;
        self.verdict(&self.top, &dir, &st)?;
        let mut at = self.top.clone();
        for (i, name) in parts.iter().enumerate() {
            at.push(name);
            let is_last = i + 1 == parts.len();
            let flags = match (is_last, last) {
                (true, Some(f)) => f,
                (true, None) => OFlags::RDONLY,
                (false, _) => OFlags::RDONLY | OFlags::DIRECTORY,
            };
            // Non-blocking: a FIFO planted in place of a file must not hang the console.
            let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
            let fd = match rustix::fs::openat(&dir, *name, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Ok(None),
                Err(Errno::LOOP) | Err(Errno::NOTDIR) if is_link(&dir, name) => {
                    return Err(TrustError::Unsafe {
                        path: at,
                        why: "a symbolic link; the journal dir's files must be its own. Remove it"
                            .into(),
                    });
                }
                Err(e) => return Err(io_err(&at, "open", e)),
            };
            let st = rustix::fs::fstat(&fd).map_err(|e| io_err(&at, "stat", e))?;
            self.verdict(&at, &fd, &st)?;
            dir = fd;
        }
        Ok(Some(dir))
    }
}

/// The journal dir's top, opened without following a link in its last part.
fn open_top(top: &Path) -> Result<OwnedFd, TrustError> {
    match rustix::fs::open(
        top,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(fd),
        Err(Errno::LOOP) | Err(Errno::NOTDIR)
            if std::fs::symlink_metadata(top).is_ok_and(|m| m.file_type().is_symlink()) =>
        {
            Err(TrustError::Unsafe {
                path: top.to_path_buf(),
                why: "a symbolic link; give the real directory instead".into(),
            })
        }
        Err(e) => Err(io_err(top, "open", e)),
    }
}

/// Groups an ACL lets read but not write: the observers.
fn observer_groups(acl: &[AclEntry]) -> Vec<u32> {
    acl.iter()
        .filter(|e| e.tag == ACL_GROUP && e.perm & 4 != 0 && e.perm & 2 == 0)
        .map(|e| e.id)
        .collect()
}

fn is_denied(e: &TrustError) -> bool {
    matches!(e, TrustError::Io { denied: true, .. })
}

fn is_link(dir: &OwnedFd, name: &std::ffi::OsStr) -> bool {
    rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK)
}

fn io_err(path: &Path, op: &str, e: Errno) -> TrustError {
    TrustError::Io {
        path: path.to_path_buf(),
        why: format!("cannot {op}: {}", std::io::Error::from(e)),
        denied: e == Errno::ACCESS,
    }
}

/// One entry of a POSIX ACL as Linux keeps it in its xattr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AclEntry {
    tag: u16,
    perm: u16,
    id: u32,
}

/// The ACL kept in `name` (empty when there is none).
fn read_acl(fd: impl AsFd, name: &str) -> Result<Vec<AclEntry>, Errno> {
    let mut buf = vec![0u8; 4 + 8 * 64];
    let len = match rustix::fs::fgetxattr(&fd, name, &mut buf[..]) {
        Ok(n) => n,
        Err(Errno::NODATA) | Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(Errno::RANGE) => {
            let n = rustix::fs::fgetxattr_query(&fd, name)?;
            buf = vec![0u8; n];
            rustix::fs::fgetxattr(&fd, name, &mut buf[..])?
        }
        Err(e) => return Err(e),
    };
    Ok(parse_acl(&buf[..len]))
}

fn parse_acl(bytes: &[u8]) -> Vec<AclEntry> {
    let Some(body) = bytes.get(4..) else {
        return Vec::new();
    };
    body.chunks_exact(8)
        .map(|c| AclEntry {
            tag: u16::from_le_bytes([c[0], c[1]]),
            perm: u16::from_le_bytes([c[2], c[3]]),
            id: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// The xattr bytes of an ACL: owner and group `rwx` (`rw-` for files), the observers `r-x`
/// (`r--`), nobody else.
fn team_acl(observers: Option<u32>, dir: bool) -> Vec<u8> {
    let (all, read) = if dir { (7, 5) } else { (6, 4) };
    let mut entries = vec![
        AclEntry {
            tag: ACL_USER_OBJ,
            perm: all,
            id: NO_ID,
        },
        AclEntry {
            tag: ACL_GROUP_OBJ,
            perm: all,
            id: NO_ID,
        },
    ];
    if let Some(g) = observers {
        entries.push(AclEntry {
            tag: ACL_GROUP,
            perm: read,
            id: g,
        });
        entries.push(AclEntry {
            tag: ACL_MASK,
            perm: all,
            id: NO_ID,
        });
    }
    entries.push(AclEntry {
        tag: ACL_OTHER,
        perm: 0,
        id: NO_ID,
    });
    let mut bytes = ACL_VERSION.to_le_bytes().to_vec();
    for e in entries {
        bytes.extend_from_slice(&e.tag.to_le_bytes());
        bytes.extend_from_slice(&e.perm.to_le_bytes());
        bytes.extend_from_slice(&e.id.to_le_bytes());
    }
    bytes
}

fn my_groups() -> Vec<u32> {
    let mut groups: Vec<u32> = nix::unistd::getgroups()
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    groups.push(nix::unistd::getegid().as_raw());
    groups.push(nix::unistd::getgid().as_raw());
    groups
}

/// Whether account `uid` is in group `gid`, as its primary group or a supplementary one.
fn member_of(uid: u32, gid: u32) -> bool {
    let Ok(Some(user)) = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) else {
        return false;
    };
    if user.gid.as_raw() == gid {
        return true;
    }
    matches!(
        nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)),
        Ok(Some(g)) if g.mem.contains(&user.name)
    )
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

fn group_name(gid: u32) -> String {
    match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
        Ok(Some(g)) => g.name,
        _ => gid.to_string(),
    }
}

/// What `journal init` did, for its report.
#[derive(Debug, Default)]
pub struct InitReport {
    pub dirs: usize,
    pub files: usize,
    pub created: bool,
}

/// `warroom journal init`: makes (or adopts) `top` as the journal dir of group `group`, with
/// `observers` reading through default ACLs. Every journal's chain is verified before
/// anything is changed: an init never blesses a tampered journal.
pub fn init(top: &Path, group: &str, observers: Option<&str>) -> Result<InitReport, String> {
    let gid = lookup_group(group)?;
    let obs = observers.map(lookup_group).transpose()?;
    if obs == Some(gid) {
        return Err(format!(
            "--observers must be another group than --group {group}: observers only read"
        ));
    }
    let uid = nix::unistd::getuid().as_raw();
    if uid != 0 && !my_groups().contains(&gid) {
        return Err(format!(
            "you are not in group {group}: run journal init as root or as one of its operators"
        ));
    }
    let mut report = InitReport::default();
    match std::fs::symlink_metadata(top) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "{}: a symbolic link; give the real directory",
                top.display()
            ));
        }
        Ok(m) if !m.is_dir() => return Err(format!("{}: not a directory", top.display())),
        Ok(_) => {}
        Err(_) => {
            std::fs::create_dir_all(top)
                .map_err(|e| format!("{}: cannot create: {e}", top.display()))?;
            report.created = true;
        }
    }
    // Verify first, change after: nothing is adopted if one chain is broken.
    let mut journals = Vec::new();
    collect(top, &mut journals)?;
    for path in journals
        .iter()
        .filter(|(p, dir)| !dir && p.extension().is_some_and(|e| e == "jsonl"))
    {
        let r = super::file::verify(&path.0).map_err(|e| e.to_string())?;
        if let Some(b) = &r.first_break {
            return Err(format!(
                "{}: hash chain BROKEN at {b}; not adopted (run `warroom journal verify`)",
                path.0.display()
            ));
        }
    }
    for sub in ["incidents", "incidents/drills"] {
        let p = top.join(sub);
        if std::fs::symlink_metadata(&p).is_err() {
            std::fs::create_dir(&p).map_err(|e| format!("{}: cannot create: {e}", p.display()))?;
            journals.push((p, true));
        }
    }
    journals.insert(0, (top.to_path_buf(), true));
    for (path, dir) in &journals {
        adopt(path, *dir, gid, obs)?;
        if *dir {
            report.dirs += 1;
        } else {
            report.files += 1;
        }
    }
    Ok(report)
}

fn lookup_group(name: &str) -> Result<u32, String> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        Ok(None) => Err(format!(
            "no group {name:?} on this host; create it first (groupadd {name})"
        )),
        Err(e) => Err(format!("cannot look up group {name:?}: {e}")),
    }
}

/// Every directory and file below `dir`, refusing links (they are never adopted).
fn collect(dir: &Path, into: &mut Vec<(PathBuf, bool)>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if ft.is_symlink() {
            return Err(format!(
                "{}: a symbolic link in the journal dir; remove it, then run init again",
                path.display()
            ));
        } else if ft.is_dir() {
            into.push((path.clone(), true));
            collect(&path, into)?;
        } else if ft.is_file() {
            into.push((path, false));
        } else {
            return Err(format!(
                "{}: neither a file nor a directory; remove it, then run init again",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Gives one directory or file to the team: group, mode, ACLs. Its owner stays (only root
/// could change it); an owner outside the team is refused.
fn adopt(path: &Path, dir: bool, gid: u32, obs: Option<u32>) -> Result<(), String> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let flags = if dir {
        flags | OFlags::DIRECTORY
    } else {
        flags
    };
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| {
        format!(
            "{}: cannot open: {}",
            path.display(),
            std::io::Error::from(e)
        )
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| format!("{}: {e}", path.display()))?;
    let me = nix::unistd::getuid().as_raw();
    if st.st_uid != 0 && st.st_uid != me && !member_of(st.st_uid, gid) {
        return Err(format!(
            "{}: owned by {}, who is not in the journal group; only root can adopt it (chown)",
            path.display(),
            user_name(st.st_uid)
        ));
    }
    // The modes the journal creates with (the journal group writes; dirs setgid).
    let mode = if dir {
        super::file::DIR_MODE
    } else {
        super::file::FILE_MODE
    };
    let wanted = parse_acl(&team_acl(obs, dir));
    // Linux keeps no access ACL that says no more than the mode does.
    let same = |name: &str| {
        read_acl(&fd, name).is_ok_and(|acl| {
            acl == wanted || (name == ACL_ACCESS && obs.is_none() && acl.is_empty())
        })
    };
    if st.st_gid == gid
        && st.st_mode & 0o7777 == mode
        && same(ACL_ACCESS)
        && (!dir || same(ACL_DEFAULT))
    {
        // Already the team's: nothing to change (an operator adopting again changes nothing,
        // whoever owns it).
        return Ok(());
    }
    if me != 0 && st.st_uid != me {
        return Err(format!(
            "{}: owned by {}; only its owner or root can give it to the team",
            path.display(),
            user_name(st.st_uid)
        ));
    }
    let fail = |what: &str, e: Errno| {
        format!(
            "{}: cannot {what}: {}",
            path.display(),
            std::io::Error::from(e)
        )
    };
    rustix::fs::fchown(&fd, None, Some(rustix::fs::Gid::from_raw(gid)))
        .map_err(|e| fail("change its group", e))?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| fail("chmod", e))?;
    let flags = rustix::fs::XattrFlags::empty();
    rustix::fs::fsetxattr(&fd, ACL_ACCESS, &team_acl(obs, dir), flags)
        .map_err(|e| fail("set its ACL", e))?;
    if dir {
        rustix::fs::fsetxattr(&fd, ACL_DEFAULT, &team_acl(obs, true), flags)
            .map_err(|e| fail("set its default ACL", e))?;
        // Setting an ACL rewrites the mode's group bits and may drop setgid: set it again.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| fail("chmod", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
