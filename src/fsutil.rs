//! Files the tool writes: one atomic write, the temporary names it uses, and their cleanup.
//!
//! Every file `superpose` writes (model files, `sweep.json`, figures, the report) goes through
//! [`write_atomic`] or [`write_atomic_with`]: the content is written to a hidden temporary file
//! in the same folder, flushed to disk (`fsync`), renamed over the target, and the folder is
//! flushed too, so that a reader (or a rerun after a crash or `kill -9`) sees either the old
//! file or the whole new one, never a prefix.
//!
//! Temporary names are `.{name}.{pid}.superpose-tmp` (with the target's extension appended
//! where a writer needs one, e.g. `….superpose-tmp.png` for the PNG encoder). A killed run can
//! leave them behind; [`remove_stale_temps`] removes those whose process is gone.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The marker in every temporary file name.
pub const TEMP_MARK: &str = ".superpose-tmp";

/// The temporary path used while writing `path` (same folder, hidden, this process's id; with
/// `ext` appended as `.{ext}` when given).
pub fn temp_path(path: &Path, ext: Option<&str>) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tail = ext.map(|e| format!(".{e}")).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}{TEMP_MARK}{tail}", std::process::id()))
}

/// Writes `bytes` to `path` atomically, flushed to disk (module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, None, |tmp| {
        let mut f = fs::File::create(tmp)?;
        f.write_all(bytes)
    })
}

/// Writes `path` atomically through `write`, which creates and fills the temporary file it is
/// given (e.g. a PNG encoder that wants a path); the file is then flushed to disk, renamed over
/// `path`, and the folder flushed. On any error the temporary file is removed.
pub fn write_atomic_with(
    path: &Path,
    ext: Option<&str>,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path, ext);
    let done = (|| {
        write(&tmp)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = done {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(path.parent());
    Ok(())
}

/// Flushes a folder's entries (the rename) to disk; best effort (not every platform or file
/// system can open a folder for this).
fn sync_dir(dir: Option<&Path>) {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The process id in a temporary file name written by [`temp_path`], if `name` is one; also
/// the names of earlier versions (`.{name}.tmp{pid}`, `.{name}.{pid}.tmp`,
/// `.{name}.{pid}.tmp.{ext}`), so that their leftovers are cleaned too.
pub fn temp_owner(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    if let Some((head, _)) = name.split_once(TEMP_MARK) {
        return head.rsplit_once('.')?.1.parse().ok();
    }
    // Earlier versions.
    let (head, tail) = name.rsplit_once(".tmp")?;
    if !tail.is_empty() {
        if let Ok(pid) = tail.parse() {
            return Some(pid);
        }
        if !tail.starts_with('.') || tail[1..].contains('.') {
            return None;
        }
    }
    head.rsplit_once('.')?.1.parse().ok()
}

/// Whether process `pid` is alive; unknown (not Linux-like) counts as alive, except for this
/// process's own id, which [`remove_stale_temps`] treats as its own files.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Removes temporary files in `dir` left by processes that are no longer running (or every
/// one of them when `all`, for a caller that holds the folder exclusively). Returns the paths
/// removed.
pub fn remove_stale_temps(dir: &Path, all: bool) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if all || (pid != std::process::id() && !alive(pid)) {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            removed.push(p);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_writer_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        write_atomic(&p, b"old").unwrap();
        let r = write_atomic_with(&p, Some("png"), |tmp| {
            fs::write(tmp, b"half")?;
            Err(std::io::Error::other("encoder failed"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temp_names_round_trip_and_stale_ones_go() {
        let p = Path::new("models").join("n2_N4.json");
        let t = temp_path(&p, None);
        let name = t.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_owner(name), Some(std::process::id()));
        let t = temp_path(&p, Some("png"));
        assert_eq!(
            temp_owner(t.file_name().unwrap().to_str().unwrap()),
            Some(std::process::id())
        );
        assert_eq!(temp_owner("n2_N4.json"), None);
        assert_eq!(temp_owner(".n2_N4.json.x.superpose-tmp"), None);
        // Names of earlier versions.
        assert_eq!(temp_owner(".n2_N4.json.tmp4321"), Some(4321));
        assert_eq!(temp_owner(".report.md.4321.tmp"), Some(4321));
        assert_eq!(temp_owner(".gain.png.4321.tmp.png"), Some(4321));
        assert_eq!(temp_owner(".notes.tmp"), None);

        let dir = tempfile::tempdir().unwrap();
        // pid 4294967295 is above any pid limit: never running.
        let dead = dir.path().join(format!(".a.json.4294967295{TEMP_MARK}"));
        let mine = temp_path(&dir.path().join("b.json"), None);
        let keep = dir.path().join("c.json");
        for f in [&dead, &mine, &keep] {
            fs::write(f, b"").unwrap();
        }
        let removed = remove_stale_temps(dir.path(), false).unwrap();
        if Path::new("/proc").is_dir() {
            assert_eq!(removed, vec![dead.clone()]);
        }
        assert!(mine.exists() && keep.exists());
        remove_stale_temps(dir.path(), true).unwrap();
        assert!(!mine.exists() && keep.exists());
    }
}
