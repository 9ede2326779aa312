//! The schema's fields as a tree of groups addressed by index: what the
//! typed request decoder walks, so that reading a request compares keys
//! with a group's few names and builds no paths.

use super::names::Names;
use super::{Field, FieldId};
use crate::value::Value;

/// The most fields and groups a layout addresses: a request's "seen" and
/// "given" sets are fixed-size bit sets of this many bits. A schema with
/// more has no layout and every request takes the document decoder.
const MAX_MEMBERS: usize = Bits::CAPACITY;

#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// `groups[0]` is the request itself.
    pub groups: Vec<Group>,
    /// The value of every field before the request gives any: its default,
    /// or [`Value::Absent`].
    pub defaults: Vec<Value>,
    /// The fields a request must give, by [`FieldId`].
    pub required: Bits,
}

/// The names directly inside a group, with what each is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    pub members: Vec<(Box<str>, Member)>,
    /// Each member's name, with its bit (see [`Layout::member`]) as payload.
    names: Names,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    Field(FieldId),
    /// The group at this index of [`Layout::groups`].
    Group(u32),
}

impl Layout {
    /// `None` when the schema has more than [`MAX_MEMBERS`] fields and
    /// groups, or a name that is both a field and a group.
    pub(super) fn new(fields: &[Field]) -> Option<Layout> {
        let mut groups = vec![Group::default()];
        let mut required = Bits::default();
        for (i, f) in fields.iter().enumerate() {
            let id = FieldId(u32::try_from(i).ok()?);
            let mut group = 0;
            let mut segments = f.path.split('.').peekable();
            while let Some(seg) = segments.next() {
                let last = segments.peek().is_none();
                let found = groups
                    .get(group)?
                    .members
                    .iter()
                    .find(|(name, _)| &**name == seg)
                    .map(|(_, m)| *m);
                group = match (found, last) {
                    (None, true) => {
                        groups
                            .get_mut(group)?
                            .members
                            .push((seg.into(), Member::Field(id)));
                        break;
                    }
                    (None, false) => {
                        let next = u32::try_from(groups.len()).ok()?;
                        groups
                            .get_mut(group)?
                            .members
                            .push((seg.into(), Member::Group(next)));
                        groups.push(Group::default());
                        next as usize
                    }
                    (Some(Member::Group(g)), false) => g as usize,
                    (Some(_), _) => return None,
                };
            }
            if f.required {
                required.insert(i);
            }
        }
        if fields.len() + groups.len() > MAX_MEMBERS {
            return None;
        }
        let fields_len = fields.len();
        for g in &mut groups {
            let bits = g.members.iter().map(|(name, member)| {
                let bit = match member {
                    Member::Field(id) => id.0 as usize,
                    Member::Group(g) => fields_len + *g as usize,
                };
                (&**name, u32::try_from(bit).unwrap_or(u32::MAX))
            });
            g.names = Names::new(bits);
        }
        Some(Layout {
            groups,
            defaults: fields.iter().map(|f| f.default.clone()).collect(),
            required,
        })
    }

    /// The member marked by `bit` in a group's object: a field's id, or a
    /// group's index past the fields (what [`Group::find`] gives).
    #[inline]
    pub fn member(&self, bit: usize) -> Option<Member> {
        let fields = self.defaults.len();
        let n = u32::try_from(bit.checked_sub(fields).unwrap_or(bit)).ok()?;
        Some(if bit < fields {
            Member::Field(FieldId(n))
        } else {
            Member::Group(n)
        })
    }
}

impl Group {
    /// The [`Layout::member`] bit of the member `key` names, and where
    /// the member is in the group; the key before it in its object named
    /// the member at `after` (see [`Names::find_next`]).
    #[inline]
    pub fn find(&self, key: &str, after: Option<u32>) -> Option<(usize, u32)> {
        self.names
            .find_next(key, after)
            .map(|(at, bit)| (bit as usize, at))
    }

    /// The member whose key `text` (from after a key's opening quote)
    /// starts with, when it is one [`Group::find`] tries first: its bit,
    /// where it is, and the bytes its key takes with the closing quote.
    #[inline]
    pub fn guess(&self, text: &[u8], after: Option<u32>) -> Option<(usize, u32, usize)> {
        self.names
            .guess(text, after)
            .map(|(at, bit, n)| (bit as usize, at, n))
    }
}

/// A fixed-size bit set: no allocation per request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Bits([u64; 4]);

impl Bits {
    const CAPACITY: usize = 256;

    /// Sets bit `i`; whether it was already set. Bits past the capacity
    /// are never asked for (the layout refuses such schemas).
    pub fn insert(&mut self, i: usize) -> bool {
        match self.0.get_mut(i / 64) {
            Some(word) => {
                let mask = 1 << (i % 64);
                let was = *word & mask != 0;
                *word |= mask;
                was
            }
            None => false,
        }
    }

    /// Whether every bit of `other` is set here.
    pub fn covers(&self, other: &Bits) -> bool {
        self.0.iter().zip(other.0).all(|(a, b)| a & b == b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn the_builtin_schema_has_a_layout_of_its_groups() {
        let schema = Schema::builtin().unwrap();
        let layout = schema.layout.as_ref().unwrap();
        // Every group names what `Schema::children` lists for it, in order,
        // and every field sits at its own path.
        let mut groups = vec![(String::new(), 0)];
        let mut fields = 0;
        while let Some((path, g)) = groups.pop() {
            let members = &layout.groups[g as usize].members;
            let names: Vec<&str> = members.iter().map(|(n, _)| &**n).collect();
            assert_eq!(names, schema.children(&path).unwrap(), "group {path:?}");
            for (name, member) in members {
                let at = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                match member {
                    Member::Field(id) => {
                        assert_eq!(schema.lookup(&at), Some(*id));
                        fields += 1;
                    }
                    Member::Group(child) => groups.push((at, *child)),
                }
            }
        }
        assert_eq!(fields, schema.fields.len());
        for (i, f) in schema.fields.iter().enumerate() {
            assert_eq!(
                layout.required.0[i / 64] >> (i % 64) & 1 == 1,
                f.required,
                "{}",
                f.path
            );
        }
    }

    #[test]
    fn a_group_finds_each_of_its_names_and_nothing_else() {
        let schema = Schema::builtin().unwrap();
        let layout = schema.layout.as_ref().unwrap();
        for group in &layout.groups {
            for (name, member) in &group.members {
                let bit = group.find(name, None).map(|(bit, _)| bit);
                assert_eq!(bit.and_then(|b| layout.member(b)), Some(*member), "{name}");
                for other in [format!("{name}_"), name[1..].to_owned(), format!("x{name}")] {
                    assert_eq!(group.find(&other, None), None, "{other}");
                }
            }
            assert_eq!(group.find("", None), None);
        }
    }

    #[test]
    fn bits_track_what_was_seen() {
        let mut b = Bits::default();
        assert!(!b.insert(3));
        assert!(b.insert(3));
        assert!(!b.insert(200));
        let mut need = Bits::default();
        need.insert(3);
        need.insert(70);
        assert!(!b.covers(&need));
        b.insert(70);
        assert!(b.covers(&need));
    }
}
