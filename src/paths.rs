//! The one place warroom's XDG directories are named (`~/.config/warroom`,
//! `~/.local/share/warroom`, `~/.local/state/warroom`): every other room asks here.

use directories::ProjectDirs;

/// warroom's directories for this user; `None` without a home directory.
pub fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "warroom")
}
