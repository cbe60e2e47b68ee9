//! `--suite NAME`: named slices of the catalog ([`Suite`]), defined by one
//! table so adding a suite is adding a row.

use std::fmt;

/// A named group of tests, chosen with `--suite`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Suite {
    /// Every test except the responses and vision ones.
    Base,
    /// The OpenAI Responses API tests (area `responses`).
    Responses,
    /// Tests that need a vision model, or are in area or mark `vision`.
    Vision,
}

/// One row of the suite table.
struct SuiteDef {
    suite: Suite,
    name: &'static str,
    includes: fn(&Test<'_>) -> bool,
}

/// What a suite rule may look at.
struct Test<'a> {
    area: &'a str,
    marks: &'a [&'a str],
    needs_vision: bool,
}

impl Test<'_> {
    fn is_vision(&self) -> bool {
        self.needs_vision || self.area == "vision" || self.marks.contains(&"vision")
    }
}

const SUITES: [SuiteDef; 3] = [
    SuiteDef {
        suite: Suite::Base,
        name: "base",
        includes: |t| t.area != "responses" && !t.is_vision(),
    },
    SuiteDef {
        suite: Suite::Responses,
        name: "responses",
        includes: |t| t.area == "responses",
    },
    SuiteDef {
        suite: Suite::Vision,
        name: "vision",
        includes: |t| t.is_vision(),
    },
];

static NAMES: [&str; SUITES.len()] = {
    let mut names = [""; SUITES.len()];
    let mut i = 0;
    while i < SUITES.len() {
        names[i] = SUITES[i].name;
        i += 1;
    }
    names
};

impl Suite {
    fn def(self) -> &'static SuiteDef {
        // Every variant has a row: `every_variant_has_one_row` checks it.
        SUITES
            .iter()
            .find(|d| d.suite == self)
            .unwrap_or(&SUITES[0])
    }

    pub(crate) fn from_name(name: &str) -> Result<Suite, UnknownSuite> {
        SUITES
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.suite)
            .ok_or_else(|| UnknownSuite {
                name: name.to_owned(),
            })
    }

    pub(crate) fn name(self) -> &'static str {
        self.def().name
    }

    /// `area` = first segment of the test path (e.g. "responses"),
    /// `needs_vision` = the test declares `vision_model`.
    pub(crate) fn includes(self, area: &str, marks: &[&str], needs_vision: bool) -> bool {
        (self.def().includes)(&Test {
            area,
            marks,
            needs_vision,
        })
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--suite` named a suite that does not exist.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) struct UnknownSuite {
    name: String,
}

impl fmt::Display for UnknownSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown suite `{}`; known suites: {}",
            self.name,
            NAMES.join(", ")
        )?;
        let closest = NAMES
            .iter()
            .map(|n| (strsim::levenshtein(&self.name.to_lowercase(), n), n))
            .min();
        match closest {
            Some((distance, name)) if distance <= 2 => write!(f, " (did you mean `{name}`?)"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_one_row() {
        for suite in [Suite::Base, Suite::Responses, Suite::Vision] {
            assert_eq!(SUITES.iter().filter(|d| d.suite == suite).count(), 1);
            assert_eq!(Suite::from_name(suite.name()), Ok(suite));
        }
        assert_eq!(NAMES, ["base", "responses", "vision"]);
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let message = |name: &str| Suite::from_name(name).map_err(|e| e.to_string());
        assert_eq!(
            message("foo"),
            Err("unknown suite `foo`; known suites: base, responses, vision".to_owned())
        );
        assert_eq!(
            message("visoin"),
            Err(
                "unknown suite `visoin`; known suites: base, responses, vision (did you mean `vision`?)"
                    .to_owned()
            )
        );
        assert_eq!(
            message("Base"),
            Err(
                "unknown suite `Base`; known suites: base, responses, vision (did you mean `base`?)"
                    .to_owned()
            )
        );
        assert_eq!(
            message(""),
            Err("unknown suite ``; known suites: base, responses, vision".to_owned())
        );
    }

    #[test]
    fn membership_table() {
        // (area, marks, needs_vision) -> (base, responses, vision)
        let cases: [(&str, &[&str], bool, [bool; 3]); 7] = [
            ("inference", &[], false, [true, false, false]),
            ("inference", &[], true, [false, false, true]),
            ("inference", &["vision"], false, [false, false, true]),
            ("inference", &["slow"], false, [true, false, false]),
            ("vision", &[], false, [false, false, true]),
            ("responses", &[], false, [false, true, false]),
            ("responses", &[], true, [false, true, true]),
        ];
        for (area, marks, needs_vision, expected) in cases {
            let got = [Suite::Base, Suite::Responses, Suite::Vision]
                .map(|s| s.includes(area, marks, needs_vision));
            assert_eq!(got, expected, "{area} {marks:?} vision={needs_vision}");
        }
    }

    #[test]
    fn a_suite_displays_as_its_name() {
        assert_eq!(Suite::Vision.to_string(), "vision");
    }
}
