//! Collecting the problems of one file, within [`MAX_PROBLEMS_PER_FILE`].

use crate::limits::{MAX_PROBLEMS_PER_FILE, MAX_RAW_IN_PROBLEM};
use crate::model::{Problem, ProblemKind};

/// The problems of one file.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    problems: Vec<Problem>,
    dropped: usize,
}

impl Problems {
    pub(crate) fn new(file: &str) -> Problems {
        Problems { file: file.to_string(), problems: Vec::new(), dropped: 0 }
    }

    pub(crate) fn push(&mut self, line: u64, kind: ProblemKind, message: String, raw: &str) {
        let problem = Problem { file: self.file.clone(), line, kind, message, raw: truncate(raw) };
        self.push_problem(problem);
    }

    pub(crate) fn push_problem(&mut self, problem: Problem) {
        if self.problems.len() < MAX_PROBLEMS_PER_FILE {
            self.problems.push(problem);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub(crate) fn into_vec(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            self.problems.push(Problem {
                file: self.file.clone(),
                line: 0,
                kind: ProblemKind::InvalidFile,
                message: format!("{} more problems not listed (limit {MAX_PROBLEMS_PER_FILE} per file)", self.dropped),
                raw: String::new(),
            });
        }
        self.problems
    }
}

/// At most [`MAX_RAW_IN_PROBLEM`] bytes, cut at a character boundary.
pub(crate) fn truncate(raw: &str) -> String {
    if raw.len() <= MAX_RAW_IN_PROBLEM {
        return raw.to_string();
    }
    let mut end = MAX_RAW_IN_PROBLEM;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}
