//! The eligibility rule language: small, total and side-effect free. A rule is an expression
//! over typed citizen attributes:
//!
//! ```text
//! expr := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;  not := "not" not | cmp
//! cmp  := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum | "in" "[" literals "]")?
//! sum  := atom (("+" | "-") atom)* ;  atom := integer | "string" | true | false | attribute | "(" expr ")"
//! ```
//!
//! Rules are type-checked against the attribute schema when parsed (an unknown attribute or a
//! mismatched comparison is an error then, never at evaluation), evaluation cannot loop, and
//! missing attributes give three-valued results: `and` is false as soon as one side is false,
//! `or` true as soon as one side is true, and otherwise unknown with the attributes it needs.

use std::collections::BTreeSet;

/// Longest rule accepted, in bytes.
pub const MAX_RULE_BYTES: usize = 2048;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;

/// Attribute and value types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Whole number.
    Int,
    /// true / false.
    Bool,
    /// Text.
    Text,
}

/// A value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// Whole number.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Text.
    Text(String),
}

impl Val {
    /// Its type.
    pub fn ty(&self) -> Type {
        match self {
            Val::Int(_) => Type::Int,
            Val::Bool(_) => Type::Bool,
            Val::Text(_) => Type::Text,
        }
    }

    fn show(&self) -> String {
        match self {
            Val::Int(i) => i.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Text(t) => format!("\"{t}\""),
        }
    }
}

/// Why a rule was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// Not valid syntax.
    #[error("rule syntax: {0}")]
    Syntax(String),
    /// An attribute the schema does not know.
    #[error("unknown attribute {0}")]
    UnknownAttribute(String),
    /// Operands of the wrong type.
    #[error("type error: {0}")]
    Type(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Int(i64),
    Text(String),
    Ident(String),
    Op(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, RuleError> {
    if src.len() > MAX_RULE_BYTES {
        return Err(RuleError::Syntax("rule too long".into()));
    }
    let mut chars = src.chars().peekable();
    let mut out = Vec::new();
    // Takes characters while `keep` holds, after `first`.
    fn run(
        first: Option<char>,
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        keep: impl Fn(char) -> bool,
    ) -> String {
        let mut text: String = first.into_iter().collect();
        while let Some(c) = chars.next_if(|c| keep(*c)) {
            text.push(c);
        }
        text
    }
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_ascii_digit() {
            let text = run(Some(c), &mut chars, |c| c.is_ascii_digit());
            out.push(Tok::Int(
                text.parse()
                    .map_err(|_| RuleError::Syntax(format!("number {text}")))?,
            ));
        } else if c.is_alphabetic() || c == '_' {
            out.push(Tok::Ident(run(Some(c), &mut chars, |c| {
                c.is_alphanumeric() || c == '_'
            })));
        } else if c == '"' {
            let text = run(None, &mut chars, |c| c != '"');
            if chars.next() != Some('"') {
                return Err(RuleError::Syntax("unterminated string".into()));
            }
            out.push(Tok::Text(text));
        } else {
            let two = match (c, chars.peek()) {
                ('=', Some('=')) => Some("=="),
                ('!', Some('=')) => Some("!="),
                ('<', Some('=')) => Some("<="),
                ('>', Some('=')) => Some(">="),
                _ => None,
            };
            if let Some(op) = two {
                chars.next();
                out.push(Tok::Op(op));
                continue;
            }
            let op = match c {
                '<' => "<",
                '>' => ">",
                '+' => "+",
                '-' => "-",
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                other => return Err(RuleError::Syntax(format!("unexpected {other}"))),
            };
            out.push(Tok::Op(op));
        }
    }
    Ok(out)
}

/// A parsed, type-checked rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A literal.
    Lit(Val),
    /// An attribute.
    Attr(String, Type),
    /// Logical and.
    And(Box<Expr>, Box<Expr>),
    /// Logical or.
    Or(Box<Expr>, Box<Expr>),
    /// Logical not.
    Not(Box<Expr>),
    /// Comparison.
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    /// Membership in a literal list.
    In(Box<Expr>, Vec<Val>),
    /// Integer addition or subtraction.
    Arith(&'static str, Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    schema: &'a dyn Fn(&str) -> Option<Type>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::Syntax("rule nested too deeply".into()));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        self.enter()?;
        let mut left = self.and()?;
        while self.eat_word("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(bool_typed(left)?), Box::new(bool_typed(right)?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            let right = self.not()?;
            left = Expr::And(Box::new(bool_typed(left)?), Box::new(bool_typed(right)?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.eat_word("not") {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(bool_typed(inner)?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, RuleError> {
        let left = self.sum()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat_op(op) {
                let right = self.sum()?;
                let (lt, rt) = (type_of(&left), type_of(&right));
                if lt != rt {
                    return Err(RuleError::Type(format!("{op} compares {lt:?} with {rt:?}")));
                }
                if !matches!(op, "==" | "!=") && lt != Type::Int {
                    return Err(RuleError::Type(format!("{op} needs numbers")));
                }
                return Ok(Expr::Cmp(op, Box::new(left), Box::new(right)));
            }
        }
        if self.eat_word("in") {
            if !self.eat_op("[") {
                return Err(RuleError::Syntax("in needs a [list]".into()));
            }
            let mut items = Vec::new();
            while !self.eat_op("]") {
                match self.atom()? {
                    Expr::Lit(v) if v.ty() == type_of(&left) => items.push(v),
                    _ => {
                        return Err(RuleError::Type(
                            "in lists hold literals of the attribute's type".into(),
                        ))
                    }
                }
                if !self.eat_op(",") && !matches!(self.peek(), Some(Tok::Op("]"))) {
                    return Err(RuleError::Syntax("expected , or ]".into()));
                }
            }
            return Ok(Expr::In(Box::new(left), items));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.atom()?;
        loop {
            let op = if self.eat_op("+") {
                "+"
            } else if self.eat_op("-") {
                "-"
            } else {
                return Ok(left);
            };
            let right = self.atom()?;
            if type_of(&left) != Type::Int || type_of(&right) != Type::Int {
                return Err(RuleError::Type(format!("{op} needs numbers")));
            }
            left = Expr::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn atom(&mut self) -> Result<Expr, RuleError> {
        let tok = self
            .peek()
            .cloned()
            .ok_or_else(|| RuleError::Syntax("unexpected end".into()))?;
        self.pos += 1;
        match tok {
            Tok::Int(i) => Ok(Expr::Lit(Val::Int(i))),
            Tok::Text(t) => Ok(Expr::Lit(Val::Text(t))),
            Tok::Ident(w) if w == "true" => Ok(Expr::Lit(Val::Bool(true))),
            Tok::Ident(w) if w == "false" => Ok(Expr::Lit(Val::Bool(false))),
            Tok::Ident(w) if matches!(w.as_str(), "and" | "or" | "not" | "in") => {
                Err(RuleError::Syntax(format!("unexpected {w}")))
            }
            Tok::Ident(name) => {
                let ty = (self.schema)(&name).ok_or(RuleError::UnknownAttribute(name.clone()))?;
                Ok(Expr::Attr(name, ty))
            }
            Tok::Op("(") => {
                let inner = self.or()?;
                if !self.eat_op(")") {
                    return Err(RuleError::Syntax("missing )".into()));
                }
                Ok(inner)
            }
            Tok::Op("-") => match self.peek().cloned() {
                Some(Tok::Int(i)) => {
                    self.pos += 1;
                    Ok(Expr::Lit(Val::Int(-i)))
                }
                _ => Err(RuleError::Syntax("- needs a number".into())),
            },
            Tok::Op(op) => Err(RuleError::Syntax(format!("unexpected {op}"))),
        }
    }
}

fn type_of(e: &Expr) -> Type {
    match e {
        Expr::Lit(v) => v.ty(),
        Expr::Attr(_, t) => *t,
        Expr::Arith(..) => Type::Int,
        _ => Type::Bool,
    }
}

fn bool_typed(e: Expr) -> Result<Expr, RuleError> {
    if type_of(&e) == Type::Bool {
        Ok(e)
    } else {
        Err(RuleError::Type(
            "and/or/not need true/false operands".into(),
        ))
    }
}

/// Parses and type-checks `src` against `schema` (attribute name → type).
pub fn parse(src: &str, schema: &dyn Fn(&str) -> Option<Type>) -> Result<Expr, RuleError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        schema,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(RuleError::Syntax("trailing input".into()));
    }
    bool_typed(e)
}

/// A three-valued result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Decided, with the conditions that decided it.
    Decided(Val, Vec<String>),
    /// Undecided for lack of these attributes.
    Unknown(BTreeSet<String>),
}

/// Evaluates `e` with attribute values from `lookup`.
pub fn eval(e: &Expr, lookup: &dyn Fn(&str) -> Option<Val>) -> Outcome {
    match e {
        Expr::Lit(v) => Outcome::Decided(v.clone(), Vec::new()),
        Expr::Attr(name, _) => match lookup(name) {
            // A true/false attribute used as a condition explains itself.
            Some(Val::Bool(b)) => Outcome::Decided(
                Val::Bool(b),
                vec![format!("{name}: {}", if b { "yes" } else { "no" })],
            ),
            Some(v) => Outcome::Decided(v, Vec::new()),
            None => Outcome::Unknown(BTreeSet::from([name.clone()])),
        },
        Expr::Not(inner) => match eval(inner, lookup) {
            Outcome::Decided(Val::Bool(b), why) => Outcome::Decided(
                Val::Bool(!b),
                why.into_iter().map(|w| format!("not ({w})")).collect(),
            ),
            other => other,
        },
        Expr::And(a, b) | Expr::Or(a, b) => {
            let is_and = matches!(e, Expr::And(..));
            let (ra, rb) = (eval(a, lookup), eval(b, lookup));
            let decisive =
                |r: &Outcome| matches!(r, Outcome::Decided(Val::Bool(v), _) if *v != is_and);
            // A decisive side (false for and, true for or) decides alone.
            for r in [&ra, &rb] {
                if decisive(r) {
                    return r.clone();
                }
            }
            match (ra, rb) {
                (Outcome::Decided(_, mut wa), Outcome::Decided(_, wb)) => {
                    wa.extend(wb);
                    Outcome::Decided(Val::Bool(is_and), wa)
                }
                (Outcome::Unknown(mut ma), Outcome::Unknown(mb)) => {
                    ma.extend(mb);
                    Outcome::Unknown(ma)
                }
                (Outcome::Unknown(m), _) | (_, Outcome::Unknown(m)) => Outcome::Unknown(m),
            }
        }
        Expr::Cmp(op, a, b) => match (eval(a, lookup), eval(b, lookup)) {
            (Outcome::Decided(x, _), Outcome::Decided(y, _)) => {
                let result = match (op, &x, &y) {
                    (&"==", _, _) => x == y,
                    (&"!=", _, _) => x != y,
                    (o, Val::Int(p), Val::Int(q)) => match *o {
                        "<" => p < q,
                        "<=" => p <= q,
                        ">" => p > q,
                        _ => p >= q,
                    },
                    _ => false,
                };
                let why = format!(
                    "{} {op} {}: {}",
                    describe(a, &x),
                    describe(b, &y),
                    if result { "yes" } else { "no" }
                );
                Outcome::Decided(Val::Bool(result), vec![why])
            }
            (Outcome::Unknown(mut m), Outcome::Unknown(n)) => {
                m.extend(n);
                Outcome::Unknown(m)
            }
            (Outcome::Unknown(m), _) | (_, Outcome::Unknown(m)) => Outcome::Unknown(m),
        },
        Expr::In(a, items) => match eval(a, lookup) {
            Outcome::Decided(x, _) => {
                let result = items.contains(&x);
                let list: Vec<String> = items.iter().map(Val::show).collect();
                Outcome::Decided(
                    Val::Bool(result),
                    vec![format!(
                        "{} in [{}]: {}",
                        describe(a, &x),
                        list.join(", "),
                        if result { "yes" } else { "no" }
                    )],
                )
            }
            unknown => unknown,
        },
        Expr::Arith(op, a, b) => match (eval(a, lookup), eval(b, lookup)) {
            (Outcome::Decided(Val::Int(x), _), Outcome::Decided(Val::Int(y), _)) => {
                Outcome::Decided(
                    Val::Int(if *op == "+" {
                        x.saturating_add(y)
                    } else {
                        x.saturating_sub(y)
                    }),
                    Vec::new(),
                )
            }
            (Outcome::Unknown(mut m), Outcome::Unknown(n)) => {
                m.extend(n);
                Outcome::Unknown(m)
            }
            (Outcome::Unknown(m), _) | (_, Outcome::Unknown(m)) => Outcome::Unknown(m),
            _ => Outcome::Unknown(BTreeSet::new()),
        },
    }
}

fn describe(e: &Expr, v: &Val) -> String {
    match e {
        Expr::Attr(name, _) => format!("{name} ({})", v.show()),
        _ => v.show(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(name: &str) -> Option<Type> {
        match name {
            "age" | "household_size" => Some(Type::Int),
            "pregnant" => Some(Type::Bool),
            "region" => Some(Type::Text),
            _ => None,
        }
    }

    fn run(rule: &str, facts: &[(&str, Val)]) -> Outcome {
        let e = parse(rule, &schema).unwrap();
        eval(&e, &|n| {
            facts.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn three_valued_logic_and_explanations() {
        let r = run(
            "age >= 65 and region in [\"서울\", \"부산\"]",
            &[("age", Val::Int(70)), ("region", Val::Text("서울".into()))],
        );
        assert!(
            matches!(&r, Outcome::Decided(Val::Bool(true), why) if why.len() == 2 && why[0].contains("age (70) >= 65")),
            "{r:?}"
        );
        // False on one side decides an and, even with the other side unknown.
        assert!(matches!(
            run("age >= 65 and pregnant", &[("age", Val::Int(30))]),
            Outcome::Decided(Val::Bool(false), _)
        ));
        assert_eq!(
            run("age >= 65 and pregnant", &[("age", Val::Int(70))]),
            Outcome::Unknown(BTreeSet::from(["pregnant".to_string()]))
        );
        assert!(matches!(
            run("pregnant or age < 1", &[("pregnant", Val::Bool(true))]),
            Outcome::Decided(Val::Bool(true), _)
        ));
        assert!(matches!(
            run("not pregnant", &[("pregnant", Val::Bool(false))]),
            Outcome::Decided(Val::Bool(true), _)
        ));
        assert!(matches!(
            run(
                "household_size - 1 >= 2",
                &[("household_size", Val::Int(3))]
            ),
            Outcome::Decided(Val::Bool(true), _)
        ));
        assert!(matches!(
            run("age > -1", &[("age", Val::Int(0))]),
            Outcome::Decided(Val::Bool(true), _)
        ));
    }

    #[test]
    fn bad_rules_are_refused_when_parsed() {
        assert_eq!(
            parse("salary > 3", &schema),
            Err(RuleError::UnknownAttribute("salary".into()))
        );
        for bad in [
            "age >",
            "age >= \"x\"",
            "pregnant and 3",
            "(age > 1",
            "age > 1 age",
            "region < \"a\"",
            "age in [\"x\"]",
            "\"open",
            "age @ 3",
            "and",
            "age +",
        ] {
            assert!(parse(bad, &schema).is_err(), "{bad}");
        }
        let deep = format!("{}age > 1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep, &schema).is_err());
        assert!(parse(&"age > 1 and ".repeat(300), &schema).is_err());
    }
}
