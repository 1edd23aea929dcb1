//! The backends the suite runs on: the one list that the runner, the
//! generator, the command-line tools and (through `conformance
//! --list-backends`) the scripts use.

use crate::kw::one_of;
use std::fmt;
use wast::parser::{Parse, Parser};

/// A Wasmtime the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// Wasmtime 44.0.3 with the series (`work/wasmtime`).
    Patched,
    /// Upstream Wasmtime 45.0.3, from the crates registry.
    Upstream45,
    /// Upstream Wasmtime 48.0.8, from the crates registry.
    Upstream48,
}

impl Backend {
    /// Every backend, in the order the scripts run them.
    pub const ALL: [Backend; 3] = [Backend::Patched, Backend::Upstream45, Backend::Upstream48];

    /// The name scenarios and scripts spell it with.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Patched => "patched",
            Backend::Upstream45 => "upstream-45",
            Backend::Upstream48 => "upstream-48",
        }
    }

    /// What it is, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Backend::Patched => "Wasmtime 44.0.3 with the series (work/wasmtime)",
            Backend::Upstream45 => "wasmtime 45.0.3 from the crates registry",
            Backend::Upstream48 => "wasmtime 48.0.8 from the crates registry",
        }
    }

    /// The cargo package of its runner.
    pub fn package(self) -> &'static str {
        match self {
            Backend::Patched => "conformance",
            Backend::Upstream45 => "conformance-upstream-45",
            Backend::Upstream48 => "conformance-upstream-48",
        }
    }

    /// Its scenario runner binary (`cli::conformance`).
    pub fn runner_bin(self) -> &'static str {
        self.package()
    }

    /// Its long-run binary (`cli::fuzz`).
    pub fn fuzz_bin(self) -> &'static str {
        match self {
            Backend::Patched => "fuzz",
            Backend::Upstream45 => "fuzz-upstream-45",
            Backend::Upstream48 => "fuzz-upstream-48",
        }
    }

    /// The backend named `name`.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Every backend, one a line: its name, its cargo package, its runner
    /// binary and its fuzz binary. `conformance --list-backends` prints it
    /// and the scripts read it.
    pub fn list() -> String {
        Backend::ALL
            .map(|b| {
                let (name, package) = (b.name(), b.package());
                format!("{name} {package} {} {}\n", b.runner_bin(), b.fuzz_bin())
            })
            .concat()
    }

    /// The names of all backends, comma-separated, for messages.
    pub fn known() -> String {
        Backend::ALL.map(Backend::name).join(", ")
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(name: &str) -> Result<Backend, String> {
        Backend::from_name(name)
            .ok_or_else(|| format!("unknown backend `{name}` (known: {})", Backend::known()))
    }
}

impl<'a> Parse<'a> for Backend {
    fn parse(parser: Parser<'a>) -> wast::parser::Result<Backend> {
        one_of!(parser,
            patched => Backend::Patched,
            upstream_45 => Backend::Upstream45,
            upstream_48 => Backend::Upstream48,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>(), Ok(b));
            let buf = wast::parser::ParseBuffer::new(b.name()).unwrap();
            assert_eq!(wast::parser::parse::<Backend>(&buf).unwrap(), b);
        }
        assert!("upstream-46".parse::<Backend>().is_err());
        let list = Backend::list();
        assert_eq!(list.lines().count(), 3);
        assert!(list.contains(
            "upstream-45 conformance-upstream-45 conformance-upstream-45 fuzz-upstream-45\n"
        ));
    }
}
