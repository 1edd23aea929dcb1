//! A small reader for the s-expressions of scenario files.
//!
//! Scenario files look like `.wast` files: parenthesised lists of atoms,
//! `;;` line comments, and double-quoted strings (kept as atoms, quotes
//! included; [`Sexpr::string`] reads one).

use anyhow::{Result, bail};

/// One parsed s-expression, with the line it starts on.
#[derive(Debug, Clone)]
pub enum Sexpr {
    Atom(String, usize),
    List(Vec<Sexpr>, usize),
}

impl Sexpr {
    pub fn line(&self) -> usize {
        match self {
            Sexpr::Atom(_, line) | Sexpr::List(_, line) => *line,
        }
    }

    pub fn atom(&self) -> Option<&str> {
        match self {
            Sexpr::Atom(a, _) => Some(a),
            Sexpr::List(..) => None,
        }
    }

    pub fn list(&self) -> Option<&[Sexpr]> {
        match self {
            Sexpr::List(items, _) => Some(items),
            Sexpr::Atom(..) => None,
        }
    }

    /// The text of a double-quoted string atom, without its quotes.
    pub fn string(&self) -> Option<&str> {
        self.atom()?.strip_prefix('"')?.strip_suffix('"')
    }

    /// The head atom of a list, e.g. `call` for `(call c1 a.run)`.
    pub fn head(&self) -> Option<&str> {
        self.list()?.first()?.atom()
    }
}

impl std::fmt::Display for Sexpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sexpr::Atom(a, _) => f.write_str(a),
            Sexpr::List(items, _) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Parse every top-level s-expression of `src`.
pub fn parse(src: &str) -> Result<Vec<Sexpr>> {
    let mut stack: Vec<(Vec<Sexpr>, usize)> = vec![(Vec::new(), 0)];
    let mut line = 1;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            ';' if chars.peek() == Some(&';') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '(' => stack.push((Vec::new(), line)),
            ')' => {
                let (items, start) = stack.pop().unwrap();
                match stack.last_mut() {
                    Some((parent, _)) => parent.push(Sexpr::List(items, start)),
                    _ => bail!("line {line}: unbalanced `)`"),
                }
            }
            '"' => {
                let start = line;
                let mut atom = String::from(c);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => {
                            line += usize::from(c == '\n');
                            atom.push(c);
                        }
                        None => bail!("line {start}: unterminated string"),
                    }
                }
                atom.push('"');
                stack.last_mut().unwrap().0.push(Sexpr::Atom(atom, start));
            }
            _ => {
                let mut atom = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' {
                        break;
                    }
                    atom.push(c);
                    chars.next();
                }
                stack.last_mut().unwrap().0.push(Sexpr::Atom(atom, line));
            }
        }
    }
    if stack.len() != 1 {
        bail!(
            "unterminated list opened on line {}",
            stack.last().unwrap().1
        );
    }
    Ok(stack.pop().unwrap().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_lists_and_comments() {
        let v = parse("(a (b c) ;; comment\n d)\n(e)").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].to_string(), "(a (b c) d)");
        assert_eq!(v[0].list().unwrap()[2].line(), 2);
        assert_eq!(v[1].head(), Some("e"));
    }

    #[test]
    fn reads_strings_with_spaces_and_parentheses() {
        let v = parse("(a \"b (c) ;; d\"\n e)").unwrap();
        let items = v[0].list().unwrap();
        assert_eq!(items[1].string(), Some("b (c) ;; d"));
        assert_eq!(items[2].atom(), Some("e"));
        assert_eq!(items[2].line(), 2);
        assert_eq!(items[2].string(), None);
        assert!(parse("(a \"b)").is_err());
    }

    #[test]
    fn rejects_unbalanced_input() {
        assert!(parse("(a").is_err());
        assert!(parse("a)").is_err());
    }
}
