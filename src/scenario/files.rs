//! Finding scenario files in folders, and reading one.
//!
//! A folder is walked without following links to folders, so a link can
//! neither make a loop nor lead out of the tree; a link to a file is
//! followed, and each file is listed once however many paths lead to it.
//! Only a regular file is ever read, and only up to [`MAX_FILE_BYTES`]: a
//! FIFO, a socket or `/dev/zero` given as a scenario is refused, not read.

use std::collections::HashSet;
use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

/// The largest scenario file that is read: a scenario is a few lines of TOML.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Every `.toml` file under `paths`, each once, in order: a folder's files by
/// name, then its folders by name. A path that is not a folder is taken as
/// it is; a link given here is followed, a link to a folder found inside one
/// is not.
pub fn discover(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut add = |path: PathBuf| {
        // Two paths to one file (a link, `a/../a`) share a canonical path.
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            found.push(path);
        }
    };
    for path in paths {
        if !path.is_dir() {
            add(path.clone());
            continue;
        }
        let walk = WalkDir::new(path)
            .follow_links(false)
            .sort_by(|a, b| order(a).cmp(&order(b)));
        for entry in walk {
            let entry = entry.map_err(io::Error::other)?;
            let toml = entry.path().extension().is_some_and(|e| e == "toml");
            if toml && !entry.file_type().is_dir() {
                add(entry.into_path());
            }
        }
    }
    Ok(found)
}

/// Files before folders, each by name; a link counts as a file.
fn order(entry: &DirEntry) -> (bool, &std::ffi::OsStr) {
    (entry.file_type().is_dir(), entry.file_name())
}

/// The bytes of the scenario file at `path`, or why it will not be read.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |error: io::Error| format!("cannot read the file: {error}");
    // Looking before opening gives the clearest message; looking again at the
    // open file closes the gap in which the path could be replaced.
    regular(&std::fs::metadata(path).map_err(cannot)?)?;
    // Opening a FIFO for reading blocks until a writer comes, unless nonblocking.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    regular(&file.metadata().map_err(cannot)?)?;
    bounded(file).map_err(cannot)?
}

/// Refuses anything but a regular file no larger than [`MAX_FILE_BYTES`].
fn regular(metadata: &std::fs::Metadata) -> Result<(), String> {
    if !metadata.is_file() {
        return Err(format!(
            "not a regular file but {}; give a scenario .toml file, or a folder of them",
            kind(metadata.file_type())
        ));
    }
    match metadata.len() {
        len if len > MAX_FILE_BYTES => Err(too_large(Some(len))),
        _ => Ok(()),
    }
}

/// Reads at most one byte past the bound, in case the file grows meanwhile.
fn bounded(file: File) -> io::Result<Result<Vec<u8>, String>> {
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(match bytes.len() as u64 {
        len if len > MAX_FILE_BYTES => Err(too_large(None)),
        _ => Ok(bytes),
    })
}

/// The message for a file over the bound, with its length when known.
fn too_large(len: Option<u64>) -> String {
    let size = len.map_or_else(String::new, |len| format!(" of {len} bytes"));
    format!(
        "file{size} is larger than a scenario file may be (at most {MAX_FILE_BYTES} bytes); \
         a scenario is a few lines of TOML: check that this is the right file"
    )
}

fn kind(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "something other than a file"
    }
}
