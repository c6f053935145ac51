//! `--include GLOB` / `--exclude GLOB`: which files found while walking a folder are read.
//!
//! Globs follow [`globset`]'s syntax (`*`, `?`, `[abc]`, `{a,b}`, `**`). A glob without `/` is
//! matched against the entry's name (`*.json`, `README*`); a glob with `/` against its path
//! relative to the folder named on the command line, with `/` separators (`cur/*`,
//! `Archive/**`). Exclusions apply to files and folders (an excluded folder is not entered);
//! inclusions to files only (so `--include '*.eml'` still walks into subfolders). Files named on
//! the command line are always read.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

use crate::{Error, Result};

/// A compiled `--include` / `--exclude` pair. The default lets everything through.
#[derive(Clone, Debug, Default)]
pub struct PathFilter {
    include: Patterns,
    exclude: Patterns,
}

/// One list of globs, split by what they are matched against.
#[derive(Clone, Debug, Default)]
struct Patterns {
    /// The globs as given (for equality and messages).
    text: Vec<String>,
    /// Globs without `/`: matched against the entry's name.
    by_name: GlobSet,
    /// Globs with `/`: matched against the path relative to the walked folder.
    by_path: GlobSet,
}

impl PartialEq for PathFilter {
    fn eq(&self, other: &Self) -> bool {
        self.include.text == other.include.text && self.exclude.text == other.exclude.text
    }
}

impl Eq for PathFilter {}

impl PathFilter {
    /// Compiles the globs. With no `include`, every file is included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the glob that does not parse.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self> {
        Ok(Self {
            include: Patterns::new(include, "--include")?,
            exclude: Patterns::new(exclude, "--exclude")?,
        })
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.include.text.is_empty() && self.exclude.text.is_empty()
    }

    /// Whether a file found at `relative` (below the walked folder) is read.
    pub fn wants_file(&self, relative: &Path) -> bool {
        let included = self.include.text.is_empty() || self.include.matches(relative);
        included && !self.exclude.matches(relative)
    }

    /// Whether a folder found at `relative` is entered.
    pub fn wants_folder(&self, relative: &Path) -> bool {
        !self.exclude.matches(relative)
    }
}

impl Patterns {
    fn new(globs: &[String], option: &str) -> Result<Self> {
        let mut by_name = GlobSetBuilder::new();
        let mut by_path = GlobSetBuilder::new();
        for text in globs {
            let anchored = text.contains('/');
            let glob = compile(text, anchored).map_err(|e| {
                Error::InvalidInput(format!("{option} {text:?} is not a valid glob: {e}"))
            })?;
            if anchored {
                by_path.add(glob);
            } else {
                by_name.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| Error::InvalidInput(format!("{option}: {e}")))
        };
        Ok(Self { text: globs.to_vec(), by_name: build(by_name)?, by_path: build(by_path)? })
    }

    fn matches(&self, relative: &Path) -> bool {
        if self.text.is_empty() {
            return false;
        }
        let name_matches = relative.file_name().is_some_and(|name| self.by_name.is_match(name));
        name_matches || self.by_path.is_match(relative)
    }
}

/// A glob: `*` and `?` stop at `/` in path globs, so `cur/*` means the files directly in `cur`.
fn compile(text: &str, anchored: bool) -> std::result::Result<Glob, globset::Error> {
    GlobBuilder::new(text).literal_separator(anchored).backslash_escape(true).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn filter(include: &[&str], exclude: &[&str]) -> PathFilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        PathFilter::new(&own(include), &own(exclude)).expect("valid globs")
    }

    #[rstest]
    #[case::nothing_given(&[], &[], "a/b.json", true)]
    #[case::name_glob_matches_at_any_depth(&[], &["*.json"], "a/b/c.json", false)]
    #[case::name_glob_only_the_name(&[], &["a*"], "a/b.eml", true)]
    #[case::include_by_name(&["*.eml"], &[], "x/1.eml", true)]
    #[case::include_leaves_out_the_rest(&["*.eml"], &[], "x/notes.txt", false)]
    #[case::exclude_wins(&["*.eml"], &["draft-*"], "draft-1.eml", false)]
    #[case::path_glob_is_anchored(&[], &["cur/*"], "cur/1", false)]
    #[case::path_glob_star_stops_at_slash(&[], &["cur/*"], "cur/sub/1", true)]
    #[case::double_star_crosses_folders(&[], &["Archive/**"], "Archive/2024/cur/1", false)]
    #[case::maildir_names(&["*:2,*"], &[], "cur/1700000001.M1P1.host:2,S", true)]
    fn files(
        #[case] include: &[&str],
        #[case] exclude: &[&str],
        #[case] path: &str,
        #[case] read: bool,
    ) {
        assert_eq!(filter(include, exclude).wants_file(Path::new(path)), read);
    }

    #[test]
    fn include_never_stops_the_walk_but_exclude_prunes_folders() {
        let f = filter(&["*.eml"], &["Trash"]);
        assert!(f.wants_folder(Path::new("Archive")));
        assert!(!f.wants_folder(Path::new("Trash")));
        assert!(!f.wants_folder(Path::new("a/Trash")));
    }

    #[test]
    fn a_bad_glob_is_a_usage_error_naming_it() {
        let err = PathFilter::new(&["a[".to_string()], &[]).expect_err("unclosed class");
        assert!(err.to_string().contains("--include \"a[\""), "{err}");
    }
}
