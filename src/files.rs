//! Reading the files people give (config, runbooks, themes, layouts, scenarios, secrets):
//! only a regular file — checked with `fstat` on the opened file, after symlinks — and at
//! most its cap. A FIFO is opened without blocking and refused at once; `/dev/zero` or a
//! huge sparse file is refused before a byte is read.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Config, runbook, layout and theme files.
pub const CONFIG_MAX: u64 = 1 << 20;
/// Drill scenario files.
pub const SCENARIO_MAX: u64 = 4 << 20;
/// Secret files (a token, a key, a URL).
pub const SECRET_MAX: u64 = 16 << 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("no such file")]
    NotFound,
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("larger than {0}")]
    TooLarge(String),
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not UTF-8 text")]
    NotText,
}

/// "1 MiB", "16 KiB", "512 bytes".
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

fn io(e: &std::io::Error) -> FileError {
    match e.kind() {
        std::io::ErrorKind::NotFound => FileError::NotFound,
        _ => FileError::Io(crate::process::io_reason(e)),
    }
}

/// Opens `path` for reading if it is a regular file of at most `cap` bytes: the file and
/// what `fstat` said of it.
pub fn open_regular(path: &Path, cap: u64) -> Result<(File, Metadata), FileError> {
    // Non-blocking: opening a FIFO with no writer would otherwise wait forever.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io(&e))?;
    let meta = file.metadata().map_err(|e| io(&e))?;
    let kind = meta.file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_fifo() {
        Some("FIFO")
    } else if kind.is_char_device() {
        Some("character device")
    } else if kind.is_block_device() {
        Some("block device")
    } else if kind.is_socket() {
        Some("socket")
    } else if kind.is_dir() {
        Some("directory")
    } else {
        Some("special file")
    };
    if let Some(what) = what {
        return Err(FileError::NotRegular(what));
    }
    if meta.len() > cap {
        return Err(FileError::TooLarge(size(cap)));
    }
    Ok((file, meta))
}

/// Reads at most `cap` bytes of an opened file (one that grew past its cap is refused).
pub fn read_capped(file: File, cap: u64) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io(&e))?;
    if bytes.len() as u64 > cap {
        return Err(FileError::TooLarge(size(cap)));
    }
    Ok(bytes)
}

/// The text of a regular file of at most `cap` bytes.
pub fn read_text(path: &Path, cap: u64) -> Result<String, FileError> {
    let (file, _) = open_regular(path, cap)?;
    String::from_utf8(read_capped(file, cap)?).map_err(|_| FileError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_under_their_cap_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        // Refused at once, not read (nobody ever writes to it).
        assert_eq!(
            read_text(&fifo, CONFIG_MAX),
            Err(FileError::NotRegular("FIFO"))
        );
        assert_eq!(
            read_text(Path::new("/dev/zero"), CONFIG_MAX),
            Err(FileError::NotRegular("character device"))
        );
        let link = dir.path().join("zero-link");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        assert_eq!(
            read_text(&link, CONFIG_MAX),
            Err(FileError::NotRegular("character device"))
        );
        assert_eq!(
            read_text(dir.path(), CONFIG_MAX),
            Err(FileError::NotRegular("directory"))
        );
        // A 20 GB sparse file: refused by its size, nothing read.
        let sparse = dir.path().join("sparse.toml");
        File::create(&sparse)
            .and_then(|f| f.set_len(20 << 30))
            .expect("sparse");
        assert_eq!(
            read_text(&sparse, CONFIG_MAX),
            Err(FileError::TooLarge("1 MiB".into()))
        );
        assert_eq!(
            read_text(&dir.path().join("missing"), CONFIG_MAX),
            Err(FileError::NotFound)
        );
        let ok = dir.path().join("ok.toml");
        std::fs::write(&ok, "a = 1\n").expect("write");
        assert_eq!(read_text(&ok, CONFIG_MAX).as_deref(), Ok("a = 1\n"));
        assert_eq!(size(SECRET_MAX), "16 KiB");
        assert_eq!(size(SCENARIO_MAX), "4 MiB");
    }
}
