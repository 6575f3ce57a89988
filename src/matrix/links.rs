//! Links from a rendered file to the scenario files, relative to the folder
//! the rendered file is written in, so that they work wherever the two
//! folders are checked out.

use std::path::{Component, Path, PathBuf};

/// The link from a document in folder `from` to `target`, with `/` between
/// parts. Both are taken from the current folder when relative.
pub(crate) fn relative(target: &Path, from: &Path) -> String {
    let here = std::env::current_dir().unwrap_or_default();
    let target = normal(&here.join(target));
    let from = normal(&here.join(from));
    let shared = target
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    let up = from.components().skip(shared).map(|_| "..".to_owned());
    let down = target
        .components()
        .skip(shared)
        .map(|part| part.as_os_str().to_string_lossy().into_owned());
    up.chain(down).collect::<Vec<_>>().join("/")
}

/// `path` with `.` and `..` resolved by name, links left alone: a link's
/// target may not exist yet, and a document's links follow the names given.
fn normal(path: &Path) -> PathBuf {
    let mut parts = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_climbs_out_of_the_document_folder_and_down_to_the_scenario() {
        let scenario = Path::new("scenarios/transport/reset-curl.toml");
        assert_eq!(
            relative(scenario, Path::new("docs")),
            "../scenarios/transport/reset-curl.toml"
        );
        assert_eq!(
            relative(scenario, Path::new("")),
            "scenarios/transport/reset-curl.toml"
        );
        assert_eq!(
            relative(Path::new("/a/b/c.toml"), Path::new("/a/x/./y/..")),
            "../b/c.toml"
        );
    }
}
