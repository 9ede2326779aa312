//! Stage 3: checked policies → a resolved, index-based form the evaluator
//! runs without any name lookup. Each policy's expressions live in one
//! arena of [`Node`]s addressed by [`NodeId`]; constants are folded to
//! [`Value`]s, enum lists become bit sets.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::calendar::Calendar;
use crate::check::hir::{self, Builtin, Const, Func, OutField, TExpr, TKind, TMatch, TPart, Ty};
use crate::day::{Day, Zone};
use crate::eval::output::Decider;
use crate::schema::{EnumType, FieldId, Schema};
use crate::source::{SourceMap, Span};
use crate::value::{Text, Value};
use crate::vocab::{BinOp, RuleKind, Unit, Verdict};
use crate::words::{self, Word};

mod plan;
mod test;
pub use plan::{Plan, Planned};
pub use test::{Leaf, Test};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The comparison with its operands swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            same => same,
        }
    }

    /// Whether two values that compare as `ord` pass the comparison.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        // The orderings each comparison accepts, as bits (less, equal,
        // greater): a table lookup and a shift, not a jump per operator.
        let accepts: u8 = match self {
            Cmp::Eq => 0b010,
            Cmp::Ne => 0b101,
            Cmp::Lt => 0b001,
            Cmp::Le => 0b011,
            Cmp::Gt => 0b100,
            Cmp::Ge => 0b110,
        };
        accepts >> (ord as i8 + 1) & 1 != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Const(Value),
    Field(FieldId),
    Builtin(Builtin),
    Not(NodeId),
    Neg(NodeId),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Cmp(Cmp, NodeId, NodeId),
    Arith(Arith, NodeId, NodeId),
    /// A date moved by a duration; `origin` is the field the date came
    /// from, named when the calendar cannot answer.
    DateShift {
        date: NodeId,
        count: u32,
        unit: Unit,
        back: bool,
        origin: Option<FieldId>,
    },
    /// Membership of an enum value in a fixed set of variants.
    InSet {
        value: NodeId,
        set: u128,
        negated: bool,
    },
    In {
        value: NodeId,
        list: Vec<NodeId>,
        negated: bool,
    },
    Is {
        field: FieldId,
        present: bool,
    },
    Within {
        value: NodeId,
        count: u32,
        unit: Unit,
        anchor: NodeId,
        origin: Option<FieldId>,
    },
    If {
        cond: NodeId,
        then: NodeId,
        els: NodeId,
    },
    Match {
        scrutinee: NodeId,
        /// The node for each variant of the scrutinee's enum (arms covering
        /// several variants are one shared node).
        arms: Vec<NodeId>,
    },
    Max(Vec<NodeId>),
    Min(Vec<NodeId>),
    List(Vec<NodeId>),
    Range(NodeId, NodeId),
    /// A named predicate; evaluates its body, named in traces.
    Named {
        name: Arc<str>,
        body: NodeId,
    },
    /// A string with values put in; constants are already text.
    Format(Vec<FormatPart>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormatPart {
    Text(Arc<str>),
    /// A value shown as the trace shows it; `enums` names an enum's values.
    Value {
        node: NodeId,
        enums: Option<Arc<EnumType>>,
    },
}

impl Node {
    /// The nodes this one reads, in order.
    pub fn children(&self) -> Vec<NodeId> {
        match self {
            Node::Const(_) | Node::Field(_) | Node::Builtin(_) | Node::Is { .. } => vec![],
            Node::Not(x) | Node::Neg(x) | Node::Named { body: x, .. } => vec![*x],
            Node::And(a, b)
            | Node::Or(a, b)
            | Node::Cmp(_, a, b)
            | Node::Arith(_, a, b)
            | Node::Range(a, b) => vec![*a, *b],
            Node::DateShift { date, .. } => vec![*date],
            Node::InSet { value, .. } => vec![*value],
            Node::In { value, list, .. } => std::iter::once(*value)
                .chain(list.iter().copied())
                .collect(),
            Node::Within { value, anchor, .. } => vec![*value, *anchor],
            Node::If { cond, then, els } => vec![*cond, *then, *els],
            Node::Match { scrutinee, arms } => std::iter::once(*scrutinee)
                .chain(arms.iter().copied())
                .collect(),
            Node::Max(a) | Node::Min(a) | Node::List(a) => a.clone(),
            Node::Format(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    FormatPart::Value { node, .. } => Some(*node),
                    FormatPart::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// A named constant and its value as the policy writes it.
pub type ConstantShown = (Arc<str>, Arc<str>);

#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub kind: RuleKind,
    pub name: Arc<str>,
    pub label: Option<Arc<str>>,
    pub when: Option<NodeId>,
    /// `when` as deciding reads it when nothing is watched.
    pub test: Option<Test>,
    pub verdict: Option<Verdict>,
    pub outcome: Vec<(OutField, NodeId)>,
    /// `outcome` as deciding reads it when nothing is watched.
    pub plan: Box<[Planned]>,
    pub name_span: Span,
    /// The rule as its decisions name it.
    pub decider: &'static Decider,
}

#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub name: Arc<str>,
    /// The policy's name where it is declared.
    pub name_span: Span,
    pub label: Option<Arc<str>>,
    pub version: Option<Arc<str>>,
    pub channel: u32,
    pub currency: Word,
    /// `currency` as a request's text, compared with a request's in place.
    pub currency_text: Text,
    pub timezone: TimeZone,
    /// The same time zone, as deciding turns timestamps into days.
    pub zone: Zone,
    pub calendar: Arc<Calendar>,
    pub nodes: Vec<Node>,
    pub spans: Vec<Span>,
    /// The named constants a node was written with, and their values as
    /// written (`high_value_threshold` → `20000.00 CNY`): the trace shows
    /// them beside the request's values.
    pub constants: HashMap<NodeId, Vec<ConstantShown>>,
    pub rejects: Vec<CompiledRule>,
    pub rules: Vec<CompiledRule>,
    pub afters: Vec<CompiledRule>,
    /// Names for `decided_by` values: the `rules`, by index.
    pub rule_names: Vec<Arc<str>>,
    /// Whether deciding needs no evaluator: no `after` rules, every
    /// condition a [`Test`] of plain leaves ([`Test::is_plain`]), every
    /// outcome a plan ([`Planned::is_plain`]).
    pub plain: bool,
}

impl CompiledPolicy {
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize)
    }

    pub fn span(&self, id: NodeId) -> Span {
        self.spans.get(id.0 as usize).copied().unwrap_or_default()
    }
}

/// A guarantee of the checker that did not hold (`rpl::compile::internal`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum CompileError {
    #[error("internal error while compiling: {what} (at {at})")]
    #[diagnostic(
        code(rpl::compile::internal),
        help(
            "this is a bug in rpl, not in your policy; the policies were refused rather than compiled wrongly; please report it with them"
        )
    )]
    Internal { what: String, at: String },
}

/// A whole policy directory, ready to evaluate. Immutable and `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub schema: Arc<Schema>,
    pub policies: Vec<CompiledPolicy>,
    /// Policy index for each channel value.
    by_channel: Vec<Option<usize>>,
    pub sources: Arc<SourceMap>,
    pub vocab: Vocab,
    /// The fields that name the currency of a money field, each once.
    pub currency_fields: Vec<FieldId>,
}

/// The output vocabularies as words held for the process, indexed by enum
/// value, so a decision names its route or documents by reference.
#[derive(Debug, Clone)]
pub struct Vocab {
    pub route: &'static [Word],
    pub documents: &'static [Word],
    pub offers: &'static [Word],
    pub return_shipping: &'static [Word],
    pub installments: &'static [Word],
}

fn vocabulary(e: &EnumType) -> &'static [Word] {
    words::vocabulary(e.variants().iter().map(String::as_str))
}

impl Compiled {
    /// `file:line:column` of a span, as traces and reports write it.
    pub fn location(&self, span: Span) -> String {
        match self.sources.get(span.file) {
            Some(f) => {
                let (line, col) = f.line_col(span.start);
                format!("{}:{line}:{col}", f.name)
            }
            None => String::new(),
        }
    }

    /// The policy for a request's channel.
    pub fn policy_for(&self, request: &crate::request::Request) -> Option<&CompiledPolicy> {
        match request.get(self.schema.channel) {
            Value::Enum(i) => self.policy_for_channel_indexed(*i).map(|(_, p)| p),
            _ => None,
        }
    }

    /// The policy for a channel and its index in `policies`.
    pub fn policy_for_channel_indexed(&self, channel: u32) -> Option<(usize, &CompiledPolicy)> {
        let i = self.by_channel.get(channel as usize).copied().flatten()?;
        self.policies.get(i).map(|p| (i, p))
    }
}

/// Compiles a checked program. It cannot fail on a program the checker
/// passed; a broken guarantee is a [`CompileError`], never a node that
/// would answer something plausible.
pub fn compile(program: &hir::Program) -> Result<Compiled, CompileError> {
    let schema = Arc::clone(&program.schema);
    let policies: Vec<CompiledPolicy> = program
        .policies
        .iter()
        .map(|p| compile_policy(p, &program.sources))
        .collect::<Result<_, _>>()?;
    let mut by_channel = vec![None; schema.channels.variants().len()];
    for (i, p) in policies.iter().enumerate() {
        if let Some(slot) = by_channel.get_mut(p.channel as usize) {
            *slot = Some(i);
        }
    }
    let d = &schema.decision;
    let vocab = Vocab {
        route: vocabulary(&d.route),
        documents: vocabulary(&d.documents),
        offers: vocabulary(&d.offers),
        return_shipping: vocabulary(&d.return_shipping),
        installments: vocabulary(&d.installments),
    };
    let mut currency_fields = Vec::new();
    for f in &schema.fields {
        if let crate::schema::FieldType::Money { currency_field, .. } = &f.ty
            && !currency_fields.contains(currency_field)
        {
            currency_fields.push(*currency_field);
        }
    }
    Ok(Compiled {
        schema,
        policies,
        by_channel,
        sources: Arc::clone(&program.sources),
        vocab,
        currency_fields,
    })
}

struct Builder {
    nodes: Vec<Node>,
    spans: Vec<Span>,
    /// Outcome expressions shared by several rules (a policy's defaults),
    /// by address: compiled once, so the arena grows with the policy's
    /// text, not with rules × defaults.
    shared: HashMap<*const TExpr, NodeId>,
    /// The first broken guarantee met, with where.
    broken: Option<CompileError>,
    /// To name where, in an error, and to quote constants as written.
    sources: Arc<SourceMap>,
    constants: HashMap<NodeId, Vec<ConstantShown>>,
}

fn compile_policy(
    p: &hir::CheckedPolicy,
    sources: &Arc<SourceMap>,
) -> Result<CompiledPolicy, CompileError> {
    let mut b = Builder {
        nodes: Vec::new(),
        spans: Vec::new(),
        shared: HashMap::new(),
        broken: None,
        sources: Arc::clone(sources),
        constants: HashMap::new(),
    };
    let mut rejects = Vec::new();
    let mut rules = Vec::new();
    let mut afters = Vec::new();
    for r in &p.rules {
        let when = r.when.as_ref().map(|w| b.expr(w));
        let outcome: Vec<(OutField, NodeId)> = r
            .outcome
            .iter()
            .flat_map(|o| &o.fields)
            .map(|(f, e)| (*f, b.shared_expr(e)))
            .collect();
        // A constant message is the one the rule's decisions share.
        let message = outcome
            .iter()
            .find_map(|(f, n)| match b.nodes.get(n.0 as usize) {
                Some(Node::Const(Value::Str(text))) if *f == OutField::Message => Some(text),
                _ => None,
            });
        let compiled = CompiledRule {
            kind: r.kind,
            name: Arc::clone(&r.name),
            label: r.label.clone(),
            when,
            test: when.map(|w| Test::of(&b.nodes, w)),
            verdict: r.outcome.as_ref().map(|o| o.verdict),
            plan: outcome
                .iter()
                .map(|&(field, node)| Planned::of(&b.nodes, field, node))
                .collect(),
            outcome,
            name_span: r.name_span,
            decider: words::decider(
                &p.name,
                p.version.as_deref(),
                &r.name,
                message
                    .map(|t| t.as_str())
                    .or(r.label.as_deref())
                    .unwrap_or(&r.name),
            ),
        };
        match r.kind {
            RuleKind::Reject => rejects.push(compiled),
            RuleKind::Rule => rules.push(compiled),
            RuleKind::After => afters.push(compiled),
        }
    }
    if let Some(e) = b.broken {
        return Err(e);
    }
    let rule_names = rules
        .iter()
        .map(|r: &CompiledRule| Arc::clone(&r.name))
        .collect();
    let plain = afters.is_empty()
        && rejects.iter().chain(&rules).all(|r| {
            r.test.as_ref().is_none_or(Test::is_plain) && r.plan.iter().all(Planned::is_plain)
        });
    Ok(CompiledPolicy {
        name: Arc::clone(&p.name),
        name_span: p.name_span,
        label: p.label.clone(),
        version: p.version.clone(),
        channel: p.channel,
        currency: words::word(&p.currency),
        currency_text: Text::from(p.currency.as_ref()),
        timezone: p.timezone.clone(),
        zone: Zone::new(p.timezone.clone()),
        calendar: Arc::clone(&p.calendar),
        nodes: b.nodes,
        spans: b.spans,
        constants: b.constants,
        rejects,
        rules,
        afters,
        rule_names,
        plain,
    })
}

/// A constant's value; `None` for a duration, which only the nodes that
/// shift or bound dates consume.
fn const_value(c: &Const, ty: &Ty) -> Option<Value> {
    Some(match c {
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) if *ty == Ty::Decimal => Value::Decimal((*i).into()),
        Const::Int(i) => Value::Int(*i),
        Const::Decimal(d) => Value::Decimal(*d),
        Const::Money(m) => Value::Money(*m),
        // Shared, so that decisions name a constant message by its address.
        Const::Str(s) => Value::Str(Text::from(Arc::clone(s))),
        Const::Enum(i) => Value::Enum(*i),
        Const::Date(d) => Value::Date(Day::of(*d)),
        Const::None => Value::Absent,
        Const::Duration { .. } => return None,
    })
}

/// A constant's value as a message or the trace shows it: text without
/// quotes, money with its currency, an enum value by name, a list as
/// `[a, b]`; `None` for an expression that is not a constant value.
fn const_text(e: &TExpr) -> Option<String> {
    Some(match (&e.kind, &e.ty) {
        (TKind::Named { body, .. }, _) => return const_text(body),
        (TKind::List(items), _) => {
            let items: Option<Vec<String>> = items.iter().map(const_text).collect();
            list_of(&items?)
        }
        (TKind::Const(Const::Money(m)), Ty::Money(currency)) => {
            format!("{} {currency}", crate::eval::output::format_amount(m))
        }
        (TKind::Const(Const::Enum(i)), Ty::Enum(e)) => e.variant(*i).to_owned(),
        (TKind::Const(c), _) => match c {
            Const::Bool(b) => b.to_string(),
            Const::Int(i) => i.to_string(),
            Const::Decimal(d) => d.to_string(),
            Const::Str(s) => s.to_string(),
            Const::Date(d) => d.to_string(),
            Const::Duration { count, unit } => duration_text(*count, *unit),
            Const::None => "none".to_owned(),
            Const::Money(_) | Const::Enum(_) => return None,
        },
        _ => return None,
    })
}

fn list_of(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// `7 days`, `1 year`, `15 working days`.
fn duration_text(count: u32, unit: Unit) -> String {
    let name = unit.name();
    if count == 1 {
        format!("1 {}", name.strip_suffix('s').unwrap_or(name))
    } else {
        format!("{count} {name}")
    }
}

/// The first request field a date expression reads, to name in errors.
fn origin(e: &TExpr) -> Option<FieldId> {
    match &e.kind {
        TKind::Field(f) => Some(*f),
        TKind::Named { body, .. } => origin(body),
        TKind::Binary(_, a, b) => origin(a).or_else(|| origin(b)),
        TKind::If { then, els, .. } => origin(then).or_else(|| origin(els)),
        TKind::Call(_, args) => args.iter().find_map(origin),
        _ => None,
    }
}

fn duration_of(e: &TExpr) -> Option<(u32, Unit)> {
    match &e.kind {
        TKind::Const(Const::Duration { count, unit }) => Some((*count, *unit)),
        TKind::Named { body, .. } => duration_of(body),
        _ => None,
    }
}

impl Builder {
    fn shared_expr(&mut self, e: &Arc<TExpr>) -> NodeId {
        if let Some(id) = self.shared.get(&Arc::as_ptr(e)) {
            return *id;
        }
        let id = self.expr(e);
        self.shared.insert(Arc::as_ptr(e), id);
        id
    }

    fn push(&mut self, node: Node, span: Span) -> NodeId {
        let Ok(id) = u32::try_from(self.nodes.len()) else {
            self.fail("more nodes than an id can number", span);
            return NodeId(0);
        };
        self.nodes.push(node);
        self.spans.push(span);
        NodeId(id)
    }

    /// Records a broken guarantee; the policy is refused when done.
    fn fail(&mut self, what: &str, span: Span) {
        let at = match self.sources.get(span.file) {
            Some(f) => {
                let (line, column) = f.line_col(span.start);
                format!("{}:{line}:{column}", f.name)
            }
            None => format!("byte {} of file {}", span.start, span.file.0),
        };
        self.broken.get_or_insert_with(|| CompileError::Internal {
            what: what.to_owned(),
            at,
        });
    }

    /// A constant's node; a duration standing alone is a broken guarantee.
    fn constant(&mut self, c: &Const, ty: &Ty, span: Span) -> Node {
        match const_value(c, ty) {
            Some(v) => Node::Const(v),
            None => {
                self.fail("a duration outside a date shift or window", span);
                Node::Const(Value::Absent)
            }
        }
    }

    fn expr(&mut self, e: &TExpr) -> NodeId {
        let id = self.node_of(e);
        self.note_constants(id, e);
        id
    }

    /// Records the constants `e`'s operands were written as, with their
    /// values, for the trace.
    fn note_constants(&mut self, id: NodeId, e: &TExpr) {
        let mut shown: Vec<ConstantShown> = Vec::new();
        let operand = |x: &TExpr, shown: &mut Vec<ConstantShown>| {
            for (name, span) in x.constants() {
                shown.push((name, self.shown_constant(x.unnamed(), span)));
            }
        };
        match &e.kind {
            TKind::Binary(_, a, b) => {
                operand(a, &mut shown);
                operand(b, &mut shown);
            }
            TKind::Not(x) | TKind::Neg(x) => operand(x, &mut shown),
            TKind::In {
                value, list, named, ..
            } => {
                operand(value, &mut shown);
                let items: Option<Vec<String>> = list.iter().map(const_text).collect();
                for (name, span) in named {
                    let text = items
                        .as_ref()
                        .map_or_else(|| self.as_written(*span), |i| list_of(i).into());
                    shown.push((Arc::clone(name), text));
                }
            }
            TKind::Within {
                count, unit, named, ..
            } => {
                for (name, _) in named {
                    shown.push((Arc::clone(name), duration_text(*count, *unit).into()));
                }
            }
            _ => {}
        }
        if !shown.is_empty() {
            self.constants.insert(id, shown);
        }
    }

    /// A constant's value for people: its value when the policy gives it
    /// outright, else its expression as written (comments left out).
    fn shown_constant(&self, body: &TExpr, span: Span) -> Arc<str> {
        const_text(body).map_or_else(|| self.as_written(span), Arc::from)
    }

    /// An expression as the policy writes it, on one line, without its
    /// comments (which may be notes not meant for a customer).
    fn as_written(&self, span: Span) -> Arc<str> {
        let text = self.sources.slice(span);
        let code: Vec<&str> = text
            .lines()
            .map(|l| l.find("//").map_or(l, |c| l.get(..c).unwrap_or(l)))
            .collect();
        Arc::from(
            code.join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    fn node_of(&mut self, e: &TExpr) -> NodeId {
        let node = match &e.kind {
            TKind::Const(c) => self.constant(c, &e.ty, e.span),
            TKind::Field(f) => Node::Field(*f),
            TKind::Builtin(b) => Node::Builtin(*b),
            TKind::Not(x) => Node::Not(self.expr(x)),
            TKind::Neg(x) => Node::Neg(self.expr(x)),
            TKind::Binary(op, a, b) => return self.binary(*op, a, b, e),
            TKind::In {
                value,
                list,
                negated,
                ..
            } => {
                let set = enum_set(list);
                let value = self.expr(value);
                match set {
                    Some(set) => Node::InSet {
                        value,
                        set,
                        negated: *negated,
                    },
                    None => Node::In {
                        value,
                        list: list.iter().map(|x| self.expr(x)).collect(),
                        negated: *negated,
                    },
                }
            }
            TKind::Is { field, present } => Node::Is {
                field: *field,
                present: *present,
            },
            TKind::Within {
                value,
                count,
                unit,
                anchor,
                ..
            } => Node::Within {
                value: self.expr(value),
                count: *count,
                unit: *unit,
                origin: origin(anchor),
                anchor: self.expr(anchor),
            },
            TKind::If { cond, then, els } => Node::If {
                cond: self.expr(cond),
                then: self.expr(then),
                els: self.expr(els),
            },
            TKind::Match(m) => {
                let TMatch {
                    scrutinee,
                    arms,
                    by_variant,
                } = &**m;
                let scrutinee = self.expr(scrutinee);
                // Each arm compiles once; variants that share it share its node.
                let compiled: Vec<NodeId> = arms.iter().map(|a| self.expr(a)).collect();
                let arms: Option<Vec<NodeId>> = by_variant
                    .iter()
                    .map(|i| compiled.get(*i as usize).copied())
                    .collect();
                match arms {
                    Some(arms) => Node::Match { scrutinee, arms },
                    // Dropping one would move every later value onto the
                    // wrong arm.
                    None => {
                        self.fail("a `match` value names an arm that is not there", e.span);
                        Node::Match {
                            scrutinee,
                            arms: Vec::new(),
                        }
                    }
                }
            }
            TKind::Call(f, args) => {
                let args = args.iter().map(|a| self.expr(a)).collect();
                match f {
                    Func::Max => Node::Max(args),
                    Func::Min => Node::Min(args),
                }
            }
            TKind::List(items) => {
                // A list of constants is one constant value.
                let values: Option<Vec<Value>> = items
                    .iter()
                    .map(|i| match &i.kind {
                        TKind::Const(c) => const_value(c, &i.ty),
                        _ => None,
                    })
                    .collect();
                match values {
                    Some(v) => Node::Const(Value::List(v.into())),
                    None => Node::List(items.iter().map(|i| self.expr(i)).collect()),
                }
            }
            TKind::Named { name, body } => {
                // Constants fold away; predicates stay named for the trace.
                if e.ty != Ty::Bool {
                    return self.expr(body);
                }
                Node::Named {
                    name: Arc::clone(name),
                    body: self.expr(body),
                }
            }
            TKind::Template(parts) => self.template(parts),
        };
        self.push(node, e.span)
    }

    /// A template: constants become text as the policy writes them (`7
    /// days`, `20000.00 CNY`), other values are shown when deciding.
    fn template(&mut self, parts: &[TPart]) -> Node {
        let mut out: Vec<FormatPart> = Vec::new();
        let mut text = String::new();
        for p in parts {
            let value = match p {
                TPart::Text(t) => {
                    text.push_str(t);
                    continue;
                }
                TPart::Value(v) => v,
            };
            // A constant goes in as its value reads (`7 days`, `20000.00
            // CNY`, text without quotes), once, here.
            if !value.constants().is_empty()
                && let Some(written) = const_text(value.unnamed())
            {
                text.push_str(&written);
                continue;
            }
            if !text.is_empty() {
                out.push(FormatPart::Text(Arc::from(std::mem::take(&mut text))));
            }
            let enums = match &value.ty {
                Ty::Enum(e) => Some(Arc::clone(e)),
                Ty::List(t) => match &**t {
                    Ty::Enum(e) => Some(Arc::clone(e)),
                    _ => None,
                },
                _ => None,
            };
            out.push(FormatPart::Value {
                node: self.expr(value),
                enums,
            });
        }
        if out.is_empty() {
            return Node::Const(Value::Str(Text::from(Arc::<str>::from(text))));
        }
        if !text.is_empty() {
            out.push(FormatPart::Text(Arc::from(text)));
        }
        Node::Format(out)
    }

    fn binary(&mut self, op: BinOp, a: &TExpr, b: &TExpr, e: &TExpr) -> NodeId {
        if let Some((count, unit)) =
            duration_of(b).filter(|_| matches!(op, BinOp::Add | BinOp::Sub))
        {
            let date = self.expr(a);
            let node = Node::DateShift {
                date,
                count,
                unit,
                back: op == BinOp::Sub,
                origin: origin(a),
            };
            return self.push(node, e.span);
        }
        let (l, r) = (self.expr(a), self.expr(b));
        let node = match op {
            BinOp::And => Node::And(l, r),
            BinOp::Or => Node::Or(l, r),
            BinOp::Eq => Node::Cmp(Cmp::Eq, l, r),
            BinOp::Ne => Node::Cmp(Cmp::Ne, l, r),
            BinOp::Lt => Node::Cmp(Cmp::Lt, l, r),
            BinOp::Le => Node::Cmp(Cmp::Le, l, r),
            BinOp::Gt => Node::Cmp(Cmp::Gt, l, r),
            BinOp::Ge => Node::Cmp(Cmp::Ge, l, r),
            BinOp::Add => Node::Arith(Arith::Add, l, r),
            BinOp::Sub => Node::Arith(Arith::Sub, l, r),
            BinOp::Mul => Node::Arith(Arith::Mul, l, r),
            BinOp::Div => Node::Arith(Arith::Div, l, r),
            BinOp::Range => Node::Range(l, r),
        };
        self.push(node, e.span)
    }
}

/// The variants of a list of enum constants as a bit set, when they fit.
fn enum_set(list: &[TExpr]) -> Option<u128> {
    let mut set = 0u128;
    for item in list {
        let mut e = item;
        while let TKind::Named { body, .. } = &e.kind {
            e = body;
        }
        match (&e.kind, &e.ty) {
            (TKind::Const(Const::Enum(i)), Ty::Enum(_)) if *i < 128 => set |= 1u128 << i,
            _ => return None,
        }
    }
    Some(set)
}

#[cfg(test)]
mod tests;
