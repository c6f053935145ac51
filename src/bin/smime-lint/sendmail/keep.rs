//! `--keep DIR`: refused messages are saved, byte for byte, under a name nobody else can take.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Saves `head` followed by whatever `rest` still holds into a new file in `dir` (created when
/// missing, readable by its owner only: the message may be confidential even when its body is
/// encrypted). Returns the file's path.
///
/// The name, `refused-SECONDS-PID-RANDOM.eml`, is created exclusively (`O_EXCL`), so an
/// existing file or a planted symbolic link is never written through; a clash (practically
/// impossible with 64 random bits) is retried with another random part.
pub fn keep(dir: &Path, head: &[u8], rest: Option<&mut dyn Read>) -> io::Result<PathBuf> {
    create_private_dir(dir)?;
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let pid = std::process::id();
    let mut attempts = 0;
    let (path, mut file) = loop {
        let path = dir.join(format!("refused-{seconds}-{pid}-{:016x}.eml", rand::random::<u64>()));
        match create_private_file(&path) {
            Ok(file) => break (path, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => attempts += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file.write_all(head).and_then(|()| match rest {
        Some(rest) => io::copy(rest, &mut file).map(|_| ()),
        None => Ok(()),
    });
    match written.and_then(|()| file.sync_all()) {
        Ok(()) => Ok(path),
        Err(e) => {
            // A partial copy would look like the message: remove it and say so.
            let _ = fs::remove_file(&path);
            Err(e)
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_gets_its_own_private_file_with_the_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b");
        let mut rest: &[u8] = b" and the rest";
        let first = keep(&target, b"head", Some(&mut rest)).unwrap();
        let second = keep(&target, b"other", None).unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read(&first).unwrap(), b"head and the rest");
        assert_eq!(fs::read(&second).unwrap(), b"other");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&first).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o700);
        }
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, b"x").unwrap();
        assert!(keep(&file.join("sub"), b"m", None).is_err());
    }
}
